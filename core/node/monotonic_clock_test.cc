#include "core/node/monotonic_clock.h"

#include <gtest/gtest.h>

namespace lockstep::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Instant kStart = Instant(seconds(100));

TEST(MonotonicClockTest, FollowsTheHostClockWhileItRunsSmoothly) {
  MonotonicClock clock(milliseconds(15));
  EXPECT_EQ(clock.sample(kStart), kStart);
  Instant host = kStart;
  for (int tick = 0; tick < 100; ++tick) {
    host += milliseconds(10);
    clock.sample(host);
  }
  EXPECT_EQ(clock.now(), kStart + seconds(1));
}

// The clock_jumps_against_leases scenario: the leader's clock is stepped 5 s ahead. Leases
// measured on the host clock all lapsed at once; on this clock the step counts as at most
// one max_step.
TEST(MonotonicClockTest, AForwardStepAddsAtMostOneMaxStep) {
  MonotonicClock clock(milliseconds(15));
  clock.sample(kStart);
  clock.sample(kStart + milliseconds(10));
  clock.sample(kStart + milliseconds(10) + seconds(5));
  EXPECT_EQ(clock.now(), kStart + milliseconds(25));
  clock.sample(kStart + milliseconds(20) + seconds(5));
  EXPECT_EQ(clock.now(), kStart + milliseconds(35)) << "after the step it runs on normally";
}

// A backward step neither moves the clock back nor holds it still for the size of the step.
TEST(MonotonicClockTest, ABackwardStepNeitherRewindsNorStallsIt) {
  MonotonicClock clock(milliseconds(15));
  clock.sample(kStart);
  clock.sample(kStart + milliseconds(10));
  clock.sample(kStart - seconds(4));
  EXPECT_EQ(clock.now(), kStart + milliseconds(10));
  clock.sample(kStart - seconds(4) + milliseconds(10));
  EXPECT_EQ(clock.now(), kStart + milliseconds(20));
}

TEST(MonotonicClockTest, KeepsTheHostClocksRate) {
  MonotonicClock clock(milliseconds(15));
  clock.sample(kStart);
  // A host clock running 5% fast: 10.5 ms per 10 ms tick.
  for (int tick = 1; tick <= 100; ++tick)
    clock.sample(kStart + tick * std::chrono::microseconds(10'500));
  EXPECT_EQ(clock.now(), kStart + milliseconds(1050));
}

}  // namespace
}  // namespace lockstep::node
