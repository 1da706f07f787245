#include <gtest/gtest.h>

#include <iostream>

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
  std::cout << result->summary();
  expect_passes(*result);
  EXPECT_GT(result->operations_ok, 100u);
  // Without faults no answer is lost.
  EXPECT_EQ(result->operations_indeterminate, 0u);
  EXPECT_EQ(result->leader_terms, 1u);
}

// The brief's acceptance test: a 5-member cluster runs each workload under crashes,
// partitions, pauses and message loss, and every check passes.
class WorkloadUnderFaultsTest : public testing::TestWithParam<std::string> {};

TEST_P(WorkloadUnderFaultsTest, EveryCheckPasses) {
  Result<RunResult> result = run_workloads(options_for(42, {GetParam()}, FaultPlan::standard()));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  std::cout << result->summary();
  expect_passes(*result);
  EXPECT_FALSE(result->faults_injected.empty());
  EXPECT_GT(result->operations_ok + result->watch_events, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllWorkloads, WorkloadUnderFaultsTest,
                         testing::Values("kv", "txn", "watch", "lease", "lock", "election",
                                         "config"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// DESIGN.md "Determinism": same binary, same seed ⇒ the same trace, byte for byte.
TEST(ClusterTest, SameSeedGivesTheSameTraceHash) {
  const RunOptions options = options_for(7, {"kv", "txn"}, FaultPlan::standard());
  Result<RunResult> first = run_workloads(options);
  Result<RunResult> second = run_workloads(options);
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(first->trace_hash, second->trace_hash);
  EXPECT_EQ(first->events, second->events);
  EXPECT_EQ(first->operations_ok, second->operations_ok);
  RunOptions other = options;
  other.cluster.seed = 8;
  Result<RunResult> third = run_workloads(other);
  ASSERT_TRUE(third.is_ok());
  EXPECT_NE(first->trace_hash, third->trace_hash);
}

TEST(ClusterTest, ConfigWorkloadWithoutFaultsConverges) {
  Result<RunResult> result = run_workloads(options_for(3, {"config"}, FaultPlan::none()));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  std::cout << result->summary();
  expect_passes(*result);
}

TEST(ClusterTest, UnknownWorkloadIsAnError) {
  Result<RunResult> result = run_workloads(options_for(1, {"bogus"}, FaultPlan::none()));
  EXPECT_EQ(result.code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace lockstep::sim
