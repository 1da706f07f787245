#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/world.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Instant at(Duration duration) {
  return Instant(duration);
}

struct Received {
  NodeId from;
  std::string payload;
  Instant time;
};
using Inboxes = std::map<NodeId, std::vector<Received>>;

PathModel fixed_latency(Duration latency) {
  PathModel model;
  model.latency_min = latency;
  model.jitter_mean = Duration(0);
  return model;
}

// A process that records every message it receives.
void add_recorder(World& world, NodeId id, Inboxes& inboxes) {
  ASSERT_TRUE(
      world
          .add_process(
              id, "recorder",
              [id, &inboxes](env::Runtime& runtime) {
                while (auto message = runtime.network().receive(std::nullopt)) {
                  inboxes[id].push_back(Received{message->from, message->payload, runtime.now()});
                }
              })
          .is_ok());
}

// A process that records what it receives and, at each of `send_times`, sends one numbered
// message to each of `targets`.
void add_chatty(World& world, NodeId id, std::vector<NodeId> targets,
                std::vector<Instant> send_times, Inboxes& inboxes) {
  ASSERT_TRUE(
      world
          .add_process(
              id, "chatty",
              [=, &inboxes](env::Runtime& runtime) {
                runtime.spawn("receiver", [id, &runtime, &inboxes] {
                  while (auto message = runtime.network().receive(std::nullopt)) {
                    inboxes[id].push_back(Received{message->from, message->payload, runtime.now()});
                  }
                });
                int sequence = 0;
                for (Instant time : send_times) {
                  runtime.sleep_until(time);
                  for (NodeId target : targets)
                    runtime.network().send(target, std::to_string(sequence));
                  ++sequence;
                }
              })
          .is_ok());
}

std::vector<Instant> every_millisecond(int count, int start_ms = 10) {
  std::vector<Instant> times;
  for (int index = 0; index < count; ++index) times.push_back(at(milliseconds(start_ms + index)));
  return times;
}

TEST(WorldNetwork, DeliversAfterTheConfiguredLatencyInFifoOrder) {
  WorldOptions options = WorldOptions::seeded(1);
  options.default_path = fixed_latency(milliseconds(3));
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2)}, every_millisecond(5), inboxes);
  add_recorder(world, NodeId(2), inboxes);
  world.run_until(at(seconds(1)));
  const auto& got = inboxes[NodeId(2)];
  ASSERT_EQ(got.size(), 5u);
  for (int index = 0; index < 5; ++index) {
    EXPECT_EQ(got[index].payload, std::to_string(index));
    EXPECT_EQ(got[index].time, at(milliseconds(13 + index)));
    EXPECT_EQ(got[index].from, NodeId(1));
  }
}

TEST(WorldNetwork, NothingCrossesASymmetricPartitionInEitherDirection) {
  World world(WorldOptions::seeded(2));
  Inboxes inboxes;
  const std::vector<NodeId> everyone{NodeId(1), NodeId(2), NodeId(3)};
  for (NodeId id : everyone) add_chatty(world, id, everyone, every_millisecond(50), inboxes);
  world.partition({{NodeId(1)}, {NodeId(2), NodeId(3)}});
  world.run_until(at(seconds(1)));
  for (const Received& message : inboxes[NodeId(1)]) {
    EXPECT_EQ(message.from, NodeId(1)) << "node 1 is cut off from 2 and 3";
  }
  for (NodeId id : {NodeId(2), NodeId(3)}) {
    for (const Received& message : inboxes[id]) EXPECT_NE(message.from, NodeId(1));
    EXPECT_EQ(inboxes[id].size(), 100u) << "within the majority side everything arrives";
  }
  EXPECT_EQ(inboxes[NodeId(1)].size(), 50u) << "a process still reaches itself";
}

