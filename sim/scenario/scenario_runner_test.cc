#include "sim/scenario/scenario_runner.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_test_support.h"
#include "sim/scenario/swarm.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;
using test_support::standard;

TEST(ScenarioRunner, LeaderCrashUnderLoadPassesOnSeveralSeeds) {
  const Scenario scenario = standard("leader_crash_under_load");
  for (uint64_t seed : {1, 2}) {
    Result<ScenarioResult> result = run_scenario(scenario, seed);
    ASSERT_TRUE(result.is_ok()) << result.error().to_string();
    EXPECT_TRUE(result->passed()) << "seed " << seed << "\n" << failures(*result);
    EXPECT_GT(result->operations_ok, 100u) << "the workload made progress";
    ASSERT_GE(result->faults.size(), 3u);  // two crashes and the heal
    EXPECT_EQ(result->faults[0].action, "crash");
    EXPECT_FALSE(result->faults[0].targets.empty()) << "a leader existed 1.5 s in";
    EXPECT_EQ(result->faults[0].end_ms, result->faults[0].start_ms + 1000)
        << "restarted after its duration";
    const bool crash_on_timeline = std::ranges::any_of(
        result->timeline, [](const TimelineEvent& event) { return event.what == "down"; });
    EXPECT_TRUE(crash_on_timeline);
    // Every check runs when the scenario lists none; kv and txn add no checks of their own
    // (linearizability judges them).
    EXPECT_EQ(result->checks.size(), 4u);
  }
}

TEST(ScenarioRunner, LeaderInMinorityPartitionPasses) {
  Result<ScenarioResult> result = run_scenario(standard("leader_in_minority_partition"), 3);
  ASSERT_TRUE(result.is_ok());
  EXPECT_TRUE(result->passed()) << failures(*result);
  EXPECT_GE(result->timeline.size(), 5u);
}

// A lock service's traffic (sessions, keep-alives, fenced writes) is judged by the lock
// checks, not in the linearizability history, so the summary counts client requests too.
TEST(ScenarioRunner, ClientRequestsCountTrafficOutsideTheCheckedHistory) {
  Scenario scenario = standard("lock_service_under_partitions");
  scenario.duration_ms = 2000;
  scenario.heal_ms = 2000;
  std::erase_if(scenario.faults, [&](const FaultSpec& fault) { return fault.at_ms >= 2000; });
  Result<ScenarioResult> result = run_scenario(scenario, 1);
  ASSERT_TRUE(result.is_ok());
  EXPECT_GT(result->client_requests, result->operations() + 100)
      << result->client_requests << " requests, " << result->operations() << " checked ops";
  Result<ScenarioResult> again = run_scenario(scenario, 1);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(result->client_requests, again->client_requests);
}

TEST(ScenarioRunner, SameSeedSameTraceHashOtherSeedOtherHash) {
  Scenario scenario = standard("flapping_partitions");
  scenario.duration_ms = 2000;
  scenario.heal_ms = 2000;
  scenario.liveness_bound_ms = 2000;
  std::erase_if(scenario.faults, [&](const FaultSpec& fault) { return fault.at_ms >= 2000; });
  Result<ScenarioResult> first = run_scenario(scenario, 11);
  Result<ScenarioResult> again = run_scenario(scenario, 11);
  Result<ScenarioResult> other = run_scenario(scenario, 12);
  ASSERT_TRUE(first.is_ok() && again.is_ok() && other.is_ok());
  EXPECT_EQ(first->trace_hash, again->trace_hash);
  EXPECT_EQ(first->events, again->events);
  EXPECT_EQ(first->operations(), again->operations());
  EXPECT_NE(first->trace_hash, other->trace_hash);
}

TEST(ScenarioRunner, OnlyTheListedChecksRunAndAnImpossibleBoundFails) {
  Scenario scenario = standard("leader_crash_under_load");
  scenario.duration_ms = 1000;
  scenario.heal_ms = 1000;
  scenario.faults = {FaultSpec{.at_ms = 500,
                               .action = FaultAction::kPause,
                               .target = FaultTarget{FaultTarget::Kind::kAll, 0}}};
  // Client → leader → followers → leader → client is four network hops of >= 0.5 ms each.
  scenario.liveness_bound_ms = 1;
  scenario.checks = {"liveness", "raft_safety"};
  Result<ScenarioResult> result = run_scenario(scenario, 5);
  ASSERT_TRUE(result.is_ok());
  ASSERT_EQ(result->checks.size(), 2u);
  EXPECT_EQ(result->failed_checks(), std::vector<std::string>{"liveness"});
  EXPECT_FALSE(result->passed());
}

