#include "sim/cluster/lock_session.h"

#include <algorithm>

namespace lockstep::sim {

void LockSession::granting(Instant at) {
  renewed_ = at;
  hold_.reset();
  lost_ = false;
}

void LockSession::renewed(Instant invoked) {
  renewed_ = std::max(renewed_, invoked);
  if (hold_ && !lost_) recorder_.lock_hold(*hold_).lease_lost_time = valid_until().nanoseconds();
}

size_t LockSession::acquired(std::string lock_name, Instant invoked, Instant returned,
                             int64_t key_create_revision) {
  checker::LockHold hold;
  hold.client = client_;
  hold.lock_name = std::move(lock_name);
  hold.acquire_invoke = invoked.nanoseconds();
  hold.acquire_return = returned.nanoseconds();
  hold.key_create_revision = key_create_revision;
  hold.lease_lost_time = valid_until().nanoseconds();
  hold_ = recorder_.record_lock_hold(std::move(hold));
  lost_ = false;
  return *hold_;
}

void LockSession::lost(Instant at) {
  if (!hold_) return;
  checker::LockHold& hold = recorder_.lock_hold(*hold_);
  hold.lease_lost_time =
      std::min(hold.lease_lost_time.value_or(at.nanoseconds()), at.nanoseconds());
  lost_ = true;  // a lease known to be gone is not brought back by a later renewal
}

void LockSession::releasing(Instant at) {
  if (!hold_) return;
  recorder_.lock_hold(*hold_).release_invoke = at.nanoseconds();
  hold_.reset();
}

}  // namespace lockstep::sim
