#pragma once

#include <memory>

#include "core/node/raft_storage.h"
#include "store/raft_persistence.h"

namespace lockstep::store {

// core/node's RaftStorage over store/'s WAL + snapshot files. The member defines the
// interface and store/ implements its shape; this is the one place that joins them, used by
// the simulated cluster and the daemon alike.
class RaftStorageAdapter final : public node::RaftStorage {
 public:
  explicit RaftStorageAdapter(std::unique_ptr<RaftPersistence> persistence)
      : persistence_(std::move(persistence)) {}

  Result<node::RaftDurableState> load() override {
    Result<RaftRecoveredState> recovered = persistence_->load();
    if (!recovered.is_ok()) return recovered.error();
    node::RaftDurableState state;
    state.hard_state = recovered->hard_state;
    state.snapshot = std::move(recovered->snapshot);
    state.entries = std::move(recovered->entries);
    return state;
  }

  Status save(const raft::HardState& hard_state, std::span<const raft::Entry> entries,
              const raft::Snapshot& snapshot) override {
    return persistence_->save(hard_state, entries, snapshot);
  }

  Status release_through(LogIndex index) override { return persistence_->release_through(index); }

  Result<raft::Snapshot> load_snapshot(const raft::SnapshotMetadata& metadata) override {
    return persistence_->load_snapshot(metadata.index, metadata.term);
  }

 private:
  std::unique_ptr<RaftPersistence> persistence_;
};

}  // namespace lockstep::store
