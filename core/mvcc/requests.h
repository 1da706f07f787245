#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/base/ids.h"
#include "core/mvcc/boxed.h"
#include "core/mvcc/key_value.h"

namespace lockstep::mvcc {

// Plain C++ mirrors of etcd's v3 KV messages (etcdserverpb rpc.proto). Field meanings and
// enum values are etcd's; names are snake_case. The node, the simulator's clients and the
// gRPC server all speak these types.
//
// Key ranges everywhere follow etcd: an empty `range_end` means the single key `key`; a
// `range_end` of "\0" means every key >= `key`; otherwise the half-open range
// [key, range_end). A `key` of "\0" with `range_end` "\0" selects all keys.

// etcd's ResponseHeader. The MVCC layer fills `revision`; the node fills the rest.
struct ResponseHeader {
  uint64_t cluster_id = 0;
  NodeId member_id{};
  Revision revision{};
  Term raft_term{};

  bool operator==(const ResponseHeader&) const = default;
};

enum class SortOrder : int {
  kNone = 0,  // default: no sorting (keys come in ascending key order anyway)
  kAscend = 1,
  kDescend = 2,
};

enum class SortTarget : int {
  kKey = 0,
  kVersion = 1,
  kCreate = 2,
  kMod = 3,
  kValue = 4,
};

struct RangeRequest {
  std::string key{};
  std::string range_end{};
  // Maximum number of keys returned; 0 = no limit.
  int64_t limit = 0;
  // Point-in-time read at this revision; 0 (or less) = the current revision.
  Revision revision{};
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  // Served from the local member without a quorum read. Passed through to the node, which
  // decides how to serve the read; the MVCC layer's answer does not depend on it.
  bool serializable = false;
  bool keys_only = false;
  bool count_only = false;
  // Filters; 0 = no filter. Applied after `count` is taken, as etcd does.
  Revision min_mod_revision{};
  Revision max_mod_revision{};
  Revision min_create_revision{};
  Revision max_create_revision{};

  bool operator==(const RangeRequest&) const = default;
};

struct RangeResponse {
  ResponseHeader header{};
  std::vector<KeyValue> kvs{};
  // More keys than `limit` exist in the requested range.
  bool more = false;
  // Number of keys in the range at the requested revision, ignoring `limit` and the
  // min/max revision filters.
  int64_t count = 0;

  bool operator==(const RangeResponse&) const = default;
};

struct PutRequest {
  std::string key{};
  std::string value{};
  LeaseId lease{};
  bool prev_kv = false;
  // Keep the key's current value (error if `value` is also given or the key is absent).
  bool ignore_value = false;
  // Keep the key's current lease (error if `lease` is also given or the key is absent).
  bool ignore_lease = false;

  bool operator==(const PutRequest&) const = default;
};

struct PutResponse {
  ResponseHeader header{};
  std::optional<KeyValue> prev_kv{};

  bool operator==(const PutResponse&) const = default;
};

struct DeleteRangeRequest {
  std::string key{};
  std::string range_end{};
  bool prev_kv = false;

  bool operator==(const DeleteRangeRequest&) const = default;
};

struct DeleteRangeResponse {
  ResponseHeader header{};
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs{};

  bool operator==(const DeleteRangeResponse&) const = default;
};

enum class CompareResult : int {
  kEqual = 0,
  kGreater = 1,
  kLess = 2,
  kNotEqual = 3,
};

enum class CompareTarget : int {
  kVersion = 0,
  kCreate = 1,
  kMod = 2,
  kValue = 3,
  kLease = 4,
};

// etcd's Compare. Only the field named by `target` is read (the protobuf's target_union).
// A compare over a range holds only if it holds for every key in the range; over keys that
// do not exist, it compares against a zero KeyValue, except that a VALUE compare fails.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key{};
  int64_t version = 0;
  Revision create_revision{};
  Revision mod_revision{};
  std::string value{};
  LeaseId lease{};
  std::string range_end{};

  bool operator==(const Compare&) const = default;
};

struct TxnRequest;
struct TxnResponse;

// etcd's RequestOp: one of range, put, delete range or a nested txn.
struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, Boxed<TxnRequest>> request{};

  bool operator==(const RequestOp&) const = default;
};

struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, Boxed<TxnResponse>> response{};

  bool operator==(const ResponseOp&) const = default;
};

struct TxnRequest {
  std::vector<Compare> compare{};
  std::vector<RequestOp> success{};
  std::vector<RequestOp> failure{};

  bool operator==(const TxnRequest&) const = default;
};

struct TxnResponse {
  ResponseHeader header{};
  bool succeeded = false;
  std::vector<ResponseOp> responses{};

  bool operator==(const TxnResponse&) const = default;
};

struct CompactionRequest {
  Revision revision{};
  // etcd waits until the compaction is physically applied before answering. Here physical
  // removal happens within the apply, so this only passes through.
  bool physical = false;

  bool operator==(const CompactionRequest&) const = default;
};

struct CompactionResponse {
  ResponseHeader header{};

  bool operator==(const CompactionResponse&) const = default;
};

// Small builders for the common shapes, so tests and workloads read like etcd client code.
inline RequestOp range_op(RangeRequest request) {
  return RequestOp{std::move(request)};
}
inline RequestOp put_op(PutRequest request) {
  return RequestOp{std::move(request)};
}
inline RequestOp delete_op(DeleteRangeRequest request) {
  return RequestOp{std::move(request)};
}
inline RequestOp txn_op(TxnRequest request) {
  return RequestOp{Boxed<TxnRequest>(std::move(request))};
}

}  // namespace lockstep::mvcc