TEST(ScenarioRunner, ReportFilesFollowTheContract) {
  Scenario scenario = standard("leader_crash_under_load");
  scenario.duration_ms = 2500;
  scenario.heal_ms = 2000;
  scenario.liveness_bound_ms = 2000;
  scenario.faults.resize(1);
  RunScenarioOptions options;
  options.record_trace = true;
  Result<ScenarioResult> result = run_scenario(scenario, 4, options);
  ASSERT_TRUE(result.is_ok());
  std::map<std::string, std::string> files;
  for (ReportFile& file : report_files(*result, 123)) files[file.name] = file.contents;
  for (const char* name : {"summary.json", "history.jsonl", "trace.jsonl", "timeline.json",
                           "checks.json", "scenario.json"}) {
    ASSERT_TRUE(files.contains(name)) << name;
    EXPECT_FALSE(files[name].empty()) << name;
  }
  Result<Scenario> written = parse_scenario(files["scenario.json"]);
  ASSERT_TRUE(written.is_ok());
  EXPECT_EQ(*written, scenario);
  const std::string summary = summary_json(*result, 123);
  for (const char* field : {"\"scenario\"", "\"seed\":4", "\"verdict\"", "\"checks\"",
                            "\"trace_hash\"", "\"sim_time_ms\"", "\"wall_ms\":123", "\"ops\""}) {
    EXPECT_NE(summary.find(field), std::string::npos) << field << " in " << summary;
  }
  EXPECT_NE(files["trace.jsonl"].find("\"t_ns\""), std::string::npos);
  EXPECT_NE(files["timeline.json"].find("\"crash\""), std::string::npos);
  // history.jsonl keeps world times; timeline.json says where the timeline's zero is on
  // that clock, so no operation lies before it.
  const nlohmann::json timeline = nlohmann::json::parse(files["timeline.json"]);
  ASSERT_TRUE(timeline.contains("origin_ns"));
  EXPECT_EQ(timeline["origin_ns"].get<int64_t>(), result->origin_ns);
  ASSERT_FALSE(result->history.operations.empty());
  for (const checker::Operation& operation : result->history.operations) {
    EXPECT_GE(operation.invoke_time, result->origin_ns);
  }
}

