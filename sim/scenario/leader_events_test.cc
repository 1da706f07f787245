// Faults triggered by cluster events (FaultSpec::on): they hit the member the event is about
// at the instant it happens, count occurrences from their at_ms on, and replay with the seed.
#include "sim/scenario/leader_events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/scenario/scenario_test_support.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;

Scenario parse(const std::string& faults) {
  Result<Scenario> scenario = parse_scenario(R"({
    "name": "event_triggers",
    "cluster": {"members": 3},
    "workloads": [{"type": "kv", "clients": 2}],
    "duration_ms": 2000,
    "heal_ms": 2000,
    "liveness_bound_ms": 2000,
    "faults": [)" + faults + "]}");
  EXPECT_TRUE(scenario.is_ok()) << scenario.error().to_string();
  return scenario.is_ok() ? *scenario : Scenario{};
}

std::vector<const AppliedFault*> faults_of(const ScenarioResult& result, std::string_view action) {
  std::vector<const AppliedFault*> found;
  for (const AppliedFault& fault : result.faults) {
    if (fault.action == action) found.push_back(&fault);
  }
  return found;
}

// The term in a triggered fault's detail ("on leader_elected of member 2 in term 3 at ...").
uint64_t term_in(const std::string& detail) {
  const size_t at = detail.find(" in term ");
  EXPECT_NE(at, std::string::npos) << detail;
  uint64_t term = 0;
  const char* begin = detail.data() + at + 9;
  std::from_chars(begin, detail.data() + detail.size(), term);
  return term;
}

// The member the timeline shows leading `term`, or 0.
uint64_t leader_of(const ScenarioResult& result, uint64_t term) {
  for (const TimelineEvent& event : result.timeline) {
    if (event.what == "leader" && event.term == term) return event.member;
  }
  return 0;
}

// The leader is cut off at 300 ms; the member elected next is crashed the moment it wins, and
// `previous_leader` is the one cut off.
TEST(EventTriggers, LeaderElectedHitsTheNewLeaderAtOnce) {
  const Scenario scenario = parse(R"(
    {"at_ms": 300, "action": "partition", "target": "leader", "duration_ms": 400},
    {"at_ms": 300, "on": "leader_elected", "action": "crash", "target": "event_member",
     "duration_ms": 300},
    {"at_ms": 300, "on": "leader_elected", "action": "pause", "target": "previous_leader",
     "delay_ms": 20, "duration_ms": 50})");
  Result<ScenarioResult> result = run_scenario(scenario, 3);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  const std::vector<const AppliedFault*> cut = faults_of(*result, "partition");
  const std::vector<const AppliedFault*> crash = faults_of(*result, "crash");
  const std::vector<const AppliedFault*> pause = faults_of(*result, "pause");
  ASSERT_EQ(cut.size(), 1U);
  ASSERT_EQ(crash.size(), 1U) << "a triggered fault fires once";
  ASSERT_EQ(pause.size(), 1U);
  EXPECT_NE(crash[0]->detail.find("on leader_elected of member " + crash[0]->targets),
            std::string::npos)
      << crash[0]->detail;
  EXPECT_NE(crash[0]->targets, cut[0]->targets) << "the cut-off leader cannot win";
  EXPECT_GE(crash[0]->start_ms, 300);
  EXPECT_GT(term_in(crash[0]->detail), 1U);
  EXPECT_EQ(pause[0]->targets, cut[0]->targets) << pause[0]->detail;
  EXPECT_EQ(pause[0]->start_ms, crash[0]->start_ms + 20) << "delay_ms after the same event";
  EXPECT_TRUE(result->passed()) << failures(*result);

  // Same seed, same events, same faults: the same trace.
  Result<ScenarioResult> again = run_scenario(scenario, 3);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->trace_hash, result->trace_hash);
}

// leader_committed fires on a leader's first commit after its election; occurrence 2 waits
// for the second such event after at_ms; an event that never comes fires nothing.
TEST(EventTriggers, LeaderCommittedAndOccurrences) {
  const Scenario scenario = parse(R"(
    {"at_ms": 0, "on": "leader_committed", "action": "clock_offset", "target": "event_member",
     "offset_ms": 1},
    {"at_ms": 500, "action": "crash", "target": "leader", "duration_ms": 200},
    {"at_ms": 500, "on": "leader_committed", "occurrence": 1, "action": "clock_offset",
     "target": "event_member", "offset_ms": 2},
    {"at_ms": 0, "on": "leader_elected", "occurrence": 2, "action": "clock_drift",
     "target": "event_member", "drift_ppm": 10},
    {"at_ms": 0, "on": "leader_elected", "occurrence": 1000, "action": "pause", "target": "all"})");
  Result<ScenarioResult> result = run_scenario(scenario, 5);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  const std::vector<const AppliedFault*> offsets = faults_of(*result, "clock_offset");
  ASSERT_EQ(offsets.size(), 2U);
  // The first leader's first commit, then the next leader's after the crash at 500 ms.
  EXPECT_EQ(leader_of(*result, term_in(offsets[0]->detail)), std::stoull(offsets[0]->targets));
  EXPECT_LT(offsets[0]->start_ms, 500);
  EXPECT_GE(offsets[1]->start_ms, 500);
  EXPECT_GT(term_in(offsets[1]->detail), term_in(offsets[0]->detail));
  EXPECT_NE(offsets[1]->detail.find("leader_committed"), std::string::npos);
  const std::vector<const AppliedFault*> drift = faults_of(*result, "clock_drift");
  ASSERT_EQ(drift.size(), 1U);
  EXPECT_EQ(term_in(drift[0]->detail), term_in(offsets[1]->detail))
      << "the second election is the one after the crash";
  EXPECT_TRUE(faults_of(*result, "pause").empty()) << "the 1000th election never came";
  EXPECT_TRUE(result->passed()) << failures(*result);
}

// Figure 8's first steps: the leader cut off at 300 ms; the moment the next one wins, every
// cut is healed and the winner cut off. The first cut's record ends at the heal.
TEST(EventTriggers, HealAtAnElectionEndsTheCutsBeforeIt) {
  const Scenario scenario = parse(R"(
    {"at_ms": 300, "action": "partition", "target": "leader"},
    {"at_ms": 300, "on": "leader_elected", "action": "heal"},
    {"at_ms": 300, "on": "leader_elected", "action": "partition", "target": "event_member",
     "duration_ms": 300})");
  Result<ScenarioResult> result = run_scenario(scenario, 2);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  const std::vector<const AppliedFault*> cuts = faults_of(*result, "partition");
  const std::vector<const AppliedFault*> heal = faults_of(*result, "heal");
  ASSERT_EQ(cuts.size(), 2U);
  ASSERT_EQ(heal.size(), 1U);
  EXPECT_EQ(cuts[0]->end_ms, heal[0]->start_ms);
  EXPECT_EQ(heal[0]->end_ms, heal[0]->start_ms);
  EXPECT_EQ(cuts[1]->start_ms, heal[0]->start_ms) << "both fire at the election's instant";
  EXPECT_EQ(cuts[1]->end_ms, cuts[1]->start_ms + 300);
  EXPECT_NE(cuts[0]->targets, cuts[1]->targets);
  EXPECT_TRUE(result->passed()) << failures(*result);
}

}  // namespace
}  // namespace lockstep::sim::scenario
