#include <gtest/gtest.h>

#include "sim/cluster/cluster_run.h"

namespace lockstep::sim {
namespace {

RunOptions options_for(uint64_t seed, std::vector<std::string> workloads, FaultPlan faults) {
  RunOptions options;
  options.cluster.seed = seed;
  options.cluster.member_count = 5;
  options.workloads = std::move(workloads);
  options.duration = std::chrono::seconds(6);
  options.settle = std::chrono::seconds(4);
  options.faults = faults;
  return options;
}

void expect_passes(const RunResult& result) {
  EXPECT_TRUE(result.passed()) << result.summary();
  for (const CheckOutcome& check : result.checks) {
    EXPECT_EQ(check.verdict, CheckOutcome::Verdict::kPass) << check.name << ": " << check.detail;
  }
}

TEST(ClusterTest, KvWorkloadWithoutFaultsIsLinearizable) {
  Result<RunResult> result = run_workloads(options_for(1, {"kv"}, FaultPlan::none()));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_passes(*result);
  EXPECT_GT(result->operations_ok, 100u);
  EXPECT_EQ(result->operations_indeterminate, 0u);
}

}  // namespace
}  // namespace lockstep::sim
