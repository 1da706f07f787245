#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/env/disk.h"
#include "core/raft/types.h"
#include "store/snapshotter.h"
#include "store/wal.h"

namespace lockstep::store {

// Snapshot files kept on disk. Two, so that when the newest turns out corrupt at boot the
// member can still start from the one before it (the WAL is only released up to the oldest
// retained snapshot, so it still covers everything after that one).
inline constexpr size_t kRetainedSnapshotsDefault = 2;

struct RaftPersistenceOptions {
  std::string wal_directory = "wal";
  std::string snapshot_directory = "snap";
  uint64_t wal_segment_bytes = kWalSegmentBytesDefault;
  uint64_t wal_preallocate_bytes = 0;  // WalOptions::preallocate_bytes (the daemon sets it)
  size_t retained_snapshots = kRetainedSnapshotsDefault;
};

// What a member finds on its disk at boot (the same shape as node::RaftDurableState).
struct RaftRecoveredState {
  raft::HardState hard_state;
  raft::Snapshot snapshot;           // empty when none
  std::vector<raft::Entry> entries;  // consecutive, starting at snapshot.metadata.index + 1
  // What recovery repaired or skipped (a torn WAL tail, a corrupt snapshot file that an older
  // one replaced), for the member's trace. Empty after a clean shutdown.
  std::vector<std::string> notes;
};

// Raft's durable state for one member: the WAL plus snapshot files, over env::Disk. It has the
// shape of core/node's RaftStorage (load / save / release_through) so that the member's glue
// code can forward to it one call per method.
class RaftPersistence {
 public:
  // Opens (or creates) the WAL and snapshot directories and recovers. Corruption that a crash
  // cannot explain is kDataCorruption naming the file and offset; the member must not start.
  static Result<std::unique_ptr<RaftPersistence>> open(env::Disk& disk,
                                                       RaftPersistenceOptions options = {});

  // The state recovered by open(). It describes the disk as of open(); after the first save()
  // it is stale, so asking for it then is an error (kInternal) rather than a wrong answer.
  Result<RaftRecoveredState> load();

  // Durably records `snapshot` (when not empty: its file first, atomically, then its WAL
  // marker), then `hard_state` (when not empty), then `entries`, with one WAL fsync for all of
  // them. When this returns ok, all of it survives any crash; entries overwrite any stored
  // entries at the same or later indexes (Raft paper §5.3).
  Status save(const raft::HardState& hard_state, std::span<const raft::Entry> entries,
              const raft::Snapshot& snapshot);

  // A durable snapshot covers entries up to `index`: drops snapshot files beyond the newest
  // `retained_snapshots` and WAL segments not needed after the oldest retained snapshot.
  Status release_through(LogIndex index);

  // Reads and verifies the snapshot file for (index, term) that save() wrote and
  // release_through() kept: kDataCorruption when it does not verify, an error naming the path
  // when it is gone.
  Result<raft::Snapshot> load_snapshot(LogIndex index, Term term);

  const WalStats& wal_stats() const { return wal_->stats(); }

 private:
  RaftPersistence(env::Disk& disk, RaftPersistenceOptions options)
      : options_(std::move(options)), snapshotter_(disk, options_.snapshot_directory) {}

  // Picks the newest snapshot file that has a WAL marker, verifies, and is followed by the
  // WAL's entries; kDataCorruption when none does and the WAL alone cannot rebuild the log.
  Status choose_snapshot(const WalContents& contents, RaftRecoveredState& state);

  RaftPersistenceOptions options_;
  Snapshotter snapshotter_;
  std::unique_ptr<Wal> wal_;
  std::optional<RaftRecoveredState> recovered_;
  bool saved_since_open_ = false;
  std::vector<SnapshotFile> snapshots_;  // durable snapshots with markers, newest first
};

}  // namespace lockstep::store
