#include "core/mvcc/kv_applier.h"

#include <algorithm>

namespace lockstep::mvcc {
namespace {

template <typename View>
Result<RangeResponse> execute_range(const View& view, const RangeRequest& request) {
  // etcd applierV3backend.Range: sorting by anything but key ascending, and the revision
  // filters, need every key of the range, so the limit applies only afterwards; otherwise
  // fetch one extra key to learn whether there is `more`.
  const bool needs_all =
      request.sort_order != SortOrder::kNone || request.min_mod_revision != Revision(0) ||
      request.max_mod_revision != Revision(0) || request.min_create_revision != Revision(0) ||
      request.max_create_revision != Revision(0);
  RangeOptions options;
  options.limit = needs_all ? 0 : (request.limit > 0 ? request.limit + 1 : 0);
  options.revision = request.revision;
  options.count_only = request.count_only;
  Result<RangeResult> result = view.range(KeyRange{request.key, request.range_end}, options);
  if (!result.is_ok()) return result.error();
  std::vector<KeyValue>& kvs = result->kvs;

  auto prune = [&](auto&& drop) { std::erase_if(kvs, drop); };
  if (request.max_mod_revision != Revision(0)) {
    prune([&](const KeyValue& kv) { return kv.mod_revision > request.max_mod_revision; });
  }
  if (request.min_mod_revision != Revision(0)) {
    prune([&](const KeyValue& kv) { return kv.mod_revision < request.min_mod_revision; });
  }
  if (request.max_create_revision != Revision(0)) {
    prune([&](const KeyValue& kv) { return kv.create_revision > request.max_create_revision; });
  }
  if (request.min_create_revision != Revision(0)) {
    prune([&](const KeyValue& kv) { return kv.create_revision < request.min_create_revision; });
  }

  // etcd's defaults: keys already come in ascending key order, so NONE with a target other
  // than KEY means ASCEND, and KEY with ASCEND needs no sorting.
  SortOrder order = request.sort_order;
  if (request.sort_target != SortTarget::kKey && order == SortOrder::kNone) {
    order = SortOrder::kAscend;
  } else if (request.sort_target == SortTarget::kKey && order == SortOrder::kAscend) {
    order = SortOrder::kNone;
  }
  if (order != SortOrder::kNone) {
    // Ties keep key order (stable sort); etcd's sort is not stable, so its tie order is
    // unspecified and no client may depend on it.
    auto less = [&](const KeyValue& a, const KeyValue& b) {
      switch (request.sort_target) {
        case SortTarget::kKey:
          return a.key < b.key;
        case SortTarget::kVersion:
          return a.version < b.version;
        case SortTarget::kCreate:
          return a.create_revision < b.create_revision;
        case SortTarget::kMod:
          return a.mod_revision < b.mod_revision;
        case SortTarget::kValue:
          return a.value < b.value;
      }
      UNREACHABLE("sort target out of range");
    };
    if (order == SortOrder::kAscend) {
      std::stable_sort(kvs.begin(), kvs.end(), less);
    } else {
      std::stable_sort(kvs.begin(), kvs.end(),
                       [&](const KeyValue& a, const KeyValue& b) { return less(b, a); });
    }
  }

  RangeResponse response;
  if (request.limit > 0 && static_cast<int64_t>(kvs.size()) > request.limit) {
    kvs.resize(static_cast<size_t>(request.limit));
    response.more = true;
  }
  response.header.revision = result->revision;
  response.count = result->count;
  if (request.keys_only) {
    for (KeyValue& kv : kvs) kv.value.clear();
  }
  response.kvs = std::move(kvs);
  return response;
}

int compare_int(int64_t a, int64_t b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

// etcd compareKV: compares one KeyValue (possibly the zero one) with the compare's operand.
bool compare_key_value(const Compare& compare, const KeyValue& kv) {
  int result = 0;
  switch (compare.target) {
    case CompareTarget::kValue:
      result = kv.value.compare(compare.value);
      result = result < 0 ? -1 : (result > 0 ? 1 : 0);
      break;
    case CompareTarget::kCreate:
      result = compare_int(kv.create_revision.value(), compare.create_revision.value());
      break;
    case CompareTarget::kMod:
      result = compare_int(kv.mod_revision.value(), compare.mod_revision.value());
      break;
    case CompareTarget::kVersion:
      result = compare_int(kv.version, compare.version);
      break;
    case CompareTarget::kLease:
      result = compare_int(kv.lease.value(), compare.lease.value());
      break;
  }
  switch (compare.result) {
    case CompareResult::kEqual:
      return result == 0;
    case CompareResult::kNotEqual:
      return result != 0;
    case CompareResult::kGreater:
      return result > 0;
    case CompareResult::kLess:
      return result < 0;
  }
  UNREACHABLE("compare result out of range");
}

}  // namespace

Result<RangeResponse> KvApplier::range(const RangeRequest& request) const {
  return execute_range(store_, request);
}

Result<PutResponse> KvApplier::put(KvStore::WriteTxn& txn, const PutRequest& request) const {
  if (request.lease != kNoLease && !lease_exists_(request.lease)) {
    return Error(ErrorCode::kLeaseNotFound);
  }
  PutResponse response;
  std::string value = request.value;
  LeaseId lease = request.lease;
  if (request.ignore_value || request.ignore_lease || request.prev_kv) {
    Result<RangeResult> existing = txn.range(KeyRange{request.key, ""}, RangeOptions{});
    if (!existing.is_ok()) return existing.error();
    if ((request.ignore_value || request.ignore_lease) && existing->kvs.empty()) {
      return Error(ErrorCode::kKeyNotFound);
    }
    if (request.ignore_value) value = existing->kvs.front().value;
    if (request.ignore_lease) lease = existing->kvs.front().lease;
    if (request.prev_kv && !existing->kvs.empty()) response.prev_kv = existing->kvs.front();
  }
  Result<std::optional<KeyValue>> previous = txn.put(request.key, value, lease);
  if (!previous.is_ok()) return previous.error();
  response.header.revision = txn.revision();
  return response;
}

Result<DeleteRangeResponse> KvApplier::delete_range(KvStore::WriteTxn& txn,
                                                    const DeleteRangeRequest& request) const {
  Result<std::vector<KeyValue>> deleted =
      txn.delete_range(KeyRange{request.key, request.range_end});
  if (!deleted.is_ok()) return deleted.error();
  DeleteRangeResponse response;
  response.deleted = static_cast<int64_t>(deleted->size());
  if (request.prev_kv) response.prev_kvs = std::move(*deleted);
  response.header.revision = txn.revision();
  return response;
}

bool KvApplier::is_read_only(const TxnRequest& request) {
  auto read_only = [](const std::vector<RequestOp>& ops) {
    return std::all_of(ops.begin(), ops.end(), [](const RequestOp& op) {
      if (std::holds_alternative<RangeRequest>(op.request)) return true;
      if (const auto* nested = std::get_if<Boxed<TxnRequest>>(&op.request)) {
        return is_read_only(**nested);
      }
      return false;
    });
  };
  return read_only(request.success) && read_only(request.failure);
}

Result<bool> KvApplier::compare_holds(const Compare& compare) const {
  // etcd applyCompare: a compare over a range holds if it holds for every key; with no key
  // it compares a zero KeyValue, except that a VALUE compare then fails ("nil == empty
  // string in grpc; no way to represent missing value").
  Result<RangeResult> found =
      store_.range(KeyRange{compare.key, compare.range_end}, RangeOptions{});
  if (!found.is_ok()) return found.error();
  if (found->kvs.empty()) {
    if (compare.target == CompareTarget::kValue) return false;
    return compare_key_value(compare, KeyValue{});
  }
  return std::all_of(found->kvs.begin(), found->kvs.end(),
                     [&](const KeyValue& kv) { return compare_key_value(compare, kv); });
}

Status KvApplier::choose_path_into(const TxnRequest& request, std::vector<bool>& path) const {
  bool succeeded = true;
  for (const Compare& compare : request.compare) {
    Result<bool> holds = compare_holds(compare);
    if (!holds.is_ok()) return holds.error();
    if (!*holds) {
      succeeded = false;
      break;
    }
  }
  path.push_back(succeeded);
  for (const RequestOp& op : succeeded ? request.success : request.failure) {
    if (const auto* nested = std::get_if<Boxed<TxnRequest>>(&op.request)) {
      RETURN_IF_ERROR(choose_path_into(**nested, path));
    }
  }
  return Status::ok();
}

Result<std::vector<bool>> KvApplier::choose_path(const TxnRequest& request) const {
  std::vector<bool> path;
  Status status = choose_path_into(request, path);
  if (!status.is_ok()) return status.error();
  return path;
}

Status KvApplier::check_ops(const TxnRequest& request, const std::vector<bool>& path,
                            size_t& path_position) const {
  // etcd checkRequests (checkRequestPut, checkRequestRange) along the chosen path, against
  // the state before the transaction: a failing op fails the whole txn before any write.
  const bool succeeded = path[path_position++];
  for (const RequestOp& op : succeeded ? request.success : request.failure) {
    if (const auto* put = std::get_if<PutRequest>(&op.request)) {
      if (put->ignore_value || put->ignore_lease) {
        Result<RangeResult> existing = store_.range(KeyRange{put->key, ""}, RangeOptions{});
        if (!existing.is_ok()) return existing.error();
        if (existing->kvs.empty()) return Error(ErrorCode::kKeyNotFound);
      }
      if (put->lease != kNoLease && !lease_exists_(put->lease)) {
        return Error(ErrorCode::kLeaseNotFound);
      }
    } else if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
      if (range->revision > store_.current_revision()) return Error(ErrorCode::kFutureRevision);
      if (range->revision > Revision(0) && range->revision < store_.compact_revision()) {
        return Error(ErrorCode::kCompacted);
      }
    } else if (const auto* nested = std::get_if<Boxed<TxnRequest>>(&op.request)) {
      RETURN_IF_ERROR(check_ops(**nested, path, path_position));
    }
  }
  return Status::ok();
}

Status KvApplier::execute(KvStore::WriteTxn& txn, const TxnRequest& request,
                          const std::vector<bool>& path, size_t& path_position,
                          TxnResponse& response) const {
  response.succeeded = path[path_position++];
  for (const RequestOp& op : response.succeeded ? request.success : request.failure) {
    ResponseOp result;
    if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
      Result<RangeResponse> answer = execute_range(txn, *range);
      if (!answer.is_ok()) return answer.error();
      result.response = std::move(*answer);
    } else if (const auto* put = std::get_if<PutRequest>(&op.request)) {
      Result<PutResponse> answer = this->put(txn, *put);
      if (!answer.is_ok()) return answer.error();
      result.response = std::move(*answer);
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
      Result<DeleteRangeResponse> answer = delete_range(txn, *del);
      if (!answer.is_ok()) return answer.error();
      result.response = std::move(*answer);
    } else {
      const TxnRequest& nested = *std::get<Boxed<TxnRequest>>(op.request);
      TxnResponse nested_response;
      RETURN_IF_ERROR(execute(txn, nested, path, path_position, nested_response));
      nested_response.header.revision = txn.revision();
      result.response = Boxed<TxnResponse>(std::move(nested_response));
    }
    response.responses.push_back(std::move(result));
  }
  return Status::ok();
}

Result<TxnResponse> KvApplier::txn(KvStore::WriteTxn& txn, const TxnRequest& request) const {
  ASSERT(txn.changes().empty(), "a txn request starts its own write transaction");
  Result<std::vector<bool>> path = choose_path(request);
  if (!path.is_ok()) return path.error();
  size_t position = 0;
  RETURN_IF_ERROR(check_ops(request, *path, position));
  position = 0;
  TxnResponse response;
  RETURN_IF_ERROR(execute(txn, request, *path, position, response));
  response.header.revision = txn.revision();
  return response;
}

}  // namespace lockstep::mvcc
