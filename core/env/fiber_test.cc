#include "core/env/fiber.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/env/runtime.h"

namespace lockstep::env {
namespace {

// Records its destruction, to prove a killed fiber's stack unwound.
struct DestructionFlag {
  explicit DestructionFlag(bool& destroyed) : destroyed_(destroyed) {}
  ~DestructionFlag() { destroyed_ = true; }
  bool& destroyed_;
};

TEST(Fiber, RunsBodyUntilSuspendThenContinues) {
  std::vector<std::string> steps;
  Fiber fiber("worker", [&] {
    steps.push_back("one");
    Fiber::current()->suspend();
    steps.push_back("two");
  });
  EXPECT_FALSE(fiber.started());
  EXPECT_TRUE(steps.empty()) << "a fiber must not run before its first resume()";

  fiber.resume();
  EXPECT_EQ(steps, (std::vector<std::string>{"one"}));
  EXPECT_TRUE(fiber.started());
  EXPECT_FALSE(fiber.finished());

  fiber.resume();
  EXPECT_EQ(steps, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(fiber.finished());
}

TEST(Fiber, CurrentNamesTheRunningFiberAndNullOutside) {
  EXPECT_EQ(Fiber::current(), nullptr);
  Fiber* seen_inside = nullptr;
  Fiber fiber("me", [&] { seen_inside = Fiber::current(); });
  fiber.resume();
  EXPECT_EQ(seen_inside, &fiber);
  EXPECT_EQ(Fiber::current(), nullptr);
}

TEST(Fiber, KillUnwindsTheStackSoDestructorsRun) {
  bool destroyed = false;
  bool ran_past_suspend = false;
  Fiber fiber("victim", [&] {
    DestructionFlag flag(destroyed);
    Fiber::current()->suspend();
    ran_past_suspend = true;
  });
  fiber.resume();
  EXPECT_FALSE(destroyed);

  fiber.kill();
  EXPECT_TRUE(destroyed) << "FiberKilled must unwind the fiber's stack";
  EXPECT_FALSE(ran_past_suspend) << "suspend() must throw on kill, not return";
  EXPECT_TRUE(fiber.finished());
}

TEST(Fiber, DestroyingAnUnfinishedFiberUnwindsIt) {
  bool destroyed = false;
  {
    Fiber fiber("victim", [&] {
      DestructionFlag flag(destroyed);
      Fiber::current()->suspend();
    });
    fiber.resume();
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(destroyed);
}

TEST(Fiber, KillingAnUnstartedFiberNeverRunsItsBody) {
  bool ran = false;
  auto owned = std::make_shared<int>(7);
  std::weak_ptr<int> watcher = owned;
  Fiber fiber("never", [&ran, owned = std::move(owned)] { ran = *owned == 7; });
  fiber.kill();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(fiber.finished());
  EXPECT_TRUE(watcher.expired()) << "a killed fiber releases what its body captured";
}

TEST(Fiber, CatchBlocksInTheBodySeeFiberKilledAndMayRethrow) {
  // Code on a fiber may clean up on FiberKilled as long as it rethrows.
  bool cleaned_up = false;
  Fiber fiber("cleaner", [&] {
    try {
      Fiber::current()->suspend();
    } catch (const FiberKilled&) {
      cleaned_up = true;
      throw;
    }
  });
  fiber.resume();
  fiber.kill();
  EXPECT_TRUE(cleaned_up);
}

TEST(Fiber, FibersNestAndRestoreCurrent) {
  std::vector<std::string> steps;
  Fiber inner("inner", [&] {
    steps.push_back("inner");
    Fiber::current()->suspend();
  });
  Fiber outer("outer", [&] {
    inner.resume();
    steps.push_back(Fiber::current()->name());
  });
  outer.resume();
  EXPECT_EQ(steps, (std::vector<std::string>{"inner", "outer"}));
  EXPECT_TRUE(outer.finished());
  EXPECT_FALSE(inner.finished());
}

TEST(Fiber, ManyFibersReuseStacks) {
  // More fibers than the idle-stack pool keeps, created and finished repeatedly.
  int finished = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<std::unique_ptr<Fiber>> fibers;
    for (int index = 0; index < 300; ++index) {
      fibers.push_back(std::make_unique<Fiber>("f", [&] {
        Fiber::current()->suspend();
        ++finished;
      }));
      fibers.back()->resume();
    }
    for (auto& fiber : fibers) fiber->resume();
  }
  EXPECT_EQ(finished, 4 * 300);
}

TEST(Fiber, DeepStackUseWithinTheLimitWorks) {
  // Uses a good part of the fixed stack to show it is really limits::kFiberStackBytes.
  volatile char sink = 0;
  Fiber fiber("deep", [&] {
    char buffer[128 * 1024];
    for (size_t index = 0; index < sizeof(buffer); index += 4096) buffer[index] = 1;
    sink = buffer[4096];
  });
  fiber.resume();
  EXPECT_EQ(sink, 1);
}

TEST(FiberDeathTest, EscapedExceptionCrashesWithItsMessage) {
  EXPECT_DEATH(
      {
        Fiber fiber("thrower", [] { throw std::runtime_error("boom from the fiber"); });
        fiber.resume();
      },
      "boom from the fiber");
}

TEST(FiberDeathTest, SwallowingFiberKilledCrashes) {
  EXPECT_DEATH(
      {
        Fiber fiber("swallower", [] {
          try {
            Fiber::current()->suspend();
          } catch (const FiberKilled&) {
          }
          Fiber::current()->suspend();
        });
        fiber.resume();
        fiber.kill();
      },
      "swallowed FiberKilled");
}

}  // namespace
}  // namespace lockstep::env
