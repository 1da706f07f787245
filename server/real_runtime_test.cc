#include "server/real_runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "core/env/event.h"

namespace lockstep::server {
namespace {

using std::chrono::milliseconds;

RealRuntimeOptions quiet_options() {
  RealRuntimeOptions options;
  options.self = NodeId(1);
  options.seed = 1234;
  options.trace_sink = nullptr;
  return options;
}

// Records its destruction, to prove a killed fiber's stack unwound.
struct DestructionFlag {
  explicit DestructionFlag(bool& destroyed) : destroyed_(destroyed) {}
  ~DestructionFlag() { destroyed_ = true; }
  bool& destroyed_;
};

TEST(RealRuntime, SleepersWakeInDeadlineOrderNotSpawnOrder) {
  RealRuntime runtime(quiet_options());
  std::vector<int> woke;
  for (int delay_ms : {30, 10, 20, 0}) {
    runtime.spawn("sleeper", [&, delay_ms] {
      runtime.sleep_for(milliseconds(delay_ms));
      woke.push_back(delay_ms);
    });
  }
  runtime.run();
  EXPECT_EQ(woke, (std::vector<int>{0, 10, 20, 30}));
  EXPECT_EQ(runtime.live_fibers(), 0u);
}

TEST(RealRuntime, SleepLastsAtLeastItsDurationOnTheMonotonicClock) {
  RealRuntime runtime(quiet_options());
  Duration slept{};
  runtime.spawn("sleeper", [&] {
    const Instant before = runtime.now();
    runtime.sleep_for(milliseconds(15));
    slept = runtime.now() - before;
  });
  runtime.run();
  // A lower bound is behaviour (a timer must never fire early), not a timing assertion.
  EXPECT_GE(slept, milliseconds(15));
}

TEST(RealRuntime, YieldRoundRobinsReadyFibers) {
  RealRuntime runtime(quiet_options());
  std::string order;
  for (char name : {'a', 'b', 'c'}) {
    runtime.spawn(std::string(1, name), [&, name] {
      for (int i = 0; i < 3; ++i) {
        order.push_back(name);
        runtime.yield();
      }
    });
  }
  runtime.run();
  EXPECT_EQ(order, "abcabcabc");
}

TEST(RealRuntime, ParkReturnsTrueWhenWokenAndFalseAtDeadline) {
  RealRuntime runtime(quiet_options());
  std::optional<bool> woken_result;
  std::optional<bool> timed_out_result;
  const env::FiberId waiter = runtime.spawn("waiter", [&] { woken_result = runtime.park({}); });
  runtime.spawn("timeout",
                [&] { timed_out_result = runtime.park(runtime.now() + milliseconds(5)); });
  runtime.spawn("waker", [&] {
    runtime.sleep_for(milliseconds(10));
    runtime.wake(waiter);
  });
  runtime.run();
  EXPECT_EQ(woken_result, true);
  EXPECT_EQ(timed_out_result, false);
}

TEST(RealRuntime, WakeOfASleepingOrRunningFiberIsANoOp) {
  // Runtime::wake: "Waking a fiber that is not parked is a no-op."
  RealRuntime runtime(quiet_options());
  Duration slept{};
  const env::FiberId sleeper = runtime.spawn("sleeper", [&] {
    const Instant before = runtime.now();
    runtime.sleep_for(milliseconds(20));
    slept = runtime.now() - before;
  });
  runtime.spawn("waker", [&] {
    runtime.wake(sleeper);
    runtime.wake(runtime.current_fiber());
    runtime.wake(env::FiberId(999));
  });
  runtime.run();
  EXPECT_GE(slept, milliseconds(20));
}

TEST(RealRuntime, EventWakesWaitersInFifoOrderAndTimesOut) {
  RealRuntime runtime(quiet_options());
  env::Event event(runtime);
  std::vector<std::string> woke;
  bool timed_out = false;
  for (std::string name : {"first", "second"}) {
    runtime.spawn(name, [&, name] {
      if (event.wait()) woke.push_back(name);
    });
  }
  runtime.spawn("impatient", [&] {
    runtime.sleep_for(milliseconds(1));  // starts waiting after the other two
    timed_out = !event.wait(runtime.now() + milliseconds(5));
  });
  runtime.spawn("notifier", [&] {
    runtime.sleep_for(milliseconds(20));
    EXPECT_FALSE(event.has_waiters() && !timed_out) << "the impatient waiter left by now";
    event.notify_one();
    runtime.yield();
    event.notify_one();
  });
  runtime.run();
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(woke, (std::vector<std::string>{"first", "second"}));
}

TEST(RealRuntime, RequestStopKillsParkedFibersAndUnwindsTheirStacks) {
  RealRuntime runtime(quiet_options());
  bool forever_unwound = false;
  bool sleeper_unwound = false;
  bool ran_after_park = false;
  runtime.spawn("forever", [&] {
    DestructionFlag flag(forever_unwound);
    runtime.park({});
    ran_after_park = true;
  });
  runtime.spawn("long-sleep", [&] {
    DestructionFlag flag(sleeper_unwound);
    runtime.sleep_for(std::chrono::hours(1));
  });
  runtime.spawn("stopper", [&] {
    runtime.sleep_for(milliseconds(1));
    runtime.request_stop();
  });
  runtime.run();
  EXPECT_TRUE(forever_unwound);
  EXPECT_TRUE(sleeper_unwound);
  EXPECT_FALSE(ran_after_park);
  EXPECT_EQ(runtime.live_fibers(), 0u);
}

TEST(RealRuntime, SigtermStopsTheRuntimeGracefully) {
  RealRuntime runtime(quiet_options());
  ASSERT_TRUE(runtime.stop_on_signals().is_ok());
  bool unwound = false;
  runtime.spawn("server", [&] {
    DestructionFlag flag(unwound);
    runtime.park({});
  });
  runtime.spawn("signaller", [&] {
    // SIGTERM is blocked and routed to the signalfd, so this does not kill the test process.
    ::kill(::getpid(), SIGTERM);
  });
  runtime.run();
  EXPECT_TRUE(runtime.stop_requested());
  EXPECT_TRUE(unwound);
}

TEST(RealRuntime, AnotherThreadCanWakeAParkedFiberThroughPost) {
  // The shape of a gRPC handler thread handing a request to the member's fibers.
  RealRuntime runtime(quiet_options());
  std::optional<bool> woken;
  const env::FiberId waiter = runtime.spawn("waiter", [&] { woken = runtime.park({}); });
  std::thread other([&] { runtime.loop().post([&] { runtime.wake(waiter); }); });
  runtime.run();
  other.join();
  EXPECT_EQ(woken, true);
}

TEST(RealRuntime, FibersSpawnedByFibersRun) {
  RealRuntime runtime(quiet_options());
  int children_done = 0;
  runtime.spawn("parent", [&] {
    for (int i = 0; i < 100; ++i) runtime.spawn("child", [&] { ++children_done; });
  });
  runtime.run();
  EXPECT_EQ(children_done, 100);
}

TEST(RealRuntime, RandomIsSeededAndProbesCount) {
  RealRuntimeOptions options = quiet_options();
  RealRuntime first(options);
  RealRuntime second(options);
  EXPECT_EQ(first.random().next_u64(), second.random().next_u64()) << "an explicit seed replays";
  RealRuntime unseeded({NodeId(1), std::nullopt, nullptr});
  EXPECT_NE(unseeded.random().seed(), real_seed()) << "each startup draws a fresh seed";

  EXPECT_FALSE(BUGGIFY(first)) << "the daemon never injects faults";
  PROBE(first, "one");
  PROBE(first, "one");
  PROBE(first, "two");
  EXPECT_EQ(first.probe_counts().at("one"), 2u);
  EXPECT_EQ(first.probe_counts().at("two"), 1u);
}

TEST(RealRuntime, TraceWritesOneLineNamingNodeKindAndDetail) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* sink = ::open_memstream(&buffer, &size);
  {
    RealRuntime runtime({NodeId(7), 5, sink});
    runtime.trace("raft.elected", "term=3");
  }
  std::fclose(sink);
  const std::string log(buffer, size);
  std::free(buffer);
  EXPECT_NE(log.find("node=7 runtime.start seed=5\n"), std::string::npos) << log;
  EXPECT_NE(log.find("node=7 raft.elected term=3\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace lockstep::server
