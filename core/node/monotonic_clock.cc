#include "core/node/monotonic_clock.h"

#include <algorithm>

#include "core/base/assert.h"

namespace lockstep::node {

MonotonicClock::MonotonicClock(Duration max_step) : max_step_(max_step) {
  ASSERT(max_step_ > Duration::zero(), "a monotonic clock must be able to advance");
}

Instant MonotonicClock::sample(Instant host_now) {
  if (!last_host_) {
    last_host_ = host_now;
    now_ = host_now;
    return now_;
  }
  const Duration elapsed = host_now - *last_host_;
  last_host_ = host_now;
  // A backward step adds nothing; a forward leap beyond max_step is a step, not time.
  if (elapsed > Duration::zero()) now_ += std::min(elapsed, max_step_);
  return now_;
}

}  // namespace lockstep::node
