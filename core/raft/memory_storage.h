#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/error.h"
#include "core/raft/types.h"

namespace lockstep::raft {

// The stable part of a node's Raft state, held in memory: what the caller has persisted
// (hard state, the latest snapshot, and the log entries after it). It plays the role of
// etcd's raft.MemoryStorage: at boot store/ fills it from the WAL and snapshot files; while
// running, the caller appends each Ready's entries here *after* writing them durably, so
// the Raft node only ever reads from it what is already on disk.
class MemoryStorage {
 public:
  // An empty log at index 0 with no members; use apply_snapshot or set_conf_state to give
  // a new cluster its initial membership.
  MemoryStorage();

  const HardState& hard_state() const { return hard_state_; }
  void set_hard_state(const HardState& hard_state) { hard_state_ = hard_state; }

  // The membership as of the snapshot (ConfChange entries after it are re-applied by the
  // application as it replays the committed log, as in etcd).
  const ConfState& conf_state() const { return snapshot_.metadata.conf_state; }
  // Bootstrapping a fresh cluster: the initial membership, at snapshot index 0.
  void set_conf_state(const ConfState& conf_state);

  // The first index still held as an entry (snapshot index + 1) and the last index.
  LogIndex first_index() const { return entries_.front().index.next(); }
  LogIndex last_index() const { return entries_.back().index; }
  // Term of the entry at `index`; nullopt when compacted away or beyond the end. The
  // snapshot's own (index, term) is answerable.
  std::optional<Term> term(LogIndex index) const;
  // Entries in [low, high), stopping once `max_bytes` of payload would be exceeded (at
  // least one entry is returned when any is in range). nullopt when `low` is compacted.
  std::optional<std::vector<Entry>> entries(LogIndex low, LogIndex high, uint64_t max_bytes) const;
  const Entry* entry(LogIndex index) const;

  const Snapshot& snapshot() const { return snapshot_; }
  // Forgets the held snapshot's image and keeps its metadata, once the image is durable
  // elsewhere: its owner attaches the image again to the snapshot messages it sends.
  void release_snapshot_data() { std::string().swap(snapshot_.data); }

  // Replaces everything with `snapshot` (a follower received it, or a restart found it).
  // Fails with kInvalidInput if it is older than the one held.
  Status apply_snapshot(Snapshot snapshot);
  // Makes a snapshot at `index` (which must be applied and in the log) with the given
  // membership and application image. The log is not compacted (call compact()).
  Result<Snapshot> create_snapshot(LogIndex index, const ConfState& conf_state, std::string data);
  // Discards entries up to and including `index` (thesis §5.1); they must be in a snapshot.
  Status compact(LogIndex index);
  // Appends entries that must be contiguous with (or overlap) the log; overlapping entries
  // replace the existing suffix, as the caller persists what Raft truncated.
  Status append(const std::vector<Entry>& entries);

 private:
  size_t offset_of(LogIndex index) const;

  HardState hard_state_;
  Snapshot snapshot_;
  // entries_[0] is a placeholder holding the snapshot's (index, term), so term() of the
  // snapshot index needs no special case; entries_[i].index == entries_[0].index + i.
  std::vector<Entry> entries_;
};

}  // namespace lockstep::raft
