#pragma once

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/mvcc/apply_request.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/kv_applier.h"
#include "core/mvcc/kv_store.h"
#include "core/mvcc/lessor.h"
#include "core/mvcc/watch_hub.h"

namespace lockstep::mvcc {

struct StateMachineOptions {
  size_t max_txn_ops = limits::kMaxTxnOpsDefault;
  LessorOptions lessor{};
};

// What applying one entry produced.
struct ApplyOutcome {
  // The entry was at or below the backend's consistent index: it was applied before a
  // restart, so it was skipped and `response` is meaningless (replay is idempotent).
  bool skipped = false;
  // The client's answer: a response, or an expected failure with etcd's code.
  Result<ApplyResponse> response{ApplyResponse{}};
  // The store revision after the entry.
  Revision revision;
};

// The MVCC state machine a member applies committed Raft entries to: KV store, lessor and
// watch hub over one Backend. Every applied entry ends in exactly one backend commit that
// carries its index, so after a crash the node replays its log from the backend's
// consistent index and gets the same state (etcd's consistent index, made exact by the
// atomic batch).
//
// A backend failure (I/O error, corruption) is not a request error: the in-memory state may
// then be ahead of the disk, so the state machine refuses all further work (failure())
// until restore() has rebuilt it from the backend.
class StateMachine {
 public:
  explicit StateMachine(Backend& backend, StateMachineOptions options = {});
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Rebuilds everything from the backend (boot). Synced watchers fall back to catching up.
  Status restore();

  // Applies the committed entry `index`. The outer Result fails only on a backend failure.
  Result<ApplyOutcome> apply(LogIndex index, const ApplyRequest& request);

  // A read served outside the log (serializable, or after a ReadIndex round).
  Result<RangeResponse> range(const RangeRequest& request) const;
  LeaseLeasesResponse leases() const;

  // Raft snapshot support: the backend image, and installing one (then restore()).
  Result<std::string> snapshot() const;
  Status install_snapshot(std::string_view image);

  LogIndex applied_index() const { return backend_.consistent_index(); }
  Revision current_revision() const { return kv_.current_revision(); }
  Revision compact_revision() const { return kv_.compact_revision(); }
  const Status& failure() const { return failure_; }

  const KvStore& kv() const { return kv_; }
  Lessor& lessor() { return lessor_; }
  const Lessor& lessor() const { return lessor_; }
  WatchHub& watch_hub() { return watch_hub_; }

 private:
  Result<ApplyResponse> dispatch(const ApplyRequest& request, WriteBatch& batch,
                                 std::vector<Event>& changes);
  Status rebuild();
  template <typename Body>
  Result<ApplyResponse> apply_write(WriteBatch& batch, std::vector<Event>& changes,
                                    const Body& body);
  void update_lease_attachments(const std::vector<Event>& changes);

  Backend& backend_;
  StateMachineOptions options_;
  KvStore kv_;
  Lessor lessor_;
  KvApplier applier_;
  WatchHub watch_hub_;
  Status failure_;
};

}  // namespace lockstep::mvcc
