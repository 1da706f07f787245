#include "core/node/duplicate_filter.h"

#include "core/base/assert.h"

namespace lockstep::node {

DuplicateFilter::DuplicateFilter(size_t capacity) : capacity_(capacity) {
  ASSERT(capacity_ > 0, "a filter that remembers nothing filters nothing");
}

bool DuplicateFilter::admit(Key key) {
  if (!seen_.insert(key).second) return false;
  order_.push_back(key);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

}  // namespace lockstep::node
