#include "core/node/state_machine.h"

#include <algorithm>

#include "core/mvcc/request_validation.h"

namespace lockstep::node {

StateMachine::StateMachine(mvcc::Backend& backend, mvcc::LessorOptions lessor_options)
    : backend_(backend),
      lessor_options_(lessor_options),
      store_(backend),
      lessor_(lessor_options),
      applier_(store_, [this](LeaseId id) { return lessor_.exists(id); }),
      watches_(store_) {}

Status StateMachine::restore() {
  RETURN_IF_ERROR(store_.restore());
  lessor_ = mvcc::Lessor(lessor_options_);
  RETURN_IF_ERROR(lessor_.restore(backend_));
  return restore_attachments();
}

Status StateMachine::restore_attachments() {
  // Attachments are not stored with the lease (etcd rebuilds them from the keys at boot).
  Result<std::vector<mvcc::KeyValue>> live = store_.live_key_values();
  if (!live.is_ok()) return live.error();
  for (const mvcc::KeyValue& key_value : *live) {
    if (key_value.lease != kNoLease && lessor_.exists(key_value.lease)) {
      lessor_.attach(key_value.lease, key_value.key);
    }
  }
  return Status::ok();
}

Status StateMachine::install(std::string_view image) {
  RETURN_IF_ERROR(backend_.load(image));
  return restore();
}

Status StateMachine::apply_empty(LogIndex index) {
  ASSERT(index > applied_index(), "entries are applied once, in order");
  mvcc::WriteBatch batch;
  batch.consistent_index = index;
  return backend_.commit(batch);
}

Result<mvcc::ApplyResponse> StateMachine::apply(LogIndex index, const mvcc::ApplyRequest& request,
                                                Status& backend_status) {
  ASSERT(index > applied_index(), "entries are applied once, in order");
  mvcc::WriteBatch batch;
  batch.consistent_index = index;
  Revision written_revision;
  std::vector<mvcc::Event> changes;
  Result<mvcc::ApplyResponse> response = apply_write(request, batch, written_revision, changes);
  // A failed request still commits its (empty) batch: the index must advance on every
  // member alike, and a failed request wrote nothing into the batch but the index.
  if (!response.is_ok()) {
    batch.revision_puts.clear();
    batch.revision_removals.clear();
    batch.lease_puts.clear();
    batch.lease_removals.clear();
    batch.meta_puts.clear();
  }
  backend_status = backend_.commit(batch);
  if (!backend_status.is_ok()) return backend_status.error();
  if (response.is_ok() && !changes.empty()) watches_.notify(written_revision, changes);
  return response;
}

Result<mvcc::ApplyResponse> StateMachine::apply_write(const mvcc::ApplyRequest& request,
                                                      mvcc::WriteBatch& batch,
                                                      Revision& written_revision,
                                                      std::vector<mvcc::Event>& changes) {
  // The checks etcd makes before proposing are repeated here, so that every member fails a
  // malformed entry identically even if it slipped past a proposer.
  return std::visit(
      [&](const auto& typed) -> Result<mvcc::ApplyResponse> {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::RangeRequest>) {
          RETURN_IF_ERROR(mvcc::validate_range(typed));
          Result<mvcc::RangeResponse> range = applier_.range(typed);
          if (!range.is_ok()) return range.error();
          return mvcc::ApplyResponse(std::move(*range));
        } else if constexpr (std::is_same_v<T, mvcc::CompactionRequest>) {
          RETURN_IF_ERROR(store_.compact(typed.revision, batch));
          mvcc::CompactionResponse response;
          response.header.revision = store_.current_revision();
          return mvcc::ApplyResponse(response);
        } else if constexpr (std::is_same_v<T, mvcc::LeaseGrantRequest>) {
          Result<mvcc::LeaseGrantResponse> granted =
              lessor_.grant(typed.id, typed.ttl_seconds, batch);
          if (!granted.is_ok()) return granted.error();
          granted->header.revision = store_.current_revision();
          return mvcc::ApplyResponse(std::move(*granted));
        } else if constexpr (std::is_same_v<T, mvcc::LeaseCheckpointRequest>) {
          lessor_.checkpoint(typed, batch);
          mvcc::LeaseCheckpointResponse response;
          response.header.revision = store_.current_revision();
          return mvcc::ApplyResponse(response);
        } else {
          // Writes to the key space share one write transaction and one revision.
          if constexpr (std::is_same_v<T, mvcc::PutRequest>) {
            RETURN_IF_ERROR(mvcc::validate_put(typed));
          } else if constexpr (std::is_same_v<T, mvcc::DeleteRangeRequest>) {
            RETURN_IF_ERROR(mvcc::validate_delete_range(typed));
          } else if constexpr (std::is_same_v<T, mvcc::TxnRequest>) {
            RETURN_IF_ERROR(mvcc::validate_txn(typed));
          }
          mvcc::KvStore::WriteTxn txn(store_, batch);
          Result<mvcc::ApplyResponse> response = Error(ErrorCode::kInternal);
          if constexpr (std::is_same_v<T, mvcc::PutRequest>) {
            Result<mvcc::PutResponse> put = applier_.put(txn, typed);
            response = put.is_ok() ? Result<mvcc::ApplyResponse>(std::move(*put))
                                   : Result<mvcc::ApplyResponse>(put.error());
          } else if constexpr (std::is_same_v<T, mvcc::DeleteRangeRequest>) {
            Result<mvcc::DeleteRangeResponse> deleted = applier_.delete_range(txn, typed);
            response = deleted.is_ok() ? Result<mvcc::ApplyResponse>(std::move(*deleted))
                                       : Result<mvcc::ApplyResponse>(deleted.error());
          } else if constexpr (std::is_same_v<T, mvcc::TxnRequest>) {
            Result<mvcc::TxnResponse> result = applier_.txn(txn, typed);
            response = result.is_ok() ? Result<mvcc::ApplyResponse>(std::move(*result))
                                      : Result<mvcc::ApplyResponse>(result.error());
          } else {
            static_assert(std::is_same_v<T, mvcc::LeaseRevokeRequest>);
            Result<mvcc::LeaseRevokeResponse> revoked = revoke(txn, typed.id);
            response = revoked.is_ok() ? Result<mvcc::ApplyResponse>(std::move(*revoked))
                                       : Result<mvcc::ApplyResponse>(revoked.error());
          }
          changes = txn.changes();
          written_revision = txn.revision();
          if (!response.is_ok()) {
            // etcd checks a request fully before writing anything, so a failed request
            // must have left the transaction empty (else the key index would diverge).
            ASSERT(changes.empty(), "a failed request wrote part of its changes");
            txn.end();
            return response;
          }
          const Revision after = txn.end();
          track_attachments(changes);
          if constexpr (std::is_same_v<T, mvcc::LeaseRevokeRequest>) {
            RETURN_IF_ERROR(lessor_.remove(typed.id, batch));
          }
          // The header carries the store revision after the write (etcd fills it from the
          // txn's end revision).
          std::visit([&](auto& typed_response) { typed_response.header.revision = after; },
                     *response);
          return response;
        }
      },
      request);
}

