#include "sim/scenario/scenario_parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lockstep::sim::scenario {
namespace {

constexpr std::string_view kMinimal = R"({
  "name": "minimal",
  "workloads": [{"type": "kv", "clients": 2}],
  "duration_ms": 2000,
  "faults": [
    {"at_ms": 100, "action": "crash", "target": "leader", "duration_ms": 300},
    {"at_ms": 200, "action": "partition", "target": "minority"},
    {"at_ms": 300, "action": "partition_one_way", "target": "node:1", "to": "node:2"},
    {"at_ms": 400, "action": "network", "loss": 0.1, "duplicate": 0.05}
  ]
})";

std::string error_of(std::string_view text) {
  Result<Scenario> parsed = parse_scenario(text);
  EXPECT_FALSE(parsed.is_ok()) << text;
  return parsed.is_ok() ? "" : std::string(parsed.error().detail());
}

// Replaces the first occurrence of `from` in the minimal scenario.
std::string minimal_with(std::string_view from, std::string_view to) {
  std::string text(kMinimal);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

TEST(ScenarioParser, ReadsEveryField) {
  Result<Scenario> parsed = parse_scenario(kMinimal);
  ASSERT_TRUE(parsed.is_ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->name, "minimal");
  ASSERT_EQ(parsed->workloads.size(), 1u);
  EXPECT_EQ(parsed->workloads[0].clients, 2);
  ASSERT_EQ(parsed->faults.size(), 4u);
  EXPECT_EQ(parsed->faults[0].target.kind, FaultTarget::Kind::kLeader);
  EXPECT_EQ(parsed->faults[0].duration_ms, 300);
  EXPECT_EQ(parsed->faults[2].target, (FaultTarget{FaultTarget::Kind::kNode, 1}));
  EXPECT_EQ(parsed->faults[2].to, (FaultTarget{FaultTarget::Kind::kNode, 2}));
  EXPECT_EQ(parsed->faults[3].loss, 0.1);
  EXPECT_EQ(parsed->faults[3].reorder, std::nullopt);
}

TEST(ScenarioParser, WrittenBackParsesToTheSameScenario) {
  Result<Scenario> parsed = parse_scenario(kMinimal);
  ASSERT_TRUE(parsed.is_ok());
  Result<Scenario> again = parse_scenario(scenario_to_json(*parsed));
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  EXPECT_EQ(*again, *parsed);
}

TEST(ScenarioParser, ErrorsNameTheFieldPath) {
  EXPECT_EQ(error_of(minimal_with("\"node:1\"", "\"nod:3\"")),
            "faults[2].target: unknown target \"nod:3\" (leader, follower, minority, majority, "
            "node:N, random, all, previous_leader, event_member)");
  EXPECT_EQ(error_of(minimal_with("\"node:2\"", "\"node:9\"")),
            "faults[2].to: node 9 is not a member (cluster.members is 5)");
  EXPECT_EQ(error_of(minimal_with("\"clients\": 2", "\"client\": 2")),
            "workloads[0].client: unknown field");
  EXPECT_EQ(error_of(minimal_with("\"kv\"", "\"kvv\"")).substr(0, 35),
            "workloads[0].type: unknown workload");
  EXPECT_EQ(error_of(minimal_with("\"loss\": 0.1", "\"loss\": 1.5")),
            "faults[3].loss: must be a probability in [0, 1]");
  EXPECT_EQ(error_of(minimal_with("\"action\": \"crash\"", "\"action\": \"crash\", \"loss\": 0.1")),
            "faults[0].loss: does not apply to action \"crash\"");
  EXPECT_EQ(
      error_of(minimal_with("\"at_ms\": 400", "\"at_ms\": 4000")),
      "faults[3].at_ms: must be before duration_ms (2000): faults belong to the safety phase");
  EXPECT_EQ(error_of(minimal_with("\"duration_ms\": 2000",
                                  "\"duration_ms\": 2000, \"cluster\": "
                                  "{\"members\": 0}")),
            "cluster.members: must be in [1, 15], got 0");
  EXPECT_EQ(error_of(minimal_with("\"duration_ms\": 2000", "\"duration_ms\": \"2s\"")),
            "duration_ms: must be an integer");
  EXPECT_EQ(error_of(minimal_with("\"name\": \"minimal\",", "")), "name: is required");
  EXPECT_EQ(error_of(minimal_with("\"duration_ms\": 2000",
                                  "\"duration_ms\": 2000, \"checks\": "
                                  "[\"linearisability\"]")),
            "checks[0]: unknown check \"linearisability\" (linearizability, raft_safety, "
            "liveness, convergence, workloads)");
  EXPECT_EQ(error_of(minimal_with("\"duration_ms\": 2000", "\"duration_ms\": 2000, \"extra\": 1")),
            "extra: unknown field");
  EXPECT_EQ(error_of("{\"name\": "), error_of("{\"name\": "));
  EXPECT_EQ(error_of("{\"name\": ").substr(0, 15), "not valid JSON:");
}

TEST(ScenarioParser, BackendAndMembershipFaults) {
  Result<Scenario> memory = parse_scenario(minimal_with("\"duration_ms\": 2000",
                                                        "\"duration_ms\": 2000, \"cluster\": "
                                                        "{\"backend\": \"memory\"}"));
  ASSERT_TRUE(memory.is_ok()) << memory.error().to_string();
  EXPECT_EQ(memory->cluster.backend, BackendKind::kMemory);
  EXPECT_EQ(parse_scenario(kMinimal)->cluster.backend, BackendKind::kSqlite) << "the default";
  EXPECT_EQ(error_of(minimal_with("\"duration_ms\": 2000",
                                  "\"duration_ms\": 2000, \"cluster\": "
                                  "{\"backend\": \"bolt\"}")),
            "cluster.backend: unknown backend \"bolt\" (sqlite, memory)");
  // A promote may name the member an earlier add_member created (id members + 1).
  Result<Scenario> membership = parse_scenario(
      minimal_with("\"action\": \"crash\"",
                   "\"action\": \"add_member\"}, {\"at_ms\": 150, \"action\": "
                   "\"promote_member\", \"target\": \"node:6\"}, {\"action\": \"crash\""));
  ASSERT_TRUE(membership.is_ok()) << membership.error().to_string();
  EXPECT_EQ(membership->faults[0].action, FaultAction::kAddMember);
  EXPECT_EQ(membership->faults[1].action, FaultAction::kPromoteMember);
  Result<Scenario> again = parse_scenario(scenario_to_json(*membership));
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  EXPECT_EQ(*again, *membership);
  EXPECT_EQ(error_of(minimal_with("\"action\": \"crash\", \"target\": \"leader\"",
                                  "\"action\": \"add_member\", \"target\": \"leader\"")),
            "faults[0].target: does not apply to add_member (it adds a new member)");
}

TEST(ScenarioParser, EventTriggers) {
  Result<Scenario> parsed = parse_scenario(minimal_with(
      "\"action\": \"crash\", \"target\": \"leader\"",
      "\"action\": \"crash\", \"target\": \"event_member\", \"on\": \"leader_elected\", "
      "\"occurrence\": 2, \"delay_ms\": 5}, {\"action\": \"partition\", \"target\": "
      "\"previous_leader\", \"on\": \"leader_committed\""));
  ASSERT_TRUE(parsed.is_ok()) << parsed.error().to_string();
  const FaultSpec& elected = parsed->faults[0];
  EXPECT_EQ(elected.on, FaultEvent::kLeaderElected);
  EXPECT_EQ(elected.occurrence, 2U);
  EXPECT_EQ(elected.delay_ms, 5);
  EXPECT_EQ(elected.target.kind, FaultTarget::Kind::kEventMember);
  const FaultSpec& committed = parsed->faults[1];
  EXPECT_EQ(committed.on, FaultEvent::kLeaderCommitted);
  EXPECT_EQ(committed.occurrence, 1U) << "the first event by default";
  EXPECT_EQ(committed.at_ms, 0) << "armed from the start by default";
  EXPECT_EQ(committed.target.kind, FaultTarget::Kind::kPreviousLeader);
  EXPECT_FALSE(parsed->faults[2].on) << "a fault without `on` fires at its at_ms";
  Result<Scenario> again = parse_scenario(scenario_to_json(*parsed));
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  EXPECT_EQ(*again, *parsed);

  const std::string_view crash = "\"action\": \"crash\"";
  EXPECT_EQ(error_of(minimal_with(crash, "\"action\": \"crash\", \"on\": \"leader_elect\"")),
            "faults[0].on: unknown event \"leader_elect\" (leader_elected, leader_committed)");
  EXPECT_EQ(error_of(minimal_with(crash, "\"action\": \"crash\", \"on\": 1")),
            "faults[0].on: must be a string");
  EXPECT_EQ(error_of(minimal_with(crash, "\"action\": \"crash\", \"occurrence\": 2")),
            "faults[0].occurrence: applies only to a fault with \"on\" (an event)");
  EXPECT_EQ(error_of(minimal_with(crash, "\"action\": \"crash\", \"delay_ms\": 2")),
            "faults[0].delay_ms: applies only to a fault with \"on\" (an event)");
  EXPECT_EQ(error_of(minimal_with(crash,
                                  "\"action\": \"crash\", \"on\": \"leader_elected\", "
                                  "\"occurrence\": 0")),
            "faults[0].occurrence: must be in [1, 1000000], got 0");
  EXPECT_EQ(error_of(minimal_with("\"target\": \"leader\"", "\"target\": \"event_member\"")),
            "faults[0].target: event_member needs \"on\" (the event whose member it is)");
  EXPECT_EQ(error_of(minimal_with("\"to\": \"node:2\"", "\"to\": \"event_member\"")),
            "faults[2].to: event_member needs \"on\" (the event whose member it is)");
}

// The hunt scenarios (scenarios/hunt, run by `sim hunt`) are scenario files like the others.
TEST(ScenarioParser, EveryHuntScenarioParses) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(LOCKSTEP_SCENARIOS_DIR) + "/hunt")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Result<Scenario> parsed = parse_scenario(text.str());
    EXPECT_TRUE(parsed.is_ok()) << entry.path() << ": " << parsed.error().to_string();
    if (parsed.is_ok()) {
      Result<Scenario> again = parse_scenario(scenario_to_json(*parsed));
      EXPECT_TRUE(again.is_ok() && *again == *parsed) << entry.path();
    }
    ++count;
  }
  EXPECT_GE(count, 7) << "one hunt scenario per planted bug";
}

TEST(ScenarioParser, EveryStandardScenarioParses) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LOCKSTEP_SCENARIOS_DIR)) {
    if (entry.path().extension() != ".json" || entry.path().filename() == "scenario.schema.json") {
      continue;
    }
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Result<Scenario> parsed = parse_scenario(text.str());
    EXPECT_TRUE(parsed.is_ok()) << entry.path() << ": " << parsed.error().to_string();
    if (parsed.is_ok()) {
      EXPECT_EQ(parsed->name, entry.path().stem().string()) << "a file is named after its scenario";
      Result<Scenario> again = parse_scenario(scenario_to_json(*parsed));
      EXPECT_TRUE(again.is_ok() && *again == *parsed) << entry.path();
    }
    ++count;
  }
  EXPECT_GE(count, 15) << "the standard library has at least 15 scenarios";
}

}  // namespace
}  // namespace lockstep::sim::scenario
