#include "core/raft/raft_log.h"

#include <algorithm>
#include <limits>

#include "core/base/known_bugs.h"

namespace lockstep::raft {

RaftLog::RaftLog(const MemoryStorage* storage)
    : storage_(storage),
      unstable_offset_(storage->last_index().next()),
      committed_(storage->first_index().previous()),
      applied_(storage->first_index().previous()) {
  ASSERT(storage_ != nullptr, "a RaftLog needs storage");
}

LogIndex RaftLog::unstable_offset() const {
  return unstable_offset_;
}

LogIndex RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index.next();
  return storage_->first_index();
}

LogIndex RaftLog::last_index() const {
  if (!unstable_entries_.empty()) {
    return LogIndex(unstable_offset_.value() + unstable_entries_.size() - 1);
  }
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index;
  return unstable_offset_.previous();
}

Term RaftLog::last_term() const {
  std::optional<Term> result = term(last_index());
  ASSERT(result.has_value(), "the term of the last index is always known");
  return *result;
}

std::optional<Term> RaftLog::term(LogIndex index) const {
  if (index > last_index()) return std::nullopt;
  if (index >= unstable_offset_ && !unstable_entries_.empty()) {
    return unstable_entries_[index.value() - unstable_offset_.value()].term;
  }
  if (unstable_snapshot_) {
    if (index == unstable_snapshot_->metadata.index) return unstable_snapshot_->metadata.term;
    return std::nullopt;  // below the snapshot: compacted
  }
  return storage_->term(index);
}

const Entry* RaftLog::entry(LogIndex index) const {
  if (index < first_index() || index > last_index()) return nullptr;
  if (index >= unstable_offset_)
    return &unstable_entries_[index.value() - unstable_offset_.value()];
  return storage_->entry(index);
}

bool RaftLog::match_term(LogIndex index, Term expected) const {
  std::optional<Term> actual = term(index);
  return actual.has_value() && *actual == expected;
}

bool RaftLog::is_up_to_date(LogIndex candidate_last_index, Term candidate_last_term) const {
  const Term our_last_term = last_term();
  return candidate_last_term > our_last_term ||
         (candidate_last_term == our_last_term && candidate_last_index >= last_index());
}

std::optional<std::vector<Entry>> RaftLog::entries(LogIndex low, LogIndex high,
                                                   uint64_t max_bytes) const {
  if (low < first_index()) return std::nullopt;
  high = std::min(high, last_index().next());
  std::vector<Entry> result;
  if (low >= high) return result;
  uint64_t bytes = 0;
  if (low < unstable_offset_) {
    std::optional<std::vector<Entry>> stable =
        storage_->entries(low, std::min(high, unstable_offset_), max_bytes);
    if (!stable) return std::nullopt;
    for (const Entry& entry : *stable) bytes += entry.data.size();
    result = std::move(*stable);
    // Stopped early for size: the unstable part is not reached.
    if (result.empty() || result.back().index.next() < std::min(high, unstable_offset_)) {
      return result;
    }
  }
  for (LogIndex index = std::max(low, unstable_offset_); index < high; index = index.next()) {
    const Entry& entry = unstable_entries_[index.value() - unstable_offset_.value()];
    bytes += entry.data.size();
    if (!result.empty() && bytes > max_bytes) break;
    result.push_back(entry);
  }
  return result;
}

LogIndex RaftLog::find_conflict(const std::vector<Entry>& entries) const {
  for (const Entry& entry : entries) {
    if (!match_term(entry.index, entry.term)) return entry.index;
  }
  return LogIndex(0);
}

std::pair<LogIndex, Term> RaftLog::find_conflict_by_term(LogIndex index, Term max_term) const {
  index = std::min(index, last_index());
  while (true) {
    std::optional<Term> found = term(index);
    if (!found) return {index, Term(0)};
    if (*found <= max_term || index == LogIndex(0)) return {index, *found};
    index = index.previous();
  }
}

