#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/base/ids.h"
#include "core/base/time.h"
#include "core/mvcc/watch_requests.h"
#include "core/node/client_protocol.h"

namespace lockstep::sim {

// How a watcher client sorts the watch stream messages it receives. It has one current watch
// (a member and that member's watch id); every other message comes from a *stray*: a watch the
// client gave up on (silence, a broken sequence) whose cancel request the network lost, so the
// member still streams it — progress notifications every interval, events as they come.
//
// Two rules follow, both as etcd's clientv3 watcher has them:
// - only the current watch's messages show that it is alive. A stray's steady stream must not
//   hide that the current watch went silent (its one message, a compaction cancel say, was
//   lost, and the member has already dropped it);
// - a message from a watch id the client does not know gets that watch canceled
//   (clientv3 watchGrpcStream: "watch response on unexpected watch id; cancel id"), again
//   after a while if the cancel is lost too, so strays do not stream forever.
class WatchStream {
 public:
  enum class Kind : uint8_t {
    kCurrent,  // the current watch's next message: use it
    kBroken,   // the current watch's, out of sequence: a message was lost, start over
    kStray,    // another watch's: drop it (stray_cancels() says whether to cancel it)
  };

  explicit WatchStream(Duration idle_check) : idle_check_(idle_check) {}

  // The client created `id` on `member` at `now`; it expects sequence numbers from 1.
  void start(NodeId member, mvcc::WatchId id, Instant now);
  // The client gave up on the current watch (and asked the member to cancel it).
  void stop();

  Kind classify(const node::WatchStreamMessage& message, Instant now);

  // Until when the current watch may stay silent before the client checks on it.
  Instant silent_at() const { return last_heard_ + idle_check_; }
  bool silent(Instant now) const { return now >= silent_at(); }

  // The strays seen since the last call that should be canceled now: each one once, and again
  // if it is still streaming an idle check after its last cancel.
  std::vector<std::pair<NodeId, mvcc::WatchId>> stray_cancels(Instant now);

 private:
  Duration idle_check_;
  NodeId member_;
  mvcc::WatchId id_ = mvcc::kInvalidWatchId;
  uint64_t expected_sequence_ = 1;
  Instant last_heard_;
  std::map<std::pair<NodeId, mvcc::WatchId>, Instant> canceled_at_;  // strays asked to cancel
  std::vector<std::pair<NodeId, mvcc::WatchId>> to_cancel_;
};

}  // namespace lockstep::sim
