#include "sim/determinism_check.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Two processes exchange messages with random think times; `runs` counts how often the
// scenario ran, so a test can make the second run behave differently on purpose.
void gossip_scenario(World& world, int& runs, bool misbehave_on_second_run) {
  ++runs;
  const bool misbehave = misbehave_on_second_run && runs == 2;
  for (uint64_t id : {1, 2}) {
    ASSERT_TRUE(world
                    .add_process(NodeId(id), "gossip",
                                 [id, misbehave](env::Runtime& runtime) {
                                   for (int round = 0; round < 30; ++round) {
                                     // The deliberate nondeterminism: state that leaks between runs
                                     // changes a sleep.
                                     const Duration think =
                                         misbehave && id == 2 && round == 17
                                             ? milliseconds(3)
                                             : Duration(runtime.random().between(1'000, 2'000'000));
                                     runtime.sleep_for(think);
                                     runtime.network().send(NodeId(3 - id),
                                                            "round " + std::to_string(round));
                                     while (runtime.network().receive(runtime.now())) {
                                     }
                                   }
                                 })
                    .is_ok());
  }
  world.run_until(Instant(seconds(2)));
}

TEST(DeterminismCheck, SameSeedReplaysIdentically) {
  int runs = 0;
  const DeterminismReport report = check_determinism(
      WorldOptions::seeded(99), [&](World& world) { gossip_scenario(world, runs, false); });
  EXPECT_TRUE(report.deterministic);
  EXPECT_EQ(report.first_trace_hash, report.second_trace_hash);
  EXPECT_GT(report.first_event_count, 100u);
  EXPECT_FALSE(report.divergence.has_value());
  EXPECT_EQ(runs, 2);
}

TEST(DeterminismCheck, NamesTheFirstDivergentEvent) {
  int runs = 0;
  const DeterminismReport report = check_determinism(
      WorldOptions::seeded(99), [&](World& world) { gossip_scenario(world, runs, true); });
  ASSERT_FALSE(report.deterministic);
  EXPECT_NE(report.first_trace_hash, report.second_trace_hash);
  ASSERT_TRUE(report.divergence.has_value());
  const TraceDivergence& divergence = *report.divergence;
  ASSERT_TRUE(divergence.first_run.has_value());
  ASSERT_TRUE(divergence.second_run.has_value());
  EXPECT_EQ(divergence.first_run->index, divergence.index);
  EXPECT_NE(divergence.first_run->to_string(), divergence.second_run->to_string());
  // Everything before the divergence matched, and the divergence is at or after the point
  // where node 2 changed its behaviour (its 18th sleep), not at the start.
  EXPECT_GT(divergence.index, 50u);
  const std::string text = divergence.to_string();
  EXPECT_NE(text.find("first divergent event #" + std::to_string(divergence.index)),
            std::string::npos);
  EXPECT_NE(text.find("first run:"), std::string::npos);
  EXPECT_NE(text.find("second run:"), std::string::npos);
}

TEST(DeterminismCheck, FindFirstDivergenceHandlesAShorterTrace) {
  std::vector<TraceRecord> longer{TraceRecord{0, Instant(), 1, TraceKind::kUser, "a"},
                                  TraceRecord{1, Instant(), 1, TraceKind::kUser, "b"}};
  std::vector<TraceRecord> shorter{longer[0]};
  const auto divergence = find_first_divergence(longer, shorter);
  ASSERT_TRUE(divergence.has_value());
  EXPECT_EQ(divergence->index, 1u);
  EXPECT_TRUE(divergence->first_run.has_value());
  EXPECT_FALSE(divergence->second_run.has_value());
  EXPECT_FALSE(find_first_divergence(longer, longer).has_value());
}

}  // namespace
}  // namespace lockstep::sim
