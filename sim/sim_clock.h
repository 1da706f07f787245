#pragma once

#include <cstdint>

#include "core/base/time.h"

namespace lockstep::sim {

// Bound on a simulated clock's drift. Real quartz drifts by tens of ppm; the bound is far
// wider so scenarios can stress timeouts, but below one million so local time still advances
// whenever virtual time does (a clock that stands still would make deadlines unreachable).
inline constexpr int64_t kMaxClockDriftPpm = 500'000;

// One process's clock as a piecewise-linear function of the world's virtual time:
//   local(v) = anchor_local + (v - anchor_virtual) * (1 + drift_ppm / 10^6)
// Offsets, drift changes and jumps re-anchor the line at the current virtual time, so local
// time is continuous except at jumps, which may go backwards (like CLOCK_REALTIME under an
// NTP step). Everything is integer nanoseconds: no floating point, so runs replay exactly.
class SimClock {
 public:
  SimClock() = default;

  Instant local_at(Instant virtual_time) const;
  // The earliest virtual time at or after `virtual_now` at which the local clock reads at
  // least `local_deadline`. Deadlines already passed map to `virtual_now`.
  Instant virtual_when_local_reaches(Instant local_deadline, Instant virtual_now) const;

  // From `virtual_now` on, local time reads virtual time plus `offset`.
  void set_offset(Instant virtual_now, Duration offset);
  // Steps local time by `delta` (either sign) at `virtual_now`.
  void jump(Instant virtual_now, Duration delta);
  // From `virtual_now` on, local time runs fast (positive) or slow (negative) by `drift_ppm`.
  void set_drift_ppm(Instant virtual_now, int64_t drift_ppm);

  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  void re_anchor(Instant virtual_now);

  Instant anchor_virtual_;
  Instant anchor_local_;
  int64_t drift_ppm_ = 0;
};

}  // namespace lockstep::sim
