#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "checker/history.h"
#include "core/base/time.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/history_recorder.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {

// The checks that judge a whole cluster run, after the simulation ended. One implementation
// for every driver: sim/cluster's run_workloads and sim/scenario's runner both call these.

struct LinearizabilityCheckOptions {
  // The search gives up (verdict unknown, never a silent pass) after this many steps; 0 = never.
  uint64_t max_steps = 50'000'000;
  // Lets cli/ bound the checker by wall time (sim/ never reads the clock).
  std::function<bool()> should_stop;
};

struct LinearizabilityOutcome {
  CheckOutcome outcome;
  // On a violation: the operation that cannot be linearized, then the longest linearizable
  // prefix the search found (history indices), cut to kMaxCounterexampleOperations.
  std::vector<uint32_t> counterexample_operations;
};
inline constexpr size_t kMaxCounterexampleOperations = 200;

// Linearizability of the history against checker/'s own etcd model (P-compositional search).
LinearizabilityOutcome check_linearizability(const checker::History& history,
                                             const LinearizabilityCheckOptions& options);

// Raft safety as the SafetyMonitor saw it: election safety, state machine safety, durable
// votes and terms.
CheckOutcome check_raft_safety(Cluster& cluster);

// Runs the world up to `grace` longer until every member not in `removed` is up and all of
// them are at the same revision; members that stopped on their own fail it.
CheckOutcome check_convergence(Cluster& cluster, const std::set<NodeId>& removed, Duration grace);

// A write succeeded within `bound` of the faults healing.
CheckOutcome check_liveness(std::optional<Instant> live_again, Instant heal_at, Duration bound);

// etcd's watch guarantees over the recorded watches and watched writes
// (checker::check_watches): one named outcome per guarantee ("watch: ordered", "watch:
// unique", ...). Empty when the run recorded no watch.
std::vector<CheckOutcome> check_watch_guarantees(const HistoryRecorder& recorder);

// Lock safety over the recorded holds and fenced writes (checker::check_locks): "lock: mutual
// exclusion", "lock: grant order", "lock: fencing". Empty when the run recorded no hold.
std::vector<CheckOutcome> check_lock_guarantees(const HistoryRecorder& recorder);

}  // namespace lockstep::sim
