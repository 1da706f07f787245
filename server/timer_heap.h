#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/time.h"

namespace lockstep::server {

// A handle to a scheduled timer. Stale handles (fired or cancelled timers) are safe to cancel.
struct TimerId {
  uint32_t slot = 0;
  uint32_t generation = 0;  // 0 never names a live timer
  bool valid() const { return generation != 0; }
};

// What a timer carries when it fires: who to call and a number for it (a fiber id, a peer
// index). Two words instead of a std::function keep scheduling allocation-free.
class TimerHandler {
 public:
  virtual void on_timer(uint64_t cookie) = 0;

 protected:
  virtual ~TimerHandler() = default;
};

struct DueTimer {
  TimerHandler* handler;
  uint64_t cookie;
};

// A binary min-heap of deadlines with O(log n) cancel, so a fiber parked with a deadline
// and woken early (every Network::receive with a timeout) removes its timer instead of
// leaving a stale entry behind. Ties fire in scheduling order. Slots are reused, so after
// warm-up scheduling allocates nothing.
class TimerHeap {
 public:
  TimerId schedule(Instant deadline, TimerHandler* handler, uint64_t cookie);
  // Removes a pending timer; a no-op for a fired, cancelled or default TimerId.
  void cancel(TimerId timer);
  // The earliest pending deadline, if any.
  std::optional<Instant> next_deadline() const;
  // Removes and returns the earliest timer if its deadline is at or before `now`.
  std::optional<DueTimer> pop_due(Instant now);

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Entry {
    Instant deadline;
    uint64_t sequence;
    TimerHandler* handler;
    uint64_t cookie;
    uint32_t slot;
  };
  struct Slot {
    uint32_t generation = 0;
    uint32_t heap_position = kNotInHeap;
  };
  static constexpr uint32_t kNotInHeap = UINT32_MAX;

  static bool earlier(const Entry& a, const Entry& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence;
  }
  void place(size_t position, Entry entry);
  void sift_up(size_t position);
  void sift_down(size_t position);
  void remove_at(size_t position);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_sequence_ = 0;
};

}  // namespace lockstep::server
