#include "sim/sim_clock.h"

#include <gtest/gtest.h>

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Instant at(Duration duration) {
  return Instant(duration);
}

TEST(SimClock, WithoutOffsetOrDriftLocalTimeIsVirtualTime) {
  SimClock clock;
  EXPECT_EQ(clock.local_at(at(seconds(5))), at(seconds(5)));
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(7)), at(seconds(5))), at(seconds(7)));
}

TEST(SimClock, OffsetShiftsLocalTimeAndDeadlines) {
  SimClock clock;
  clock.set_offset(at(seconds(1)), seconds(10));
  EXPECT_EQ(clock.local_at(at(seconds(1))), at(seconds(11)));
  EXPECT_EQ(clock.local_at(at(seconds(3))), at(seconds(13)));
  // Local deadline 20s is reached at virtual 10s.
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(20)), at(seconds(3))), at(seconds(10)));
}

TEST(SimClock, FastClockReachesDeadlinesEarlierInVirtualTime) {
  SimClock clock;
  clock.set_drift_ppm(at(seconds(0)), 100'000);  // 10% fast
  EXPECT_EQ(clock.local_at(at(seconds(10))), at(seconds(11)));
  // 11 local seconds take 10 virtual seconds.
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(11)), at(seconds(0))), at(seconds(10)));
}

TEST(SimClock, SlowClockReachesDeadlinesLaterInVirtualTime) {
  SimClock clock;
  clock.set_drift_ppm(at(seconds(0)), -500'000);  // half speed
  EXPECT_EQ(clock.local_at(at(seconds(10))), at(seconds(5)));
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(5)), at(seconds(0))), at(seconds(10)));
}

TEST(SimClock, DeadlineInversionIsExactToTheNanosecond) {
  SimClock clock;
  clock.set_offset(at(milliseconds(3)), Duration(12345));
  clock.set_drift_ppm(at(milliseconds(7)), 333);
  for (int64_t local_ns : {int64_t{9'000'001}, int64_t{123'456'789}, int64_t{5'000'000'017}}) {
    const Instant deadline(Duration{local_ns});
    const Instant wake = clock.virtual_when_local_reaches(deadline, at(milliseconds(7)));
    EXPECT_GE(clock.local_at(wake), deadline) << "must not wake before the local deadline";
    EXPECT_LT(clock.local_at(wake - Duration(1)), deadline) << "must wake at the earliest ns";
  }
}

TEST(SimClock, ForwardJumpMakesDeadlinesDueSooner) {
  SimClock clock;
  clock.jump(at(seconds(2)), seconds(5));
  EXPECT_EQ(clock.local_at(at(seconds(2))), at(seconds(7)));
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(6)), at(seconds(2))), at(seconds(2)))
      << "a deadline the jump passed is due at once";
}

TEST(SimClock, BackwardJumpMovesLocalTimeBackAndDelaysDeadlines) {
  SimClock clock;
  clock.jump(at(seconds(10)), -seconds(4));
  EXPECT_EQ(clock.local_at(at(seconds(10))), at(seconds(6)));
  EXPECT_EQ(clock.virtual_when_local_reaches(at(seconds(11)), at(seconds(10))), at(seconds(15)));
}

TEST(SimClock, DriftChangeKeepsLocalTimeContinuous) {
  SimClock clock;
  clock.set_drift_ppm(at(seconds(0)), 200'000);
  const Instant before = clock.local_at(at(seconds(5)));
  clock.set_drift_ppm(at(seconds(5)), -200'000);
  EXPECT_EQ(clock.local_at(at(seconds(5))), before);
  EXPECT_EQ(clock.local_at(at(seconds(10))), before + seconds(4));
}

}  // namespace
}  // namespace lockstep::sim
