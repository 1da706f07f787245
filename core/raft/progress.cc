#include "core/raft/progress.h"

#include <algorithm>

#include "core/base/assert.h"

namespace lockstep::raft {

std::string_view progress_state_name(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  UNREACHABLE("unknown ProgressState");
}

Progress::Progress(LogIndex match, LogIndex next, size_t max_inflight_messages,
                   uint64_t max_inflight_bytes, bool is_learner)
    : match_(match),
      next_(next),
      is_learner_(is_learner),
      inflights_(max_inflight_messages, max_inflight_bytes) {
  ASSERT(match_ < next_, "Progress invariant: match < next");
}

void Progress::become_probe() {
  // After a snapshot the follower holds at least the snapshot index; probe just after it.
  if (state_ == ProgressState::kSnapshot) {
    next_ = std::max(match_.next(), pending_snapshot_.next());
  } else {
    next_ = match_.next();
  }
  state_ = ProgressState::kProbe;
  pending_snapshot_ = LogIndex(0);
  probe_sent_ = false;
  inflights_.reset();
}

void Progress::become_replicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_.next();
  pending_snapshot_ = LogIndex(0);
  probe_sent_ = false;
  inflights_.reset();
}

void Progress::become_snapshot(LogIndex snapshot_index) {
  state_ = ProgressState::kSnapshot;
  pending_snapshot_ = snapshot_index;
  probe_sent_ = false;
  inflights_.reset();
}

bool Progress::maybe_update(LogIndex index) {
  bool updated = false;
  if (match_ < index) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, index.next());
  return updated;
}

bool Progress::maybe_decrease_to(LogIndex rejected, LogIndex match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // Rejections below match are stale (reordered or duplicated messages).
    if (rejected <= match_) return false;
    // Replication was optimistic; fall back to just after the known match.
    next_ = match_.next();
    return true;
  }
  // In probe state only the rejection of the latest probe (next - 1) counts.
  if (next_.previous() != rejected) return false;
  next_ = std::max(std::min(rejected, match_hint.next()), match_.next());
  probe_sent_ = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.full();
    case ProgressState::kSnapshot:
      return true;
  }
  UNREACHABLE("unknown ProgressState");
}

std::string Progress::to_string() const {
  std::string text = std::string(progress_state_name(state_)) +
                     " match=" + std::to_string(match_.value()) +
                     " next=" + std::to_string(next_.value());
  if (is_learner_) text += " learner";
  if (state_ == ProgressState::kSnapshot) {
    text += " pending_snapshot=" + std::to_string(pending_snapshot_.value());
  }
  if (probe_sent_) text += " paused";
  if (inflights_.count() > 0) {
    text += " inflight=" + std::to_string(inflights_.count());
    if (inflights_.full()) text += "(full)";
  }
  return text;
}

}  // namespace lockstep::raft
