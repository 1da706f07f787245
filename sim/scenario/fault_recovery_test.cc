// Standard scenarios whose faults members only survive by recovering: storage errors end a
// member's process (etcd exits on them) and the heal phase, or the repair of the disk, starts
// it again; clock steps must not move lease expiry; a removed leader hands over. Each must
// pass every check. Seed 1 of each is kept here; `lockstep sim explore` runs many more.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::sim::scenario {
namespace {

Scenario standard(const std::string& name) {
  std::ifstream in(std::string(LOCKSTEP_SCENARIOS_DIR) + "/" + name + ".json");
  std::stringstream text;
  text << in.rdbuf();
  Result<Scenario> scenario = parse_scenario(text.str());
  EXPECT_TRUE(scenario.is_ok()) << name << ": " << scenario.error().to_string();
  return scenario.is_ok() ? *scenario : Scenario{};
}

std::string failures(const ScenarioResult& result) {
  std::string text;
  for (const CheckReport& check : result.checks) {
    if (check.verdict != CheckOutcome::Verdict::kPass) {
      text += check.name + ": " + check.detail + "\n";
    }
  }
  for (const std::string& exit : result.member_exits) text += "exit " + exit + "\n";
  return text;
}

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
