#pragma once

#include <cstdint>
#include <optional>

#include "checker/history.h"
#include "core/base/time.h"
#include "sim/cluster/cluster_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {

// Liveness after the heal: once every fault is healed the cluster must commit a write again
// within a bound (check_liveness). What shows it is any write a client invoked at or after
// the heal and saw acknowledged: the commit came after the invoke, so after the heal. The
// workloads' clients supply most such writes; the probe client below makes sure one is tried
// even when the workloads write little or have stopped.
//
// Neither the probe nor the evidence can make a stuck cluster pass: only an acknowledged
// write counts, never a timed-out or refused one. What they remove is the false alarm of a
// healthy cluster whose probe was unlucky: with attempts as long as a client's (the member's
// request timeout + 500 ms), a 2 s bound held three attempts, and under 5% loss all three lost
// a message with p = 0.0975^3, about once in a thousand runs (docs/benchmarks/bugs.md).

// The probe makes at least this many attempts within the bound while nothing answers.
inline constexpr int64_t kLivenessProbeAttemptsPerBound = 8;
// No probe attempt is shorter than this, whatever the bound: a write on a healthy cluster is
// a few network hops and two fsyncs, milliseconds in every scenario of the library.
inline constexpr Duration kLivenessProbeAttemptMin = std::chrono::milliseconds(100);

// The probe's client options: attempts of bound / kLivenessProbeAttemptsPerBound, at least
// kLivenessProbeAttemptMin and at most the other clients' attempt timeout.
ClientOptions liveness_probe_client_options(const ClientOptions& clients, Duration bound);

// Adds the "liveness-probe" client: from heal_at until the environment's end_at it puts
// `liveness/probe` (recorded in the history like any client's write) until a put is
// acknowledged, with liveness_probe_client_options(environment.client_options, bound). An
// attempt that times out leaves an indeterminate write and the next one goes to another
// member, as ClusterClient does for every write.
void start_liveness_probe(WorkloadEnvironment& environment, Instant heal_at, Duration bound);

// The earliest acknowledgement of a write (a put, a delete, or a txn whose branch taken
// writes) that some client invoked at or after heal_at; nullopt when there is none.
std::optional<Instant> first_write_acknowledged_after(const checker::History& history,
                                                      Instant heal_at);

}  // namespace lockstep::sim
