#pragma once

#include <cstdint>
#include <deque>

#include "core/base/ids.h"

namespace lockstep::raft {

// The append messages sent to one follower and not yet acknowledged, bounded both in count
// and in payload bytes (etcd's tracker.Inflights with MaxInflightMsgs/MaxInflightBytes):
// flow control so a slow follower cannot make the leader buffer without limit.
class Inflights {
 public:
  Inflights(size_t max_messages, uint64_t max_bytes);

  // Records an append whose last entry is `last_index`; indexes must increase.
  void add(LogIndex last_index, uint64_t bytes);
  // Frees every message whose last index is <= `index` (they were acknowledged).
  void free_up_to(LogIndex index);
  void free_first();
  void reset();

  bool full() const;
  size_t count() const { return messages_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Inflight {
    LogIndex last_index;
    uint64_t bytes;
  };
  size_t max_messages_;
  uint64_t max_bytes_;  // 0 means no byte limit
  std::deque<Inflight> messages_;
  uint64_t bytes_ = 0;
};

}  // namespace lockstep::raft
