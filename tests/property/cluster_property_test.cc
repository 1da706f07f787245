// The cluster property: for any generated cluster (3-5 members, Raft knobs, network loss),
// fault schedule (crashes with torn writes and restarts, partitions and heals, pauses, lossy
// windows) and workloads, every check of the run holds: linearizability, Raft safety,
// liveness and convergence after healing, and each workload's own guarantees. A failure
// shrinks to the smallest such run and is printed as a scenario-style JSON with its seed.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "tests/property/cluster_case.h"

namespace lockstep::property {

// How RapidCheck prints a (shrunk) counterexample: the scenario and how to replay it.
void showValue(const ClusterCase& run_case, std::ostream& out) {
  out << describe_case(run_case);
}

namespace {

RC_GTEST_PROP(ClusterProperty, every_check_holds, (const ClusterCase& run_case)) {
  Result<sim::RunResult> result = sim::run_workloads(to_run_options(run_case));
  RC_ASSERT(result.is_ok());
  const std::string failed = failed_checks(*result);
  RC_TAG(run_case.members);
  if (!failed.empty()) {
    RC_FAIL("checks failed: " + failed + "\ntrace_hash " + std::to_string(result->trace_hash));
  }
}

}  // namespace
}  // namespace lockstep::property
