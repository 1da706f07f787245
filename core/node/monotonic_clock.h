#pragma once

#include <optional>

#include "core/base/time.h"

namespace lockstep::node {

// A monotonic clock built from readings of the host's clock, which may be stepped (an
// operator or NTP setting it; the simulator's clock jumps and offsets do exactly this).
//
// etcd measures lease TTLs on Go's monotonic clock, so stepping the wall clock neither expires
// a lease early nor keeps it alive for the size of the step. Runtime::now() is the host clock
// with its steps, so the member samples it at least once per Raft tick and counts only
// plausible progress: a reading that goes backwards adds nothing, and one that leaps further
// ahead than `max_step` adds only max_step. Between two samples at most about one tick
// interval really passes, so a larger leap is the clock being stepped, not time passing.
// The rate (drift) of the host clock is kept, as a monotonic clock keeps it.
//
// Error: a forward step adds at most max_step that did not pass; time that did pass while
// the process could not sample (paused, stalled) is lost, which only makes lease deadlines
// later. etcd likewise lets a lease outlive its TTL (a new leader extends every lease) but
// never expire before it.
class MonotonicClock {
 public:
  explicit MonotonicClock(Duration max_step);

  // Feeds a reading of the host clock and returns the monotonic time. The first reading
  // starts the clock at the host's time.
  Instant sample(Instant host_now);
  Instant now() const { return now_; }

 private:
  Duration max_step_;
  std::optional<Instant> last_host_;
  Instant now_;
};

}  // namespace lockstep::node
