#pragma once

#include <string>

#include "core/base/ids.h"
#include "core/raft/inflights.h"

namespace lockstep::raft {

// How the leader replicates to one follower (etcd's tracker.StateType):
// - kProbe: the follower's log position is unknown; send one append per heartbeat interval
//   and back off on rejection until the consistency check passes.
// - kReplicate: the position is known; stream appends optimistically, bounded by inflights.
// - kSnapshot: the follower needs entries the leader compacted; a snapshot is in flight and
//   nothing else is sent until it is reported done or failed.
enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };

std::string_view progress_state_name(ProgressState state);

// The leader's view of one peer. Invariant: match < next.
class Progress {
 public:
  Progress(LogIndex match, LogIndex next, size_t max_inflight_messages, uint64_t max_inflight_bytes,
           bool is_learner);

  LogIndex match() const { return match_; }
  LogIndex next() const { return next_; }
  ProgressState state() const { return state_; }
  LogIndex pending_snapshot() const { return pending_snapshot_; }
  bool probe_sent() const { return probe_sent_; }
  bool recent_active() const { return recent_active_; }
  bool is_learner() const { return is_learner_; }
  const Inflights& inflights() const { return inflights_; }
  Inflights& inflights() { return inflights_; }

  void set_recent_active(bool active) { recent_active_ = active; }
  void set_learner(bool is_learner) { is_learner_ = is_learner; }
  void set_probe_sent(bool sent) { probe_sent_ = sent; }

  void become_probe();
  void become_replicate();
  void become_snapshot(LogIndex snapshot_index);

  // An append was acknowledged up to `index`; false if the acknowledgement is stale.
  bool maybe_update(LogIndex index);
  // After sending entries ending at `last_index` in replicate state.
  void optimistic_update(LogIndex last_index) { next_ = last_index.next(); }
  // A rejection of the append at `rejected`, with the leader-computed probe hint. False if
  // the rejection is stale (the follower already moved on).
  bool maybe_decrease_to(LogIndex rejected, LogIndex match_hint);

  // Whether the leader should hold back appends to this peer (flow control).
  bool is_paused() const;

  std::string to_string() const;

 private:
  LogIndex match_;
  LogIndex next_;
  ProgressState state_ = ProgressState::kProbe;
  LogIndex pending_snapshot_;
  bool probe_sent_ = false;
  bool recent_active_ = false;
  bool is_learner_ = false;
  Inflights inflights_;
};

}  // namespace lockstep::raft