// Watch and lock workloads bring etcd's watch guarantees and lock safety as named checks,
// judged by checker/ over the records history.jsonl carries.
TEST(ScenarioRunner, WatchAndLockGuaranteesAreNamedChecks) {
  Scenario scenario = standard("leader_crash_under_load");
  scenario.workloads = {WorkloadSpec{"watch", 1}, WorkloadSpec{"lock", 3}};
  scenario.duration_ms = 4000;
  scenario.heal_ms = 3000;
  scenario.liveness_bound_ms = 3000;
  scenario.faults.resize(1);
  Result<ScenarioResult> result = run_scenario(scenario, 2);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_TRUE(result->passed()) << failures(*result);
  std::set<std::string> names;
  for (const CheckReport& check : result->checks) names.insert(check.name);
  for (const char* name :
       {"watch: ordered", "watch: unique", "watch: atomic", "watch: reliable", "watch: resumable",
        "watch: bookmarkable", "watch: prev_kv", "lock: mutual exclusion", "lock: fencing"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
  std::map<std::string, std::string> files;
  for (ReportFile& file : report_files(*result, 0)) files[file.name] = file.contents;
  for (const char* record :
       {"\"record\":\"write_log\"", "\"record\":\"committed\"", "\"record\":\"watch\"",
        "\"record\":\"lock_hold\"", "\"record\":\"fenced_write\""}) {
    EXPECT_NE(files["history.jsonl"].find(record), std::string::npos) << record;
  }
}

// add_member + promote_member + remove_member under load: the learner joins, is promoted,
// the leader leaves, and the new member converges with the rest.
TEST(ScenarioRunner, MembershipChangeUnderLoadPasses) {
  Result<ScenarioResult> result = run_scenario(standard("membership_change_under_load"), 1);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_TRUE(result->passed()) << failures(*result);
  std::map<std::string, std::string> detail_of;
  for (const AppliedFault& fault : result->faults) detail_of[fault.action] = fault.detail;
  EXPECT_EQ(detail_of["add_member"], "learner added");
  EXPECT_EQ(detail_of["promote_member"], "promoted to voter");
  EXPECT_EQ(detail_of["remove_member"], "acknowledged");
  const auto convergence = std::ranges::find_if(
      result->checks, [](const CheckReport& check) { return check.name == "convergence"; });
  ASSERT_NE(convergence, result->checks.end());
  EXPECT_NE(convergence->detail.find(" 4:"), std::string::npos) << convergence->detail;
  EXPECT_EQ(convergence->detail.find(" 4:down"), std::string::npos) << convergence->detail;
}

TEST(Swarm, DrawsAreDeterministicAndDifferBySeed) {
  Scenario base = standard("swarm_mixed_faults");
  ASSERT_TRUE(base.swarm);
  const Scenario first = draw_swarm_scenario(base, 1);
  EXPECT_EQ(first, draw_swarm_scenario(base, 1));
  EXPECT_NE(first.faults, draw_swarm_scenario(base, 2).faults);
  EXPECT_FALSE(first.swarm);
  EXPECT_FALSE(first.faults.empty());
  for (const FaultSpec& fault : first.faults) EXPECT_LT(fault.at_ms, base.duration_ms);
  // The drawn scenario is a valid scenario file.
  Result<Scenario> again = parse_scenario(scenario_to_json(first));
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  EXPECT_EQ(*again, first);
}

// What keeps a drawn schedule from leaving the liveness phase without a quorum: nothing that
// stops a member for good, every fault with an end (or healed by heal_everything), and no
// clock stepped back past the heal (a member's ticker sleeps through the step).
TEST(Swarm, NoDrawOutlastsTheHeal) {
  const Scenario base = standard("swarm_mixed_faults");
  int backward_jumps = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    for (const FaultSpec& fault : draw_swarm_scenario(base, seed).faults) {
      EXPECT_NE(fault.action, FaultAction::kDiskBitFlip) << "seed " << seed;
      EXPECT_NE(fault.action, FaultAction::kRemoveMember) << "seed " << seed;
      EXPECT_GT(fault.duration_ms, 0) << "seed " << seed;
      if (fault.action == FaultAction::kClockJump && fault.offset_ms < 0) {
        ++backward_jumps;
        EXPECT_LE(fault.at_ms - fault.offset_ms, base.duration_ms) << "seed " << seed;
      }
    }
  }
  EXPECT_GT(backward_jumps, 0) << "the draws still step clocks back";
}

// About a quarter of the drawn faults fire on an event (an election, a first commit) instead
// of at their time; a fault meant for the leader then hits the event's member. Every draw is
// still a valid scenario file.
TEST(Swarm, KeysSomeFaultsToEvents) {
  const Scenario base = standard("swarm_mixed_faults");
  int faults = 0;
  int triggered = 0;
  int on_event_member = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    const Scenario drawn = draw_swarm_scenario(base, seed);
    for (const FaultSpec& fault : drawn.faults) {
      ++faults;
      if (!fault.on) {
        EXPECT_NE(fault.target.kind, FaultTarget::Kind::kEventMember) << "seed " << seed;
        continue;
      }
      ++triggered;
      EXPECT_NE(fault.target.kind, FaultTarget::Kind::kLeader) << "seed " << seed;
      if (fault.target.kind == FaultTarget::Kind::kEventMember) ++on_event_member;
    }
    Result<Scenario> again = parse_scenario(scenario_to_json(drawn));
    ASSERT_TRUE(again.is_ok()) << "seed " << seed << ": " << again.error().to_string();
    EXPECT_EQ(*again, drawn) << "seed " << seed;
  }
  EXPECT_GT(triggered, faults / 8);
  EXPECT_LT(triggered, faults / 2);
  EXPECT_GT(on_event_member, 0);
}

}  // namespace
}  // namespace lockstep::sim::scenario
