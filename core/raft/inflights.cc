#include "core/raft/inflights.h"

#include "core/base/assert.h"

namespace lockstep::raft {

Inflights::Inflights(size_t max_messages, uint64_t max_bytes)
    : max_messages_(max_messages), max_bytes_(max_bytes) {
  ASSERT(max_messages_ > 0, "at least one inflight message must be allowed");
}

void Inflights::add(LogIndex last_index, uint64_t bytes) {
  ASSERT(!full(), "adding to a full inflight window");
  ASSERT(messages_.empty() || messages_.back().last_index < last_index,
         "inflight appends must be added in index order");
  messages_.push_back(Inflight{last_index, bytes});
  bytes_ += bytes;
}

void Inflights::free_up_to(LogIndex index) {
  while (!messages_.empty() && messages_.front().last_index <= index) free_first();
}

void Inflights::free_first() {
  if (messages_.empty()) return;
  bytes_ -= messages_.front().bytes;
  messages_.pop_front();
}

void Inflights::reset() {
  messages_.clear();
  bytes_ = 0;
}

bool Inflights::full() const {
  return messages_.size() >= max_messages_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

}  // namespace lockstep::raft
