#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/ids.h"
#include "core/base/time.h"

namespace lockstep::node {

// Bounds of one member. etcd's defaults where etcd has one; the simulation uses shorter
// intervals (see MemberConfig::for_simulation) so that many elections fit in a run.
inline constexpr size_t kMaxPendingRequestsDefault = 1024;  // proposals + reads waiting
inline constexpr size_t kMaxWatchesPerClient = 256;
inline constexpr size_t kMaxWatchResponsesPerDrain = 256;
inline constexpr size_t kMaxExpiredLeasesPerTick = 16;  // etcd revokes in small batches
inline constexpr size_t kMaxLeaseCheckpointsPerTick = 16;
inline constexpr uint64_t kSnapshotCountDefault = 10'000;          // etcd --snapshot-count
inline constexpr uint64_t kSnapshotCatchUpEntriesDefault = 5'000;  // etcd SnapshotCatchUpEntries
inline constexpr uint64_t kMaxAppendBytesDefault = 1024 * 1024;    // etcd MaxSizePerMsg

struct MemberConfig {
  NodeId id;
  uint64_t cluster_id = 0x6c6f636b73746570;  // "lockstep"
  // The voters of a brand-new cluster. Used only when the member's disk is empty and
  // `join_existing` is false; every founding member must be given the same list.
  std::vector<NodeId> initial_voters;
  // A member added later (MemberAdd) starts with no membership and learns it from the
  // leader's snapshot, as etcd's --initial-cluster-state=existing.
  bool join_existing = false;

  // One logical Raft tick (etcd --heartbeat-interval, 100 ms).
  Duration tick_interval = std::chrono::milliseconds(100);
  int heartbeat_interval_ticks = 1;
  // etcd --election-timeout 1000 ms = 10 ticks.
  int election_timeout_ticks = 10;
  bool pre_vote = true;      // etcd 3.5 default
  bool check_quorum = true;  // etcd always enables it

  // How long a client request may wait for its answer (etcd: 5 s + 2 x election timeout).
  Duration request_timeout = std::chrono::seconds(7);
  size_t max_pending_requests = kMaxPendingRequestsDefault;
  size_t max_request_bytes = 1536 * 1024;  // etcd --max-request-bytes
  size_t max_txn_ops = 128;                // etcd --max-txn-ops
  // etcd --quota-backend-bytes: once the backend would outgrow it, the member raises the
  // NOSPACE alarm and refuses puts, txns that write and lease grants. 0: no quota.
  uint64_t quota_backend_bytes = 0;

  uint64_t snapshot_count = kSnapshotCountDefault;
  uint64_t snapshot_catch_up_entries = kSnapshotCatchUpEntriesDefault;
  // Bound on the entry bytes of one AppendEntries message (at least one entry is always
  // sent, so 1 means one entry per message). etcd's MaxSizePerMsg; simulations shrink it to
  // reach the interleavings that big batches hide (FoundationDB randomises such knobs).
  uint64_t max_append_bytes = kMaxAppendBytesDefault;

  // Interval of the leader's lease checkpoints (etcd's default is 5 minutes).
  Duration lease_checkpoint_interval = std::chrono::minutes(5);
  // Watches created with progress_notify that were sent nothing for this long get an empty
  // response at the current revision (etcd --experimental-watch-progress-notify-interval,
  // 10 minutes by default).
  Duration watch_progress_notify_interval = std::chrono::minutes(10);

  Duration election_timeout() const { return tick_interval * election_timeout_ticks; }

  // Intervals scaled for simulation: 10 ms ticks, a 100 ms election timeout, and requests
  // that give up after a second (so faults produce indeterminate operations, not hangs).
  static MemberConfig for_simulation(NodeId id, std::vector<NodeId> voters) {
    MemberConfig config;
    config.id = id;
    config.initial_voters = std::move(voters);
    config.tick_interval = std::chrono::milliseconds(10);
    config.request_timeout = std::chrono::milliseconds(1000);
    config.snapshot_count = 500;
    config.snapshot_catch_up_entries = 100;
    config.lease_checkpoint_interval = std::chrono::seconds(2);
    // Shorter than the gaps between a watch workload's writes, so that idle watchers do get
    // progress notifications and the checker's "bookmarkable" judges real ones.
    config.watch_progress_notify_interval = std::chrono::milliseconds(10);
    return config;
  }
};

}  // namespace lockstep::node
