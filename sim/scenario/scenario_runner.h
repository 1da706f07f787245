#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "checker/history.h"
#include "core/base/error.h"
#include "sim/cluster/workload.h"
#include "sim/scenario/scenario.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace lockstep::sim::scenario {

// One fault as it happened: what, on whom (resolved), from when until when (ms of virtual
// time since the run started; end_ms < 0 = lasted until the heal phase or was instantaneous).
struct AppliedFault {
  int64_t start_ms = 0;
  int64_t end_ms = -1;
  std::string action;
  std::string targets;  // "1 3" (member ids), or "" when the target did not exist then
  std::string detail;
};

// A member's role or term changed, or it crashed/restarted/paused (timeline for reports).
struct TimelineEvent {
  int64_t t_ms = 0;
  uint64_t member = 0;
  std::string what;  // "leader", "follower", "candidate", "down", "paused", ...
  uint64_t term = 0;
};

struct CheckReport {
  std::string name;
  CheckOutcome::Verdict verdict = CheckOutcome::Verdict::kPass;
  std::string detail;
  std::vector<uint32_t> counterexample_operations;  // history indices, linearizability only
};

struct ScenarioResult {
  Scenario scenario;  // the scenario as run (for swarm: the drawn one)
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  int64_t sim_time_ms = 0;
  // The world time (ns) at which the run started: the timeline's zero. History times are
  // world times, so history time - origin_ns = timeline time.
  int64_t origin_ns = 0;
  uint64_t operations_ok = 0;
  uint64_t operations_failed = 0;
  uint64_t operations_indeterminate = 0;
  // Every request the clients sent: lock, lease and watch traffic too, which the history of
  // linearizability-checked operations (operations()) leaves out.
  uint64_t client_requests = 0;
  uint64_t messages_delivered = 0;
  uint64_t messages_dropped = 0;
  std::vector<CheckReport> checks;  // the required checks only
  std::vector<AppliedFault> faults;
  std::vector<TimelineEvent> timeline;
  std::vector<std::string> member_exits;
  std::vector<ProbeHit> probes;
  std::vector<TraceRecord> trace;  // only when RunScenarioOptions::record_trace
  checker::History history;
  // The watch and lock records (sim::guarantee_records_jsonl), appended to history.jsonl.
  std::string guarantee_records;

  bool passed() const;
  uint64_t operations() const {
    return operations_ok + operations_failed + operations_indeterminate;
  }
  // The names of the checks that did not pass, in order.
  std::vector<std::string> failed_checks() const;
};

struct RunScenarioOptions {
  bool record_trace = false;
  // Bounds the linearizability search; unknown beyond (never a silent pass).
  uint64_t max_check_steps = 50'000'000;
  // Lets cli/ bound the checker by wall time (sim/ never reads the clock).
  std::function<bool()> checker_should_stop;
  // Called once the simulated part of the run is over (the world has stopped, convergence
  // included), before the history is built and judged: lets cli/ time the two phases.
  std::function<void()> on_simulation_end;
};

// Runs `scenario` with `seed`: boots the cluster, runs the workloads, applies the fault
// schedule during the safety phase (or a schedule drawn from the seed when scenario.swarm),
// heals everything, keeps clients running through the liveness phase, then judges the run
// with the scenario's checks. Same scenario + seed + binary ⇒ same trace_hash.
Result<ScenarioResult> run_scenario(const Scenario& scenario, uint64_t seed,
                                    const RunScenarioOptions& options = {});

// Member ids a scenario's cluster has.
std::vector<NodeId> scenario_member_ids(const Scenario& scenario);

}  // namespace lockstep::sim::scenario