Result<mvcc::LeaseRevokeResponse> StateMachine::revoke(mvcc::KvStore::WriteTxn& txn, LeaseId id) {
  if (!lessor_.exists(id)) return Error(ErrorCode::kLeaseNotFound);
  // etcd lessor.Revoke: delete the attached keys (sorted, for a deterministic order) in
  // one transaction, then remove the lease.
  for (const std::string& key : lessor_.keys_of(id)) {
    Result<std::vector<mvcc::KeyValue>> deleted = txn.delete_range(mvcc::KeyRange{key, ""});
    if (!deleted.is_ok()) return deleted.error();
  }
  return mvcc::LeaseRevokeResponse{};
}

void StateMachine::track_attachments(const std::vector<mvcc::Event>& changes) {
  for (const mvcc::Event& change : changes) {
    if (change.prev_kv && change.prev_kv->lease != kNoLease) {
      lessor_.detach(change.prev_kv->lease, change.kv.key);
    }
    if (change.type == mvcc::EventType::kPut && change.kv.lease != kNoLease) {
      lessor_.attach(change.kv.lease, change.kv.key);
    }
  }
}

Result<mvcc::RangeResponse> StateMachine::range(const mvcc::RangeRequest& request) const {
  RETURN_IF_ERROR(mvcc::validate_range(request));
  return applier_.range(request);
}

Result<mvcc::TxnResponse> StateMachine::read_only_txn(const mvcc::TxnRequest& request) {
  ASSERT(mvcc::KvApplier::is_read_only(request), "only read-only txns bypass the log");
  RETURN_IF_ERROR(mvcc::validate_txn(request));
  // A write transaction that writes nothing leaves the store and the batch untouched.
  mvcc::WriteBatch scratch;
  mvcc::KvStore::WriteTxn txn(store_, scratch);
  Result<mvcc::TxnResponse> response = applier_.txn(txn, request);
  const Revision after = txn.end();
  ASSERT(scratch.empty_of_changes(), "a read-only txn wrote to the backend batch");
  if (response.is_ok()) response->header.revision = after;
  return response;
}

}  // namespace lockstep::node
