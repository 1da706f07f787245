#include "sim/cluster/watch_stream.h"

#include <algorithm>

namespace lockstep::sim {

void WatchStream::start(NodeId member, mvcc::WatchId id, Instant now) {
  member_ = member;
  id_ = id;
  expected_sequence_ = 1;
  last_heard_ = now;
}

void WatchStream::stop() {
  id_ = mvcc::kInvalidWatchId;
}

WatchStream::Kind WatchStream::classify(const node::WatchStreamMessage& message, Instant now) {
  // Watch ids are per member: a message from a member this client left behind may carry the
  // current id, so the sender must match too.
  const NodeId sender = message.response.header.member_id;
  const mvcc::WatchId id = message.response.watch_id;
  if (id_ != mvcc::kInvalidWatchId && id == id_ && sender == member_) {
    if (message.sequence != expected_sequence_++) return Kind::kBroken;
    last_heard_ = now;
    return Kind::kCurrent;
  }
  // A stray that says it is canceled is gone already.
  if (message.response.canceled || id == mvcc::kInvalidWatchId) return Kind::kStray;
  const std::pair<NodeId, mvcc::WatchId> stray{sender, id};
  auto asked = canceled_at_.find(stray);
  if ((asked == canceled_at_.end() || now - asked->second >= idle_check_) &&
      std::ranges::find(to_cancel_, stray) == to_cancel_.end()) {
    to_cancel_.push_back(stray);
  }
  return Kind::kStray;
}

std::vector<std::pair<NodeId, mvcc::WatchId>> WatchStream::stray_cancels(Instant now) {
  for (const auto& stray : to_cancel_) canceled_at_[stray] = now;
  return std::exchange(to_cancel_, {});
}

}  // namespace lockstep::sim
