#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/env/event.h"
#include "sim/world.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr NodeId kNode{1};

Instant at(Duration duration) {
  return Instant(duration);
}

TEST(WorldScheduler, SleepersWakeInVirtualTimeOrder) {
  World world(WorldOptions::seeded(11));
  std::vector<std::pair<int, Instant>> wakes;
  ASSERT_TRUE(world
                  .add_process(kNode, "sleepers",
                               [&](env::Runtime& runtime) {
                                 for (int delay_ms : {30, 10, 20, 5}) {
                                   runtime.spawn("sleeper", [&runtime, &wakes, delay_ms] {
                                     runtime.sleep_for(milliseconds(delay_ms));
                                     wakes.emplace_back(delay_ms, runtime.now());
                                   });
                                 }
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  ASSERT_EQ(wakes.size(), 4u);
  EXPECT_EQ(wakes[0], std::make_pair(5, at(milliseconds(5))));
  EXPECT_EQ(wakes[1], std::make_pair(10, at(milliseconds(10))));
  EXPECT_EQ(wakes[2], std::make_pair(20, at(milliseconds(20))));
  EXPECT_EQ(wakes[3], std::make_pair(30, at(milliseconds(30))));
  EXPECT_EQ(world.now(), at(seconds(1)));
}

// The order in which `count` fibers, all ready at time 0, first run.
std::vector<int> ready_order(uint64_t seed, int count) {
  World world(WorldOptions::seeded(seed));
  std::vector<int> order;
  EXPECT_TRUE(world
                  .add_process(kNode, "racers",
                               [&](env::Runtime& runtime) {
                                 for (int index = 0; index < count; ++index) {
                                   runtime.spawn("racer",
                                                 [&order, index] { order.push_back(index); });
                                 }
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  return order;
}

TEST(WorldScheduler, ReadyFibersRunInASeedChosenOrder) {
  const std::vector<int> first = ready_order(1, 8);
  EXPECT_EQ(first.size(), 8u);
  EXPECT_EQ(ready_order(1, 8), first) << "same seed, same interleaving";
  bool some_seed_differs = false;
  for (uint64_t seed = 2; seed < 10 && !some_seed_differs; ++seed) {
    some_seed_differs = ready_order(seed, 8) != first;
  }
  EXPECT_TRUE(some_seed_differs) << "the scheduler stream must pick among ready fibers";
}

TEST(WorldScheduler, ParkWakeAndEventTimeouts) {
  World world(WorldOptions::seeded(3));
  std::vector<std::string> log;
  ASSERT_TRUE(world
                  .add_process(
                      kNode, "events",
                      [&](env::Runtime& runtime) {
                        env::Event event(runtime);
                        runtime.spawn("notifier", [&] {
                          runtime.sleep_for(milliseconds(50));
                          event.notify_all();
                        });
                        const bool timed_out = !event.wait(runtime.now() + milliseconds(10));
                        log.push_back(timed_out
                                          ? "timeout@" + std::to_string(runtime.now().nanoseconds())
                                          : "woken");
                        const bool woken = event.wait();
                        log.push_back(woken ? "woken@" + std::to_string(runtime.now().nanoseconds())
                                            : "timeout");
                      })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(log, (std::vector<std::string>{"timeout@10000000", "woken@50000000"}));
}

TEST(WorldScheduler, WakeOfAFiberThatIsNotParkedIsANoOp) {
  World world(WorldOptions::seeded(3));
  int sleeps_completed = 0;
  ASSERT_TRUE(world
                  .add_process(kNode, "sleeper",
                               [&](env::Runtime& runtime) {
                                 const env::FiberId sleeper = runtime.spawn("s", [&] {
                                   runtime.sleep_for(milliseconds(100));
                                   ++sleeps_completed;
                                 });
                                 runtime.sleep_for(milliseconds(1));
                                 runtime.wake(sleeper);  // sleeping, not parked: no effect
                                 runtime.wake(env::FiberId(999));
                               })
                  .is_ok());
  world.run_until(at(milliseconds(99)));
  EXPECT_EQ(sleeps_completed, 0) << "wake() must not cut a sleep short";
  world.run_until(at(milliseconds(100)));
  EXPECT_EQ(sleeps_completed, 1);
}

TEST(WorldScheduler, YieldLetsOtherReadyFibersRun) {
  World world(WorldOptions::seeded(5));
  int other_ran = 0;
  int yields_until_other_ran = 0;
  ASSERT_TRUE(world
                  .add_process(kNode, "yielder",
                               [&](env::Runtime& runtime) {
                                 runtime.spawn("other", [&] { ++other_ran; });
                                 while (other_ran == 0) {
                                   runtime.yield();
                                   ++yields_until_other_ran;
                                 }
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(other_ran, 1);
  EXPECT_GE(yields_until_other_ran, 1);
  EXPECT_EQ(world.now(), at(seconds(1))) << "yield spins in zero virtual time";
}

TEST(WorldScheduler, ClockOffsetAndDriftApplyToNowAndDeadlines) {
  World world(WorldOptions::seeded(5));
  Instant local_at_start;
  Instant woke_local;
  Instant woke_virtual;
  ASSERT_TRUE(world
                  .add_process(kNode, "drifter",
                               [&](env::Runtime& runtime) {
                                 local_at_start = runtime.now();
                                 runtime.sleep_for(seconds(2));  // two seconds of *local* time
                                 woke_local = runtime.now();
                                 woke_virtual = world.now();
                               })
                  .is_ok());
  world.set_clock_offset(kNode, seconds(100));
  ASSERT_TRUE(world.set_clock_drift_ppm(kNode, -500'000).is_ok());  // half speed
  world.run_until(at(seconds(10)));
  EXPECT_EQ(local_at_start, at(seconds(100)));
  EXPECT_EQ(woke_local, at(seconds(102)));
  EXPECT_EQ(woke_virtual, at(seconds(4))) << "a half-speed clock needs 4 virtual s for 2 local s";
  EXPECT_EQ(world.set_clock_drift_ppm(kNode, 2'000'000).code(), ErrorCode::kInvalidInput);
}

TEST(WorldScheduler, ClockJumpsReschedulePendingDeadlines) {
  World world(WorldOptions::seeded(5));
  Instant forward_woke;
  Instant backward_woke;
  ASSERT_TRUE(world
                  .add_process(kNode, "jumper",
                               [&](env::Runtime& runtime) {
                                 runtime.sleep_until(Instant(seconds(10)));
                                 forward_woke = world.now();
                                 runtime.sleep_until(runtime.now() + seconds(5));
                                 backward_woke = world.now();
                               })
                  .is_ok());
  world.schedule_at(at(seconds(1)), [&] { world.jump_clock(kNode, seconds(20)); });
  world.run_until(at(seconds(2)));
  EXPECT_EQ(forward_woke, at(seconds(1))) << "the jump carried local time past the deadline";
  world.schedule_at(at(seconds(3)), [&] { world.jump_clock(kNode, -seconds(4)); });
  world.run_until(at(seconds(20)));
  // Slept at virtual 1s until local 26s; at virtual 3s local fell from 23s to 19s, so the
  // deadline is 7 more seconds away: virtual 10s.
  EXPECT_EQ(backward_woke, at(seconds(10)));
}

// A small busy world: two processes ping-ponging with timers and a disk write.
uint64_t ping_pong_hash(uint64_t seed) {
  World world(WorldOptions::seeded(seed));
  for (uint64_t id : {1, 2}) {
    EXPECT_TRUE(world
                    .add_process(NodeId(id), "p",
                                 [id](env::Runtime& runtime) {
                                   const NodeId peer(3 - id);
                                   for (int round = 0; round < 20; ++round) {
                                     runtime.network().send(peer, "ping " + std::to_string(round));
                                     runtime.sleep_for(
                                         Duration(runtime.random().between(1, 1'000'000)));
                                     while (runtime.network().receive(runtime.now())) {
                                     }
                                   }
                                 })
                    .is_ok());
  }
  PathModel model;
  model.loss_probability = 0.1;
  world.set_default_path_model(model);
  world.run_until(at(seconds(5)));
  return world.trace_hash();
}

TEST(WorldScheduler, SameSeedSameTraceHashDifferentSeedsDiffer) {
  EXPECT_EQ(ping_pong_hash(42), ping_pong_hash(42));
  EXPECT_NE(ping_pong_hash(42), ping_pong_hash(43));
  EXPECT_NE(ping_pong_hash(1), ping_pong_hash(2));
}

TEST(WorldScheduler, RunUntilPredicateStopsAsSoonAsItHolds) {
  World world(WorldOptions::seeded(1));
  int ticks = 0;
  ASSERT_TRUE(world
                  .add_process(kNode, "ticker",
                               [&](env::Runtime& runtime) {
                                 while (true) {
                                   runtime.sleep_for(milliseconds(10));
                                   ++ticks;
                                 }
                               })
                  .is_ok());
  EXPECT_TRUE(world.run_until([&] { return ticks == 7; }, at(seconds(1))));
  EXPECT_EQ(world.now(), at(milliseconds(70)));
  EXPECT_FALSE(world.run_until([&] { return ticks == 1000; }, at(seconds(2))));
  EXPECT_EQ(world.now(), at(seconds(2)));
}

// A fiber woken before its deadline that waits again does not queue a new timer while its old
// one is still queued (see FiberSlot): the renewed wait must still end at its own deadline, and
// at the same (time, sequence) place as if its timer had been queued when the wait began.
TEST(WorldScheduler, RenewedWaitsTimeOutAtTheirDeadlinesInTheOrderTheyBegan) {
  WorldOptions options = WorldOptions::seeded(5);
  options.record_trace = true;
  World world(options);
  std::vector<std::string> log;
  auto record = [&log](env::Runtime& runtime, const std::string& name, bool woken) {
    log.push_back(name + (woken ? " woken " : " timed out ") +
                  std::to_string(runtime.now().nanoseconds() / 1'000'000));
  };
  ASSERT_TRUE(world
                  .add_process(kNode, "waiters",
                               [&](env::Runtime& runtime) {
                                 // Renewed with a later deadline: deferred behind its old timer.
                                 const env::FiberId later = runtime.spawn("later", [&] {
                                   record(runtime, "later", runtime.park(at(milliseconds(100))));
                                   record(runtime, "later", runtime.park(at(milliseconds(200))));
                                 });
                                 // Starts waiting for the same instant after `later` renewed.
                                 runtime.spawn("same", [&] {
                                   runtime.sleep_for(milliseconds(20));
                                   record(runtime, "same", runtime.park(at(milliseconds(200))));
                                 });
                                 // Renewed with an earlier deadline: needs a timer of its own.
                                 const env::FiberId earlier = runtime.spawn("earlier", [&] {
                                   record(runtime, "earlier", runtime.park(at(milliseconds(150))));
                                   record(runtime, "earlier", runtime.park(at(milliseconds(30))));
                                 });
                                 runtime.spawn("waker", [&runtime, later, earlier] {
                                   runtime.sleep_for(milliseconds(10));
                                   runtime.wake(later);
                                   runtime.wake(earlier);
                                 });
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  std::vector<std::string> sorted = log;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"earlier timed out 30", "earlier woken 10",
                                              "later timed out 200", "later woken 10",
                                              "same timed out 200"}));
  // Both waits ending at 200 ms time out in the order they began: `later` (at 10 ms) first.
  std::vector<std::string> spawned;
  std::vector<std::string> timed_out_at_200;
  for (const TraceRecord& event : world.trace().records()) {
    if (event.kind == TraceKind::kFiberSpawn) spawned.push_back(event.detail);
    if (event.kind == TraceKind::kFiberTimeout && event.time == at(milliseconds(200))) {
      timed_out_at_200.push_back(event.detail);
    }
  }
  ASSERT_EQ(spawned.size(), 5u);  // main, later, same, earlier, waker
  EXPECT_EQ(timed_out_at_200, (std::vector<std::string>{spawned[1], spawned[2]}));
}

}  // namespace
}  // namespace lockstep::sim
