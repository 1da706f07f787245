#pragma once

#include <span>
#include <vector>

#include "core/base/error.h"
#include "core/raft/types.h"

namespace lockstep::node {

// Everything a member finds on its disk after a restart: the newest snapshot (possibly
// empty), the hard state, and the log entries after the snapshot.
struct RaftDurableState {
  raft::HardState hard_state;
  raft::Snapshot snapshot;
  std::vector<raft::Entry> entries;  // consecutive, starting at snapshot.metadata.index + 1
};

// Raft's persistence as the member needs it. core/node defines the interface and store/
// implements it (WAL + snapshot files over env::Disk); the member never sees a file.
//
// The one rule that matters (Raft paper §5, etcd raft's Ready contract): everything passed
// to save() is durable — fsynced — when save() returns ok, because the member sends the
// messages of the same Ready right after, and a vote or an acknowledgement for an entry
// that a crash could lose breaks Raft's safety.
class RaftStorage {
 public:
  virtual ~RaftStorage() = default;

  // Reads what earlier save() calls made durable. An empty disk yields an empty state.
  // Corruption that a crash cannot explain (e.g. a bad checksum in the middle of the log)
  // is kDataCorruption; a torn tail left by a crash is trimmed, not an error.
  virtual Result<RaftDurableState> load() = 0;

  // Durably records `snapshot` (when not empty), then `hard_state` (when not empty), then
  // `entries`. Entries overwrite any stored entries at the same or later indexes (a new
  // leader may truncate a follower's uncommitted tail, Raft paper §5.3).
  virtual Status save(const raft::HardState& hard_state, std::span<const raft::Entry> entries,
                      const raft::Snapshot& snapshot) = 0;

  // Lets storage drop log entries up to and including `index`, which a durable snapshot
  // now covers. Optional for correctness; bounds disk use.
  virtual Status release_through(LogIndex index) = 0;

  // The durable snapshot with this metadata, read back from where save() wrote it. The member
  // keeps only a snapshot's metadata in memory and reads its image when a follower needs it,
  // as etcd keeps only the metadata and sends a lagging follower its backend file.
  virtual Result<raft::Snapshot> load_snapshot(const raft::SnapshotMetadata& metadata) = 0;
};

}  // namespace lockstep::node
