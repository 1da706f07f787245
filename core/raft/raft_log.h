#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/raft/memory_storage.h"
#include "core/raft/types.h"

namespace lockstep::raft {

// Read access to a node's log, for the invariant checker and the test harnesses.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Entries are held for indexes in [first_index, last_index]; the term of
  // first_index - 1 is still known (the snapshot's).
  virtual LogIndex first_index() const = 0;
  virtual LogIndex last_index() const = 0;
  virtual std::optional<Term> term(LogIndex index) const = 0;
  virtual const Entry* entry(LogIndex index) const = 0;
};

// A node's log as Raft sees it: the stable part in MemoryStorage followed by the unstable
// part (entries and possibly a snapshot not yet handed out for persistence), plus the
// commit and applied indexes. Mirrors etcd's raftLog/unstable split.
class RaftLog final : public LogReader {
 public:
  explicit RaftLog(const MemoryStorage* storage);

  LogIndex first_index() const override;
  LogIndex last_index() const override;
  std::optional<Term> term(LogIndex index) const override;
  const Entry* entry(LogIndex index) const override;

  Term last_term() const;
  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  bool match_term(LogIndex index, Term term) const;
  // Raft paper §5.4.1: a candidate's log is at least as up-to-date as ours if its last term
  // is greater, or equal with an index at least as large.
  bool is_up_to_date(LogIndex last_index, Term last_term) const;

  // Entries in [low, high) bounded by max_bytes (at least one if any); nullopt if `low` is
  // compacted (the caller must send a snapshot instead).
  std::optional<std::vector<Entry>> entries(LogIndex low, LogIndex high, uint64_t max_bytes) const;

  // The follower side of the AppendEntries consistency check (Raft paper Figure 2, receiver
  // steps 2-5). Returns the index of the last new entry when (index, log_term) matches.
  std::optional<LogIndex> maybe_append(LogIndex index, Term log_term, LogIndex leader_commit,
                                       std::vector<Entry> entries);
  // Appends at the end; returns the new last index (leader path).
  LogIndex append(std::vector<Entry> entries);
  // Index of the first entry in `entries` that is not already in the log with the same
  // term, or 0 if all are present (Raft paper Figure 2, receiver step 3).
  LogIndex find_conflict(const std::vector<Entry>& entries) const;
  // Fast backtracking (etcd's findConflictByTerm): the largest index <= `index` whose term
  // is <= `term`, with that term. Lets a leader skip a whole term of mismatches per round.
  std::pair<LogIndex, Term> find_conflict_by_term(LogIndex index, Term term) const;

  void commit_to(LogIndex index);
  // Commits `index` if it is beyond the commit index and holds an entry of `term`
  // (the leader's commit rule, thesis §3.6.2).
  bool maybe_commit(LogIndex index, Term term);
  void applied_to(LogIndex index);

  // Installs a snapshot received from a leader; the log becomes empty after it.
  void restore(Snapshot snapshot);

  // The persistence hand-off (Ready / advance).
  bool has_unstable_entries() const { return !unstable_entries_.empty(); }
  // The last index whose entry is in stable storage (not waiting in the unstable part).
  LogIndex last_stable_index() const;
  const std::vector<Entry>& unstable_entries() const { return unstable_entries_; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  void stable_to(LogIndex index, Term term);
  void stable_snapshot_to(LogIndex index);
  // The latest snapshot, unstable or stable.
  const Snapshot& snapshot() const;

  bool has_next_committed_entries() const;
  std::vector<Entry> next_committed_entries(uint64_t max_bytes) const;

 private:
  // Replaces the unstable tail from entries.front().index on (conflict truncation).
  void truncate_and_append(std::vector<Entry> entries);
  LogIndex unstable_offset() const;

  const MemoryStorage* storage_;
  std::optional<Snapshot> unstable_snapshot_;
  // Entries not yet handed to stable storage; the first has index unstable_offset().
  std::vector<Entry> unstable_entries_;
  LogIndex unstable_offset_;
  LogIndex committed_;
  LogIndex applied_;
};

}  // namespace lockstep::raft
