// The operator's side of storage faults: a member that dies of a disk fault is repaired and
// restarted, whether the repair is a scheduled disk_repair of the stopped member or the
// supervisor of the liveness phase catching a death that came after the heal.
#include "sim/scenario/fault_injector.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/scenario/scenario_test_support.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;

Scenario parse(const std::string& text) {
  Result<Scenario> scenario = parse_scenario(text);
  EXPECT_TRUE(scenario.is_ok()) << scenario.error().to_string();
  return scenario.is_ok() ? *scenario : Scenario{};
}

// Whether the member's process came back (the timeline leaves "down") within [from_ms, to_ms).
bool restarted_between(const ScenarioResult& result, uint64_t member, int64_t from_ms,
                       int64_t to_ms) {
  bool down = false;
  for (const TimelineEvent& event : result.timeline) {
    if (event.member != member) continue;
    if (down && event.what != "down" && event.t_ms >= from_ms && event.t_ms < to_ms) return true;
    down = event.what == "down";
  }
  return false;
}

const AppliedFault* find_fault(const ScenarioResult& result, const std::string& action) {
  auto it = std::ranges::find(result.faults, action, &AppliedFault::action);
  return it == result.faults.end() ? nullptr : &*it;
}

// Member 3's next fsync fails long before the repair, so at 3000 ms its process is dead (not
// running): the repair must still find it, fix its disk and start it again.
TEST(FaultInjector, DiskRepairRestartsAMemberThatDiedOfItsDisk) {
  const Scenario scenario = parse(R"({
    "name": "repair_a_dead_member",
    "cluster": {"members": 3},
    "workloads": [{"type": "kv", "clients": 2}],
    "duration_ms": 5000,
    "heal_ms": 4000,
    "faults": [
      {"at_ms": 1000, "action": "disk_fsync_error", "target": "node:3", "count": 1},
      {"at_ms": 3000, "action": "disk_repair", "target": "node:3"}
    ]
  })");
  Result<ScenarioResult> result = run_scenario(scenario, 1);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  ASSERT_FALSE(result->member_exits.empty()) << "member 3 died of the failed fsync";
  const AppliedFault* repair = find_fault(*result, "disk_repair");
  ASSERT_NE(repair, nullptr);
  EXPECT_EQ(repair->targets, "3") << repair->detail;
  EXPECT_TRUE(restarted_between(*result, 3, 3000, 5000))
      << "the repair, not the heal, brought member 3 back";
  EXPECT_TRUE(result->passed()) << failures(*result);
}

// Member 3's clock is stepped back 6 s, so its ticker fiber sleeps until after the heal. Its
// fsync fails meanwhile: the member stops at once, but its process ends only when every fiber
// has, i.e. after the heal (which saw it running and had nothing to restart). The liveness
// phase must still restart it, or it never converges.
TEST(FaultInjector, AMemberThatDiesAfterTheHealIsRestarted) {
  const Scenario scenario = parse(R"({
    "name": "death_after_heal",
    "cluster": {"members": 3},
    "workloads": [{"type": "kv", "clients": 2}],
    "duration_ms": 4000,
    "heal_ms": 6000,
    "faults": [
      {"at_ms": 1000, "action": "clock_jump", "target": "node:3", "offset_ms": -6000},
      {"at_ms": 1500, "action": "disk_fsync_error", "target": "node:3", "count": 1}
    ]
  })");
  Result<ScenarioResult> result = run_scenario(scenario, 1);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  ASSERT_FALSE(result->member_exits.empty()) << "member 3 stopped on the failed fsync";
  EXPECT_TRUE(restarted_between(*result, 3, 4000, 10'000)) << failures(*result);
  EXPECT_TRUE(result->passed()) << failures(*result);
}

}  // namespace
}  // namespace lockstep::sim::scenario
