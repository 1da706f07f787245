#include "server/timer_heap.h"

#include "core/base/assert.h"

namespace lockstep::server {

TimerId TimerHeap::schedule(Instant deadline, TimerHandler* handler, uint64_t cookie) {
  ASSERT(handler != nullptr, "a timer needs a handler");
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& record = slots_[slot];
  // Generation 0 is reserved for "no timer", so a default TimerId never cancels anything.
  record.generation = record.generation == UINT32_MAX ? 1 : record.generation + 1;
  heap_.push_back(Entry{deadline, next_sequence_++, handler, cookie, slot});
  record.heap_position = static_cast<uint32_t>(heap_.size() - 1);
  sift_up(heap_.size() - 1);
  return TimerId{slot, record.generation};
}

void TimerHeap::cancel(TimerId timer) {
  if (!timer.valid() || timer.slot >= slots_.size()) return;
  const Slot& record = slots_[timer.slot];
  if (record.generation != timer.generation || record.heap_position == kNotInHeap) return;
  remove_at(record.heap_position);
}

std::optional<Instant> TimerHeap::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

std::optional<DueTimer> TimerHeap::pop_due(Instant now) {
  if (heap_.empty() || heap_.front().deadline > now) return std::nullopt;
  const DueTimer due{heap_.front().handler, heap_.front().cookie};
  remove_at(0);
  return due;
}

void TimerHeap::place(size_t position, Entry entry) {
  slots_[entry.slot].heap_position = static_cast<uint32_t>(position);
  heap_[position] = entry;
}

void TimerHeap::sift_up(size_t position) {
  const Entry moving = heap_[position];
  while (position > 0) {
    const size_t parent = (position - 1) / 2;
    if (!earlier(moving, heap_[parent])) break;
    place(position, heap_[parent]);
    position = parent;
  }
  place(position, moving);
}

void TimerHeap::sift_down(size_t position) {
  const Entry moving = heap_[position];
  for (;;) {
    const size_t left = 2 * position + 1;
    if (left >= heap_.size()) break;
    const size_t right = left + 1;
    const size_t child = right < heap_.size() && earlier(heap_[right], heap_[left]) ? right : left;
    if (!earlier(heap_[child], moving)) break;
    place(position, heap_[child]);
    position = child;
  }
  place(position, moving);
}

void TimerHeap::remove_at(size_t position) {
  ASSERT(position < heap_.size(), "removing a timer outside the heap");
  const uint32_t slot = heap_[position].slot;
  slots_[slot].heap_position = kNotInHeap;
  free_slots_.push_back(slot);
  const Entry last = heap_.back();
  heap_.pop_back();
  if (position == heap_.size()) return;  // removed the last entry itself
  place(position, last);
  // The moved entry may belong above or below its new place.
  sift_up(position);
  sift_down(slots_[last.slot].heap_position);
}

}  // namespace lockstep::server
