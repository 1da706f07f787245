#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <ostream>

namespace lockstep {

// All durations are nanosecond counts; use the std::chrono literals to write them.
using Duration = std::chrono::nanoseconds;

// A point on some process's clock: virtual time in simulation, the real monotonic clock in
// the daemon. Instants from different processes' clocks are not comparable in general,
// because simulated clocks carry offsets, drift and jumps.
class Instant {
 public:
  constexpr Instant() = default;
  constexpr explicit Instant(Duration since_epoch) : since_epoch_(since_epoch) {}

  constexpr Duration since_epoch() const { return since_epoch_; }
  constexpr int64_t nanoseconds() const { return since_epoch_.count(); }

  constexpr auto operator<=>(const Instant&) const = default;
  constexpr Instant operator+(Duration duration) const { return Instant(since_epoch_ + duration); }
  constexpr Instant operator-(Duration duration) const { return Instant(since_epoch_ - duration); }
  constexpr Duration operator-(Instant other) const { return since_epoch_ - other.since_epoch_; }
  constexpr Instant& operator+=(Duration duration) {
    since_epoch_ += duration;
    return *this;
  }

  friend std::ostream& operator<<(std::ostream& out, Instant instant) {
    return out << instant.since_epoch_.count() << "ns";
  }

 private:
  Duration since_epoch_{0};
};

inline constexpr Instant kInstantZero{};
inline constexpr Instant kInstantMax{Duration::max()};

}  // namespace lockstep