std::optional<LogIndex> RaftLog::maybe_append(LogIndex index, Term log_term, LogIndex leader_commit,
                                              std::vector<Entry> entries) {
  if (!match_term(index, log_term)) return std::nullopt;
  const LogIndex last_new(index.value() + entries.size());
  const LogIndex conflict = find_conflict(entries);
  if (conflict != LogIndex(0)) {
    // Raft paper Figure 2, receiver step 3: delete the conflicting entry and all that
    // follow it. A committed entry can never conflict (Log Matching + Leader Completeness).
    ASSERT(conflict > committed_, "a leader's entries conflict with a committed entry");
    size_t skip = conflict.value() - index.value() - 1;
#ifdef LOCKSTEP_KNOWN_BUGS
    // KNOWN BUG stale-log-not-truncated: keeps the conflicting stale suffix and appends
    // only the leader's entries past this log's end.
    if (known_bug_active(KnownBug::kStaleLogNotTruncated)) {
      skip = std::min(entries.size(),
                      std::max(skip, static_cast<size_t>(last_index().value() - index.value())));
    }
#endif
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(skip));
    if (!entries.empty()) truncate_and_append(std::move(entries));
  }
  // Receiver step 5: commit up to the leader's commit, but only what this message proved
  // matches the leader's log.
  commit_to(std::min(leader_commit, last_new));
  return last_new;
}

LogIndex RaftLog::append(std::vector<Entry> entries) {
  if (entries.empty()) return last_index();
  ASSERT(entries.front().index > committed_, "appending over committed entries");
  truncate_and_append(std::move(entries));
  return last_index();
}

void RaftLog::truncate_and_append(std::vector<Entry> entries) {
  const LogIndex first = entries.front().index;
  ASSERT(first <= last_index().next(), "appending would leave a gap in the log");
  const LogIndex unstable_end(unstable_offset_.value() + unstable_entries_.size());
  if (first == unstable_end) {
    unstable_entries_.insert(unstable_entries_.end(), std::make_move_iterator(entries.begin()),
                             std::make_move_iterator(entries.end()));
  } else if (first <= unstable_offset_) {
    // The new entries replace some stable ones too: the caller persists them over the
    // stale suffix (MemoryStorage::append truncates).
    unstable_offset_ = first;
    unstable_entries_ = std::move(entries);
  } else {
    unstable_entries_.resize(first.value() - unstable_offset_.value());
    unstable_entries_.insert(unstable_entries_.end(), std::make_move_iterator(entries.begin()),
                             std::make_move_iterator(entries.end()));
  }
}

void RaftLog::commit_to(LogIndex index) {
  if (index <= committed_) return;  // the commit index never decreases
  ASSERT(index <= last_index(), "committing beyond the end of the log");
  committed_ = index;
}

bool RaftLog::maybe_commit(LogIndex index, Term current_term) {
  if (index <= committed_) return false;
  if (!match_term(index, current_term)) return false;
  commit_to(index);
  return true;
}

void RaftLog::applied_to(LogIndex index) {
  if (index == LogIndex(0)) return;
  ASSERT(index <= committed_, "applying an uncommitted entry");
  if (index > applied_) applied_ = index;
}

void RaftLog::restore(Snapshot snapshot) {
  committed_ = snapshot.metadata.index;
  unstable_offset_ = snapshot.metadata.index.next();
  unstable_entries_.clear();
  unstable_snapshot_ = std::move(snapshot);
}

void RaftLog::stable_to(LogIndex index, Term expected_term) {
  if (unstable_entries_.empty() || index < unstable_offset_) return;
  std::optional<Term> actual = term(index);
  // The entry was replaced after the Ready that carried it: it is not the one persisted.
  if (!actual || *actual != expected_term) return;
  const LogIndex unstable_end(unstable_offset_.value() + unstable_entries_.size());
  if (index >= unstable_end) return;
  const size_t drop = index.value() - unstable_offset_.value() + 1;
  unstable_entries_.erase(unstable_entries_.begin(),
                          unstable_entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  unstable_offset_ = index.next();
}

LogIndex RaftLog::last_stable_index() const {
  // A snapshot not yet persisted replaces the whole log: nothing is known stable until it is.
  if (unstable_snapshot_) return LogIndex(0);
  if (!unstable_entries_.empty()) return unstable_offset_.previous();
  return last_index();
}

void RaftLog::stable_snapshot_to(LogIndex index) {
  if (unstable_snapshot_ && unstable_snapshot_->metadata.index == index) {
    unstable_snapshot_.reset();
  }
}

const Snapshot& RaftLog::snapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_->snapshot();
}

bool RaftLog::has_next_committed_entries() const {
  return committed_ > applied_ && std::max(applied_.next(), first_index()) <= committed_;
}

std::vector<Entry> RaftLog::next_committed_entries(uint64_t max_bytes) const {
  if (!has_next_committed_entries()) return {};
  std::optional<std::vector<Entry>> result =
      entries(std::max(applied_.next(), first_index()), committed_.next(), max_bytes);
  ASSERT(result.has_value(), "committed entries after applied must be in the log");
  return std::move(*result);
}

}  // namespace lockstep::raft
