#pragma once

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/time.h"
#include "core/mvcc/apply_request.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/kv_applier.h"
#include "core/mvcc/kv_store.h"
#include "core/mvcc/lessor.h"
#include "core/mvcc/watch_hub.h"

namespace lockstep::node {

// The member's replicated state machine: the MVCC store, the lessor and the watch hub over
// one backend, driven by committed Raft entries (etcd's applierV3 over mvcc + lease).
//
// Exactly-once apply across crashes: every applied entry commits one backend batch that
// carries its Raft index as the consistent index (etcd's consistent_index), so after a
// restart entries at or below backend.consistent_index() are skipped, not applied twice.
class StateMachine {
 public:
  StateMachine(mvcc::Backend& backend, mvcc::LessorOptions lessor_options);
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Rebuilds the key index, the lease set and the attachments from the backend.
  Status restore();
  // Replaces everything with a snapshot image (Backend::dump format), then restores. The
  // caller cancels its watchers first: their positions refer to the replaced history.
  Status install(std::string_view image);
  Result<std::string> dump() const { return backend_.dump(); }

  LogIndex applied_index() const { return backend_.consistent_index(); }

  // Applies one committed request at Raft index `index` (> applied_index()). The request's
  // own failure (e.g. a compacted revision) is returned as an error but still advances the
  // applied index, because every member fails the same entry the same way. A backend
  // failure is a different matter: the caller must stop the member (ASSERTed by the caller).
  Result<mvcc::ApplyResponse> apply(LogIndex index, const mvcc::ApplyRequest& request,
                                    Status& backend_status);
  // An entry with no store effect (the leader's no-op, a conf change): advances the index.
  Status apply_empty(LogIndex index);

  // Reads at the current state (serializable, or linearizable once ReadIndex allows it).
  Result<mvcc::RangeResponse> range(const mvcc::RangeRequest& request) const;
  // A transaction with no writes, evaluated without the log (etcd serves read-only txns
  // through ReadIndex like ranges).
  Result<mvcc::TxnResponse> read_only_txn(const mvcc::TxnRequest& request);

  Revision current_revision() const { return store_.current_revision(); }
  mvcc::Lessor& lessor() { return lessor_; }
  const mvcc::Lessor& lessor() const { return lessor_; }
  mvcc::WatchHub& watches() { return watches_; }
  uint64_t size_bytes() const { return backend_.size_bytes(); }

 private:
  Result<mvcc::ApplyResponse> apply_write(const mvcc::ApplyRequest& request,
                                          mvcc::WriteBatch& batch, Revision& written_revision,
                                          std::vector<mvcc::Event>& changes);
  Result<mvcc::LeaseRevokeResponse> revoke(mvcc::KvStore::WriteTxn& txn, LeaseId id);
  void track_attachments(const std::vector<mvcc::Event>& changes);
  Status restore_attachments();

  mvcc::Backend& backend_;
  mvcc::LessorOptions lessor_options_;
  mvcc::KvStore store_;
  mvcc::Lessor lessor_;
  mvcc::KvApplier applier_;
  mvcc::WatchHub watches_;
};

}  // namespace lockstep::node
