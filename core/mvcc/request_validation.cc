#include "core/mvcc/request_validation.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/mvcc/key_range.h"

namespace lockstep::mvcc {
namespace {

Status validate_op(const RequestOp& op, size_t max_txn_ops) {
  return std::visit(
      [&](const auto& request) -> Status {
        using Type = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<Type, RangeRequest>) {
          return validate_range(request);
        } else if constexpr (std::is_same_v<Type, PutRequest>) {
          return validate_put(request);
        } else if constexpr (std::is_same_v<Type, DeleteRangeRequest>) {
          return validate_delete_range(request);
        } else {
          return validate_txn(*request, max_txn_ops);
        }
      },
      op.request);
}

Status validate_counts_and_keys(const TxnRequest& request, size_t max_txn_ops) {
  const size_t op_count =
      std::max({request.compare.size(), request.success.size(), request.failure.size()});
  if (op_count > max_txn_ops) return Error(ErrorCode::kTooManyOps);
  for (const Compare& compare : request.compare) {
    if (compare.key.empty()) return Error(ErrorCode::kEmptyKey);
  }
  // etcd lets nested txns use only what this level left over (checkRequestOp gets
  // maxTxnOps - opc).
  const size_t nested_max_txn_ops = max_txn_ops - op_count;
  for (const RequestOp& op : request.success) {
    RETURN_IF_ERROR(validate_op(op, nested_max_txn_ops));
  }
  for (const RequestOp& op : request.failure) {
    RETURN_IF_ERROR(validate_op(op, nested_max_txn_ops));
  }
  return Status::ok();
}

// The deletes of one txn level and below, as key ranges.
class DeleteIntervals {
 public:
  void add(KeyRange range) { ranges_.push_back(std::move(range)); }
  void add_all(const DeleteIntervals& other) {
    ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
  }
  bool contains(const std::string& key) const {
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [&](const KeyRange& range) { return range.contains(key); });
  }

 private:
  std::vector<KeyRange> ranges_;
};

struct Intervals {
  std::set<std::string> puts;
  DeleteIntervals deletes;
};

// etcd's checkIntervals: within one branch, no key may be put twice, and no key put may lie
// in a range deleted in the same branch, counting nested txns; the success and failure
// branches of a nested txn may put the same key (only one of them runs). Deletes may overlap
// each other. A delete's range_end of "\0" counts as "to the end of the key space", as it does
// for the delete itself.
Status check_intervals(const std::vector<RequestOp>& ops, Intervals& out) {
  for (const RequestOp& op : ops) {
    if (const auto* request = std::get_if<DeleteRangeRequest>(&op.request)) {
      out.deletes.add(KeyRange{request->key, request->range_end});
    }
  }
  for (const RequestOp& op : ops) {
    const auto* nested = std::get_if<Boxed<TxnRequest>>(&op.request);
    if (nested == nullptr) continue;
    Intervals success;
    Intervals failure;
    RETURN_IF_ERROR(check_intervals((*nested)->success, success));
    RETURN_IF_ERROR(check_intervals((*nested)->failure, failure));
    for (const std::string& key : success.puts) {
      if (out.puts.contains(key) || out.deletes.contains(key)) {
        return Error(ErrorCode::kDuplicateKey);
      }
      out.puts.insert(key);
    }
    for (const std::string& key : failure.puts) {
      if (out.puts.contains(key) && !success.puts.contains(key)) {
        return Error(ErrorCode::kDuplicateKey);
      }
      if (out.deletes.contains(key)) return Error(ErrorCode::kDuplicateKey);
      out.puts.insert(key);
    }
    out.deletes.add_all(success.deletes);
    out.deletes.add_all(failure.deletes);
  }
  for (const RequestOp& op : ops) {
    const auto* request = std::get_if<PutRequest>(&op.request);
    if (request == nullptr) continue;
    if (out.puts.contains(request->key) || out.deletes.contains(request->key)) {
      return Error(ErrorCode::kDuplicateKey);
    }
    out.puts.insert(request->key);
  }
  return Status::ok();
}

}  // namespace

Status validate_range(const RangeRequest& request) {
  if (request.key.empty()) return Error(ErrorCode::kEmptyKey);
  return Status::ok();
}

Status validate_put(const PutRequest& request) {
  if (request.key.empty()) return Error(ErrorCode::kEmptyKey);
  if (request.ignore_value && !request.value.empty()) return Error(ErrorCode::kValueProvided);
  if (request.ignore_lease && request.lease != kNoLease) return Error(ErrorCode::kLeaseProvided);
  return Status::ok();
}

Status validate_delete_range(const DeleteRangeRequest& request) {
  if (request.key.empty()) return Error(ErrorCode::kEmptyKey);
  return Status::ok();
}

Status validate_request_size(size_t encoded_bytes, size_t max_request_bytes) {
  if (encoded_bytes > max_request_bytes) return Error(ErrorCode::kRequestTooLarge);
  return Status::ok();
}

Status validate_txn(const TxnRequest& request, size_t max_txn_ops) {
  RETURN_IF_ERROR(validate_counts_and_keys(request, max_txn_ops));
  Intervals success;
  RETURN_IF_ERROR(check_intervals(request.success, success));
  Intervals failure;
  RETURN_IF_ERROR(check_intervals(request.failure, failure));
  return Status::ok();
}

}  // namespace lockstep::mvcc