TEST(WorldNetwork, OneWayPartitionBlocksOnlyOneDirection) {
  World world(WorldOptions::seeded(3));
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2)}, every_millisecond(20), inboxes);
  add_chatty(world, NodeId(2), {NodeId(1)}, every_millisecond(20), inboxes);
  world.partition_one_way(NodeId(1), NodeId(2));
  world.run_until(at(seconds(1)));
  EXPECT_TRUE(inboxes[NodeId(2)].empty()) << "1 → 2 is cut";
  EXPECT_EQ(inboxes[NodeId(1)].size(), 20u) << "2 → 1 still works";
}

TEST(WorldNetwork, HealRestoresPathsAndInFlightMessagesToACutPathAreDropped) {
  WorldOptions options = WorldOptions::seeded(4);
  options.default_path = fixed_latency(milliseconds(5));
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2)}, {at(milliseconds(10)), at(milliseconds(30))}, inboxes);
  add_recorder(world, NodeId(2), inboxes);
  // Message 0 leaves at 10ms; the cut at 12ms catches it in flight (Jepsen's iptables drop).
  world.schedule_at(at(milliseconds(12)), [&] { world.partition({{NodeId(1)}, {NodeId(2)}}); });
  world.schedule_at(at(milliseconds(20)), [&] { world.heal(); });
  world.run_until(at(seconds(1)));
  ASSERT_EQ(inboxes[NodeId(2)].size(), 1u);
  EXPECT_EQ(inboxes[NodeId(2)][0].payload, "1");
}

TEST(WorldNetwork, LossRateHoldsOverManyMessages) {
  WorldOptions options = WorldOptions::seeded(5);
  options.default_path.loss_probability = 0.2;
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2)}, every_millisecond(5000), inboxes);
  add_recorder(world, NodeId(2), inboxes);
  world.run_until(at(seconds(10)));
  const double delivered = static_cast<double>(inboxes[NodeId(2)].size()) / 5000;
  // Binomial(5000, 0.8): standard deviation ≈ 0.0057; ±0.03 is over five of them.
  EXPECT_NEAR(delivered, 0.8, 0.03);
  EXPECT_EQ(world.messages_dropped(), 5000 - inboxes[NodeId(2)].size());
}

TEST(WorldNetwork, DuplicationRateHoldsOverManyMessages) {
  WorldOptions options = WorldOptions::seeded(6);
  options.default_path.duplicate_probability = 0.1;
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2)}, every_millisecond(5000), inboxes);
  add_recorder(world, NodeId(2), inboxes);
  world.run_until(at(seconds(10)));
  std::map<std::string, int> copies;
  for (const Received& message : inboxes[NodeId(2)]) ++copies[message.payload];
  EXPECT_EQ(copies.size(), 5000u) << "no loss configured: every message arrives";
  int duplicated = 0;
  for (const auto& [payload, count] : copies) {
    EXPECT_LE(count, 2);
    duplicated += count == 2;
  }
  EXPECT_NEAR(static_cast<double>(duplicated) / 5000, 0.1, 0.03);
}

bool arrived_out_of_order(const std::vector<Received>& got) {
  for (size_t index = 1; index < got.size(); ++index) {
    if (std::stoi(got[index].payload) < std::stoi(got[index - 1].payload)) return true;
  }
  return false;
}

TEST(WorldNetwork, ReorderingHappensOnlyWhenConfigured) {
  for (double reorder : {0.0, 0.3}) {
    WorldOptions options = WorldOptions::seeded(7);
    options.default_path.jitter = PathModel::Jitter::kUniform;
    options.default_path.jitter_mean = milliseconds(2);
    options.default_path.reorder_probability = reorder;
    World world(options);
    Inboxes inboxes;
    add_chatty(world, NodeId(1), {NodeId(2)}, every_millisecond(500), inboxes);
    add_recorder(world, NodeId(2), inboxes);
    world.run_until(at(seconds(5)));
    ASSERT_EQ(inboxes[NodeId(2)].size(), 500u);
    EXPECT_EQ(arrived_out_of_order(inboxes[NodeId(2)]), reorder > 0)
        << "jitter alone keeps a path FIFO; reorder_probability breaks it";
  }
}

