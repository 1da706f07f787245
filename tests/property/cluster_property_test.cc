// The cluster property: for any generated scenario — cluster (3-5 members, Raft knobs),
// network loss, workloads and a fault schedule (crashes with torn writes and restarts,
// pauses, partitions, clogs, lossy windows, on the leader, a follower, a minority or anyone)
// — every check of the run holds: linearizability, Raft safety, liveness and convergence
// after healing, and each workload's own guarantees. A failure shrinks to the smallest such
// scenario and is printed as a scenario file with its seed (`lockstep sim run` replays it).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sim/scenario/run_report.h"
#include "tests/property/cluster_case.h"

namespace lockstep::property {

// How RapidCheck prints a (shrunk) counterexample: the scenario and how to replay it.
void showValue(const ClusterCase& run_case, std::ostream& out) {
  out << describe_case(run_case);
}

namespace {

RC_GTEST_PROP(ClusterProperty, every_check_holds, (const ClusterCase& run_case)) {
  Result<sim::scenario::ScenarioResult> result = run_cluster_case(run_case);
  RC_ASSERT(result.is_ok());
  const std::string failed = failed_checks(*result);
  RC_TAG(run_case.scenario.cluster.members);
  if (!failed.empty()) {
    RC_FAIL("checks failed: " + failed + "\ntrace_hash " +
            sim::scenario::format_trace_hash(result->trace_hash));
  }
}

// What RapidCheck prints for a counterexample is a scenario file: it parses back to the very
// scenario that ran, and names the seed, so `lockstep sim run` replays the case.
TEST(ClusterProperty, printed_counterexample_is_the_scenario_file) {
  for (int size = 0; size <= 100; size += 25) {
    const ClusterCase run_case =
        rc::gen::arbitrary<ClusterCase>()(rc::Random(static_cast<uint64_t>(size) + 1), size)
            .value();
    const std::string printed = describe_case(run_case);
    Result<sim::scenario::Scenario> parsed = printed_scenario(printed);
    ASSERT_TRUE(parsed.is_ok()) << parsed.error().to_string() << "\n" << printed;
    EXPECT_EQ(*parsed, run_case.scenario) << printed;
    EXPECT_NE(printed.find("--seed " + std::to_string(run_case.seed)), std::string::npos);
  }
}

}  // namespace
}  // namespace lockstep::property
