#include "sim/event_queue.h"

#include "core/base/assert.h"

namespace lockstep::sim {

void EventQueue::sift_up(size_t index, ScheduledEvent event) {
  while (index > 0) {
    const size_t parent = (index - 1) / kArity;
    if (!before(event, heap_[parent])) break;
    heap_[index] = heap_[parent];
    index = parent;
  }
  heap_[index] = event;
}

void EventQueue::push(const ScheduledEvent& event) {
  heap_.emplace_back();
  sift_up(heap_.size() - 1, event);
}

ScheduledEvent EventQueue::pop() {
  ASSERT(!heap_.empty(), "pop() of an empty event queue");
  const ScheduledEvent earliest = heap_.front();
  const ScheduledEvent last = heap_.back();
  heap_.pop_back();
  const size_t count = heap_.size();
  if (count == 0) return earliest;
  // Walk the hole at the root down to a leaf, always into the smallest child.
  size_t hole = 0;
  while (true) {
    const size_t first_child = hole * kArity + 1;
    if (first_child >= count) break;
    const size_t end = first_child + kArity < count ? first_child + kArity : count;
    size_t smallest = first_child;
    for (size_t child = first_child + 1; child < end; ++child) {
      if (before(heap_[child], heap_[smallest])) smallest = child;
    }
    heap_[hole] = heap_[smallest];
    hole = smallest;
  }
  // The former last element goes into the hole, then up to where it belongs.
  sift_up(hole, last);
  return earliest;
}

}  // namespace lockstep::sim
