#pragma once

#include <algorithm>
#include <deque>
#include <optional>

#include "core/env/runtime.h"

namespace lockstep::env {

// A condition fibers of one process wait on. notify_*() wakes waiters in the order they
// started waiting (FIFO), which keeps simulated runs deterministic.
class Event {
 public:
  explicit Event(Runtime& runtime) : runtime_(runtime) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Blocks until notified (true) or until `deadline` on the process clock (false).
  bool wait(std::optional<Instant> deadline = std::nullopt) {
    const FiberId me = runtime_.current_fiber();
    waiters_.push_back(me);
    const bool woken = runtime_.park(deadline);
    if (!woken) std::erase(waiters_, me);
    return woken;
  }

  void notify_one() {
    if (waiters_.empty()) return;
    const FiberId next = waiters_.front();
    waiters_.pop_front();
    runtime_.wake(next);
  }

  void notify_all() {
    std::deque<FiberId> woken;
    woken.swap(waiters_);
    for (FiberId fiber : woken) runtime_.wake(fiber);
  }

  bool has_waiters() const { return !waiters_.empty(); }

 private:
  Runtime& runtime_;
  std::deque<FiberId> waiters_;
};

}  // namespace lockstep::env
