#include "sim/scenario/shrinker.h"

#include <gtest/gtest.h>

namespace lockstep::sim::scenario {
namespace {

// Fails `liveness` on every seed: the bound (1 ms) is shorter than the four network hops a
// write needs. The crashes, partitions and extra workload around it are noise to shrink away.
Scenario impossible_liveness() {
  Scenario scenario;
  scenario.name = "impossible_liveness";
  scenario.cluster.members = 5;
  scenario.workloads = {{"kv", 4}, {"txn", 2}};
  scenario.duration_ms = 1600;
  scenario.heal_ms = 1000;
  scenario.liveness_bound_ms = 1;
  scenario.checks = {"liveness", "raft_safety"};
  const FaultTarget leader{FaultTarget::Kind::kLeader, 0};
  const FaultTarget minority{FaultTarget::Kind::kMinority, 0};
  scenario.faults = {
      {.at_ms = 200, .action = FaultAction::kCrash, .target = leader, .duration_ms = 200},
      {.at_ms = 500, .action = FaultAction::kPartition, .target = minority, .duration_ms = 300},
      {.at_ms = 900, .action = FaultAction::kPause, .target = leader, .duration_ms = 200},
      {.at_ms = 1200, .action = FaultAction::kCrash, .target = minority, .duration_ms = 200},
  };
  return scenario;
}

TEST(Shrinker, ReducesAFailingRunToASmallerOneFailingTheSameCheck) {
  const Scenario original = impossible_liveness();
  ShrinkOptions options;
  options.max_runs = 40;
  Result<ShrinkResult> result = shrink_scenario(original, 7, options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->check, "liveness");
  const Scenario& shrunk = result->shrunk;
  EXPECT_LT(shrunk.faults.size(), original.faults.size());
  EXPECT_LT(shrunk.duration_ms, original.duration_ms);
  EXPECT_LT(shrunk.workloads.size(), original.workloads.size());
  EXPECT_LT(shrunk.cluster.members, original.cluster.members);
  EXPECT_FALSE(result->steps.empty());
  EXPECT_LE(result->runs, options.max_runs);
  // The shrunk scenario really fails the same check with the same seed.
  Result<ScenarioResult> rerun = run_scenario(shrunk, 7);
  ASSERT_TRUE(rerun.is_ok());
  const std::vector<std::string> failed = rerun->failed_checks();
  EXPECT_NE(std::ranges::find(failed, "liveness"), failed.end());
}

TEST(Shrinker, RefusesAPassingRun) {
  Scenario scenario = impossible_liveness();
  scenario.liveness_bound_ms = 1000;
  scenario.faults.clear();
  Result<ShrinkResult> result = shrink_scenario(scenario, 7);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.error().detail().find("passes every check"), std::string::npos);
}

TEST(Shrinker, KeepsOnlyReductionsThatStillFail) {
  // A fake runner: the run fails `convergence` only while a crash of node:2 is in the
  // schedule and there are at least 3 members, so the shrinker must keep exactly that.
  Scenario scenario = impossible_liveness();
  scenario.faults.push_back({.at_ms = 100,
                             .action = FaultAction::kCrash,
                             .target = FaultTarget{FaultTarget::Kind::kNode, 2}});
  ShrinkOptions options;
  options.run = [](const Scenario& candidate, uint64_t seed) -> Result<ScenarioResult> {
    ScenarioResult result;
    result.seed = seed;
    const bool planted = std::ranges::any_of(candidate.faults, [](const FaultSpec& fault) {
      return fault.target == FaultTarget{FaultTarget::Kind::kNode, 2};
    });
    const bool fails = planted && candidate.cluster.members >= 3;
    result.checks.push_back({"convergence",
                             fails ? CheckOutcome::Verdict::kFail : CheckOutcome::Verdict::kPass,
                             "",
                             {}});
    return result;
  };
  Result<ShrinkResult> result = shrink_scenario(scenario, 1, options);
  ASSERT_TRUE(result.is_ok());
  ASSERT_EQ(result->shrunk.faults.size(), 1u);
  EXPECT_EQ(result->shrunk.faults[0].target, (FaultTarget{FaultTarget::Kind::kNode, 2}));
  EXPECT_EQ(result->shrunk.cluster.members, 3);
  EXPECT_EQ(result->shrunk.workloads.size(), 1u);
  EXPECT_EQ(result->shrunk.duration_ms, 200) << "halved while the planted fault stays inside";
}

}  // namespace
}  // namespace lockstep::sim::scenario
