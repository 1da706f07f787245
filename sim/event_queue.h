#pragma once

#include <cstdint>
#include <vector>

#include "core/base/time.h"

namespace lockstep::sim {

enum class EventKind : uint8_t { kFiberTimer, kDeliver, kCallback };

// One timed event of the world's scheduler. Small and trivially copyable: the queue moves
// these around constantly.
struct ScheduledEvent {
  Instant time;
  uint64_t sequence = 0;
  EventKind kind = EventKind::kCallback;
  uint32_t process_index = 0;
  uint32_t slot = 0;
  uint64_t token = 0;  // wait token, or index into the message / callback slab
};

// The world's pending events, popped in (time, sequence) order. Sequence numbers are unique,
// so the order is total and does not depend on how the queue is built: any correct priority
// queue pops the same events in the same order, which keeps trace hashes stable.
//
// A 4-ary min-heap: a loaded cluster keeps a few thousand events queued (message deliveries,
// fiber deadlines, stale timers of fibers woken early), and a heap four wide is half as deep
// as a binary one, so a pop touches half as many cache lines. The pop moves the hole left by
// the root down to a leaf along the smallest children and then sifts the last element up
// from there (Floyd's trick): the last element usually belongs near the bottom, which saves
// comparing it on every level on the way down.
class EventQueue {
 public:
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The earliest event. Requires !empty().
  const ScheduledEvent& top() const { return heap_.front(); }
  void push(const ScheduledEvent& event);
  // Removes and returns the earliest event. Requires !empty().
  ScheduledEvent pop();

 private:
  static constexpr size_t kArity = 4;

  static bool before(const ScheduledEvent& left, const ScheduledEvent& right) {
    if (left.time != right.time) return left.time < right.time;
    return left.sequence < right.sequence;
  }
  void sift_up(size_t index, ScheduledEvent event);

  std::vector<ScheduledEvent> heap_;
};

}  // namespace lockstep::sim