TEST(WorldNetwork, ClogHoldsMessagesUntilTheGivenTimeThenDeliversInOrder) {
  WorldOptions options = WorldOptions::seeded(8);
  options.default_path = fixed_latency(milliseconds(1));
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2), NodeId(3)}, every_millisecond(10), inboxes);
  add_recorder(world, NodeId(2), inboxes);
  add_recorder(world, NodeId(3), inboxes);
  world.clog(NodeId(1), NodeId(2), at(milliseconds(500)));
  world.run_until(at(seconds(1)));
  ASSERT_EQ(inboxes[NodeId(2)].size(), 10u);
  for (size_t index = 0; index < 10; ++index) {
    EXPECT_EQ(inboxes[NodeId(2)][index].time, at(milliseconds(500)));
    EXPECT_EQ(inboxes[NodeId(2)][index].payload, std::to_string(index));
  }
  ASSERT_EQ(inboxes[NodeId(3)].size(), 10u);
  EXPECT_EQ(inboxes[NodeId(3)][0].time, at(milliseconds(11))) << "other paths are not clogged";
}

TEST(WorldNetwork, MessagesToACrashedProcessAreDroppedAndToAPausedOneQueue) {
  WorldOptions options = WorldOptions::seeded(9);
  options.default_path = fixed_latency(milliseconds(1));
  World world(options);
  Inboxes inboxes;
  add_chatty(world, NodeId(1), {NodeId(2), NodeId(3)}, every_millisecond(10, 100), inboxes);
  add_recorder(world, NodeId(2), inboxes);
  add_recorder(world, NodeId(3), inboxes);
  world.run_until(at(milliseconds(50)));
  world.crash(NodeId(2), CrashMode::kDropAll);
  world.pause(NodeId(3));
  world.run_until(at(milliseconds(500)));
  EXPECT_TRUE(inboxes[NodeId(2)].empty());
  EXPECT_TRUE(inboxes[NodeId(3)].empty()) << "a paused process runs nothing";
  world.resume(NodeId(3));
  world.run_until(at(milliseconds(501)));
  ASSERT_EQ(inboxes[NodeId(3)].size(), 10u) << "queued messages wait for the resume";
  EXPECT_EQ(inboxes[NodeId(3)][0].time, at(milliseconds(500)));
}

TEST(WorldNetwork, InboxIsBounded) {
  WorldOptions options = WorldOptions::seeded(10);
  options.default_path = fixed_latency(milliseconds(1));
  World world(options);
  Inboxes inboxes;
  ASSERT_TRUE(world
                  .add_process(NodeId(1), "flood",
                               [](env::Runtime& runtime) {
                                 for (size_t index = 0; index < kInboxCapacityMessages + 100;
                                      ++index) {
                                   runtime.network().send(NodeId(2), "x");
                                 }
                               })
                  .is_ok());
  add_recorder(world, NodeId(2), inboxes);
  world.pause(NodeId(2));
  world.run_until(at(seconds(1)));
  world.resume(NodeId(2));
  world.run_until(at(seconds(2)));
  EXPECT_EQ(inboxes[NodeId(2)].size(), kInboxCapacityMessages);
  EXPECT_EQ(world.messages_dropped(), 100u);
}

TEST(WorldNetwork, ReceiveTimesOutOnTheLocalClock) {
  World world(WorldOptions::seeded(11));
  Instant timed_out_at;
  ASSERT_TRUE(world
                  .add_process(NodeId(1), "waiter",
                               [&](env::Runtime& runtime) {
                                 const auto message =
                                     runtime.network().receive(runtime.now() + milliseconds(30));
                                 EXPECT_FALSE(message.has_value());
                                 timed_out_at = world.now();
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(timed_out_at, at(milliseconds(30)));
}

}  // namespace
}  // namespace lockstep::sim
