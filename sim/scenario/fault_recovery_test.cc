// Standard scenarios whose faults members only survive by recovering: storage errors end a
// member's process (etcd exits on them) and the heal phase, or the repair of the disk, starts
// it again; clock steps must not move lease expiry; a removed leader hands over. Each must
// pass every check. Seed 1 of each is kept here; `lockstep sim explore` runs many more.
#include <gtest/gtest.h>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/scenario/scenario_test_support.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;
using test_support::standard;

class FaultRecoveryTest : public testing::TestWithParam<std::string> {};

TEST_P(FaultRecoveryTest, EveryCheckPasses) {
  Result<ScenarioResult> result = run_scenario(standard(GetParam()), 1);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_TRUE(result->passed()) << failures(*result);
}

INSTANTIATE_TEST_SUITE_P(Standard, FaultRecoveryTest,
                         testing::Values("disk_full", "fsync_eio", "clock_jumps_against_leases",
                                         "remove_leader_under_load"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace lockstep::sim::scenario
