#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "checker/history.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {

// The faults a run injects, drawn from the world's "nemesis" stream so a seed replays them.
// Every fault happens inside the fault window and is healed by its end, so the rest of the
// run checks liveness (the cluster serves again) as well as safety.
struct FaultPlan {
  int crashes = 0;          // member crashes (torn unsynced writes), each restarted later
  int partitions = 0;       // episodes isolating the leader or a random minority
  int pauses = 0;           // member pauses (a GC stall, a stuck VM), each resumed later
  double message_loss = 0;  // probability on every path, for the whole fault window
  // Faults start after this fraction of the workload and heal before this one.
  double window_start_fraction = 0.1;
  double window_end_fraction = 0.7;
  Duration max_fault_duration = std::chrono::seconds(2);

  static FaultPlan none() { return FaultPlan{}; }
  static FaultPlan standard() {
    FaultPlan plan;
    plan.crashes = 2;
    plan.partitions = 2;
    plan.pauses = 1;
    plan.message_loss = 0.01;
    return plan;
  }
};

struct RunOptions {
  ClusterConfig cluster;
  std::vector<std::string> workloads = {"kv"};
  int clients_per_workload = 3;
  Duration duration = std::chrono::seconds(10);  // clients issue operations this long
  Duration settle = std::chrono::seconds(5);     // then wind down and converge
  FaultPlan faults;
  // The linearizability search gives up (verdict unknown) after this many steps; 0 = never.
  uint64_t max_check_steps = 50'000'000;
  // Lets the caller bound the checker by wall time (the CLI owns the clock; checker/ and
  // sim/ never read it).
  std::function<bool()> checker_should_stop;
};

struct RunResult {
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  Duration simulated_time{0};
  uint64_t operations_ok = 0;
  uint64_t operations_failed = 0;
  uint64_t operations_indeterminate = 0;
  uint64_t watch_events = 0;
  uint64_t raft_entries_applied = 0;
  size_t leader_terms = 0;
  uint64_t messages_delivered = 0;
  uint64_t messages_dropped = 0;
  std::vector<std::string> faults_injected;
  std::vector<std::string> member_exits;
  std::vector<CheckOutcome> checks;
  checker::History history;
  // The watch and lock records as history.jsonl lines (guarantee_records_jsonl).
  std::string guarantee_records;
  // With cluster.record_trace: the members' own trace events ("member.*"), for debugging.
  std::vector<std::string> member_trace;

  bool passed() const;
  std::string summary() const;  // a multi-line human-readable report
};

// Boots a cluster, runs the workloads with the fault plan, heals, lets the cluster settle,
// and runs every check (cluster_checks.h): linearizability (etcd model), Raft safety from
// member reports, liveness and convergence after healing, each workload's own checks, and
// the watch and lock guarantees when those workloads ran.
Result<RunResult> run_workloads(const RunOptions& options);

}  // namespace lockstep::sim
