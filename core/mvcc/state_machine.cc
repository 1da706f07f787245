#include "core/mvcc/state_machine.h"

#include "core/mvcc/request_validation.h"

namespace lockstep::mvcc {
namespace {

// Failures of the disk underneath, as opposed to failures of the request.
bool is_backend_failure(ErrorCode code) {
  return code == ErrorCode::kIoError || code == ErrorCode::kDiskFull ||
         code == ErrorCode::kDataCorruption || code == ErrorCode::kFileNotFound ||
         code == ErrorCode::kInternal;
}

}  // namespace

StateMachine::StateMachine(Backend& backend, StateMachineOptions options)
    : backend_(backend),
      options_(options),
      kv_(backend),
      lessor_(options.lessor),
      applier_(kv_, [this](LeaseId id) { return lessor_.exists(id); }),
      watch_hub_(kv_) {}

Status StateMachine::restore() {
  Status status = rebuild();
  // A failed rebuild leaves the pieces inconsistent with each other: refuse work until a
  // later restore() succeeds.
  failure_ = status;
  return status;
}

Status StateMachine::rebuild() {
  RETURN_IF_ERROR(kv_.restore());
  RETURN_IF_ERROR(lessor_.restore(backend_));
  Result<std::vector<KeyValue>> live = kv_.live_key_values();
  if (!live.is_ok()) return live.error();
  for (const KeyValue& key_value : *live) {
    if (key_value.lease == kNoLease) continue;
    // Revoke deletes a lease's keys in the same atomic batch as the lease, so a live key
    // naming a missing lease means the backend is damaged.
    if (!lessor_.exists(key_value.lease)) {
      return Error(ErrorCode::kDataCorruption, "key attached to a lease that does not exist");
    }
    lessor_.attach(key_value.lease, key_value.key);
  }
  watch_hub_.on_restore();
  return Status::ok();
}

void StateMachine::update_lease_attachments(const std::vector<Event>& changes) {
  // etcd storeTxnWrite.put/delete: a write detaches the key from its previous lease and a
  // put attaches it to the new one.
  for (const Event& change : changes) {
    if (change.prev_kv && change.prev_kv->lease != kNoLease) {
      lessor_.detach(change.prev_kv->lease, change.kv.key);
    }
    if (change.type == EventType::kPut && change.kv.lease != kNoLease) {
      lessor_.attach(change.kv.lease, change.kv.key);
    }
  }
}

template <typename Body>
Result<ApplyResponse> StateMachine::apply_write(WriteBatch& batch, std::vector<Event>& changes,
                                                const Body& body) {
  KvStore::WriteTxn txn(kv_, batch);
  auto answer = body(txn);
  if (!answer.is_ok()) {
    // Request errors are found before the first write (etcd checks txns up front), so a
    // failed request leaves nothing behind; a backend failure may have.
    ASSERT(txn.changes().empty() || is_backend_failure(answer.code()),
           "a request error must come before any write of the request");
    txn.end();
    return answer.error();
  }
  changes = txn.changes();
  update_lease_attachments(changes);
  txn.end();
  return ApplyResponse(std::move(*answer));
}

Result<ApplyResponse> StateMachine::dispatch(const ApplyRequest& request, WriteBatch& batch,
                                             std::vector<Event>& changes) {
  if (const auto* range = std::get_if<RangeRequest>(&request)) {
    RETURN_IF_ERROR(validate_range(*range));
    Result<RangeResponse> answer = applier_.range(*range);
    if (!answer.is_ok()) return answer.error();
    return ApplyResponse(std::move(*answer));
  }
  if (const auto* put = std::get_if<PutRequest>(&request)) {
    RETURN_IF_ERROR(validate_put(*put));
    return apply_write(batch, changes,
                       [&](KvStore::WriteTxn& txn) { return applier_.put(txn, *put); });
  }
  if (const auto* del = std::get_if<DeleteRangeRequest>(&request)) {
    RETURN_IF_ERROR(validate_delete_range(*del));
    return apply_write(batch, changes,
                       [&](KvStore::WriteTxn& txn) { return applier_.delete_range(txn, *del); });
  }
  if (const auto* txn_request = std::get_if<TxnRequest>(&request)) {
    RETURN_IF_ERROR(validate_txn(*txn_request, options_.max_txn_ops));
    return apply_write(batch, changes,
                       [&](KvStore::WriteTxn& txn) { return applier_.txn(txn, *txn_request); });
  }
  if (const auto* compaction = std::get_if<CompactionRequest>(&request)) {
    RETURN_IF_ERROR(kv_.compact(compaction->revision, batch));
    CompactionResponse response;
    response.header.revision = kv_.current_revision();
    return ApplyResponse(response);
  }
  if (const auto* grant = std::get_if<LeaseGrantRequest>(&request)) {
    Result<LeaseGrantResponse> response = lessor_.grant(grant->id, grant->ttl_seconds, batch);
    if (!response.is_ok()) return response.error();
    response->header.revision = kv_.current_revision();
    return ApplyResponse(std::move(*response));
  }
  if (const auto* revoke = std::get_if<LeaseRevokeRequest>(&request)) {
    if (!lessor_.exists(revoke->id)) return Error(ErrorCode::kLeaseNotFound);
    // etcd lessor.Revoke: the attached keys, sorted, are deleted in one write transaction
    // together with the lease, so they all vanish at one revision.
    const std::vector<std::string> keys = lessor_.keys_of(revoke->id);
    return apply_write(batch, changes, [&](KvStore::WriteTxn& txn) -> Result<LeaseRevokeResponse> {
      for (const std::string& key : keys) {
        Result<std::vector<KeyValue>> deleted = txn.delete_range(KeyRange{key, ""});
        if (!deleted.is_ok()) return deleted.error();
      }
      RETURN_IF_ERROR(lessor_.remove(revoke->id, batch));
      LeaseRevokeResponse response;
      response.header.revision = txn.revision();
      return response;
    });
  }
  const auto& checkpoint = std::get<LeaseCheckpointRequest>(request);
  lessor_.checkpoint(checkpoint, batch);
  LeaseCheckpointResponse response;
  response.header.revision = kv_.current_revision();
  return ApplyResponse(response);
}

Result<ApplyOutcome> StateMachine::apply(LogIndex index, const ApplyRequest& request) {
  if (!failure_.is_ok()) return failure_.error();
  ApplyOutcome outcome;
  if (index <= backend_.consistent_index()) {
    outcome.skipped = true;
    outcome.revision = kv_.current_revision();
    return outcome;
  }
  WriteBatch batch;
  batch.consistent_index = index;
  std::vector<Event> changes;
  outcome.response = dispatch(request, batch, changes);
  if (!outcome.response.is_ok() && is_backend_failure(outcome.response.code())) {
    failure_ = outcome.response.error();
    return failure_.error();
  }
  // Commit even when the request failed: the consistent index must still move past it.
  Status committed = backend_.commit(batch);
  if (!committed.is_ok()) {
    failure_ = committed;
    return committed.error();
  }
  outcome.revision = kv_.current_revision();
  if (!changes.empty()) watch_hub_.notify(outcome.revision, changes);
  return outcome;
}

Result<RangeResponse> StateMachine::range(const RangeRequest& request) const {
  if (!failure_.is_ok()) return failure_.error();
  RETURN_IF_ERROR(validate_range(request));
  return applier_.range(request);
}

LeaseLeasesResponse StateMachine::leases() const {
  LeaseLeasesResponse response;
  response.header.revision = kv_.current_revision();
  for (LeaseId id : lessor_.lease_ids()) response.leases.push_back(LeaseStatus{id});
  return response;
}

Result<std::string> StateMachine::snapshot() const {
  if (!failure_.is_ok()) return failure_.error();
  return backend_.dump();
}

Status StateMachine::install_snapshot(std::string_view image) {
  RETURN_IF_ERROR(backend_.load(image));
  return restore();
}

}  // namespace lockstep::mvcc
