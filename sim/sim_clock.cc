#include "sim/sim_clock.h"

#include "core/base/assert.h"

namespace lockstep::sim {
namespace {

constexpr int64_t kPartsPerMillion = 1'000'000;

// elapsed * (10^6 + drift) / 10^6, rounded toward negative infinity, without overflow.
int64_t scale_elapsed(int64_t elapsed_ns, int64_t drift_ppm) {
  if (drift_ppm == 0) return elapsed_ns;  // the common case, without 128-bit division
  const __int128 product = static_cast<__int128>(elapsed_ns) * (kPartsPerMillion + drift_ppm);
  __int128 quotient = product / kPartsPerMillion;
  if (product % kPartsPerMillion != 0 && product < 0) --quotient;
  return static_cast<int64_t>(quotient);
}

}  // namespace

Instant SimClock::local_at(Instant virtual_time) const {
  const int64_t elapsed = (virtual_time - anchor_virtual_).count();
  return anchor_local_ + Duration(scale_elapsed(elapsed, drift_ppm_));
}

Instant SimClock::virtual_when_local_reaches(Instant local_deadline, Instant virtual_now) const {
  if (local_at(virtual_now) >= local_deadline) return virtual_now;
  // Invert the line, then correct the integer rounding by stepping to the exact earliest
  // nanosecond: local_at is monotonic in virtual time because drift > -10^6.
  const int64_t local_elapsed = (local_deadline - anchor_local_).count();
  const __int128 numerator = static_cast<__int128>(local_elapsed) * kPartsPerMillion;
  const int64_t divisor = kPartsPerMillion + drift_ppm_;
  int64_t virtual_elapsed = static_cast<int64_t>((numerator + divisor - 1) / divisor);
  Instant candidate = anchor_virtual_ + Duration(virtual_elapsed);
  while (local_at(candidate) < local_deadline) candidate += Duration(1);
  while (candidate > virtual_now && local_at(candidate - Duration(1)) >= local_deadline) {
    candidate = candidate - Duration(1);
  }
  return candidate < virtual_now ? virtual_now : candidate;
}

void SimClock::re_anchor(Instant virtual_now) {
  anchor_local_ = local_at(virtual_now);
  anchor_virtual_ = virtual_now;
}

void SimClock::set_offset(Instant virtual_now, Duration offset) {
  re_anchor(virtual_now);
  anchor_local_ = virtual_now + offset;
}

void SimClock::jump(Instant virtual_now, Duration delta) {
  re_anchor(virtual_now);
  anchor_local_ += delta;
}

void SimClock::set_drift_ppm(Instant virtual_now, int64_t drift_ppm) {
  ASSERT(drift_ppm <= kMaxClockDriftPpm, "clock drift above kMaxClockDriftPpm");
  ASSERT(drift_ppm >= -kMaxClockDriftPpm, "clock drift below -kMaxClockDriftPpm");
  re_anchor(virtual_now);
  drift_ppm_ = drift_ppm;
}

}  // namespace lockstep::sim
