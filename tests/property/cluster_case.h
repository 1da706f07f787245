#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster/cluster_run.h"

namespace lockstep::property {

// One generated simulated run: a cluster (size and Raft knobs), a network, a fault schedule
// and workloads. The schedule is the fault plan's counts and window plus the seed, from
// which the nemesis draws targets and instants; shrinking a case lowers the counts, the
// knobs and the duration toward the smallest run that still fails.
struct ClusterCase {
  uint64_t seed = 1;
  int members = 3;
  int election_timeout_ticks = 10;
  int heartbeat_interval_ticks = 1;
  double loss = 0;  // on every path, during the whole run
  int crashes = 0;
  int partitions = 0;
  int pauses = 0;
  double fault_window_loss = 0;  // extra loss during the fault window
  std::vector<std::string> workloads = {"kv"};
  int clients = 2;
  int64_t duration_ms = 2'000;
};

sim::RunOptions to_run_options(const ClusterCase& run_case);

// The case as a scenario-style JSON document (cluster, network, workloads, faults, seed) and
// the command lines that replay it.
std::string describe_case(const ClusterCase& run_case);

// The names of the checks that did not pass ("" when all did).
std::string failed_checks(const sim::RunResult& result);

}  // namespace lockstep::property

namespace rc {

template <>
struct Arbitrary<lockstep::property::ClusterCase> {
  static Gen<lockstep::property::ClusterCase> arbitrary();
};

}  // namespace rc
