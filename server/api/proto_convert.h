#pragma once

#include "core/base/error.h"
#include "core/mvcc/event.h"
#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"
#include "core/mvcc/watch_requests.h"
#include "server/api/proto/rpc.pb.h"

namespace lockstep::api {

// Translation between etcd's protobuf messages (the wire) and core/mvcc's plain C++ mirrors
// (what the member speaks). Fields map one to one; the only judgement calls are:
// - Protobuf enums are open: a request carrying an enum value etcd does not define (sort order
//   7, compare target 9, watch filter 5) is refused with kInvalidInput instead of being
//   guessed at.
// - Compare's target_union: whichever member is set is copied to the same-named field, so a
//   union that disagrees with `target` compares against 0, exactly as etcd's apply does.
// - Nested txns deeper than kMaxTxnNestingDepth are refused (protobuf's own parser stops at
//   100 levels; this keeps the recursion of the conversion and of the apply bounded).
inline constexpr int kMaxTxnNestingDepth = 16;

// ---- requests: wire -> mvcc (validated) ----
Result<mvcc::RangeRequest> from_proto(const etcdserverpb::RangeRequest& request);
mvcc::PutRequest from_proto(const etcdserverpb::PutRequest& request);
mvcc::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& request);
Result<mvcc::TxnRequest> from_proto(const etcdserverpb::TxnRequest& request);
mvcc::CompactionRequest from_proto(const etcdserverpb::CompactionRequest& request);
mvcc::LeaseGrantRequest from_proto(const etcdserverpb::LeaseGrantRequest& request);
mvcc::LeaseRevokeRequest from_proto(const etcdserverpb::LeaseRevokeRequest& request);
mvcc::LeaseKeepAliveRequest from_proto(const etcdserverpb::LeaseKeepAliveRequest& request);
mvcc::LeaseTimeToLiveRequest from_proto(const etcdserverpb::LeaseTimeToLiveRequest& request);
Result<mvcc::WatchCreateRequest> from_proto(const etcdserverpb::WatchCreateRequest& request);
mvcc::WatchCancelRequest from_proto(const etcdserverpb::WatchCancelRequest& request);

// ---- requests: mvcc -> wire (for clients of a real endpoint, e.g. a checker's workload) ----
etcdserverpb::RangeRequest to_proto(const mvcc::RangeRequest& request);
etcdserverpb::PutRequest to_proto(const mvcc::PutRequest& request);
etcdserverpb::DeleteRangeRequest to_proto(const mvcc::DeleteRangeRequest& request);
etcdserverpb::TxnRequest to_proto(const mvcc::TxnRequest& request);
etcdserverpb::CompactionRequest to_proto(const mvcc::CompactionRequest& request);
etcdserverpb::LeaseGrantRequest to_proto(const mvcc::LeaseGrantRequest& request);
etcdserverpb::WatchCreateRequest to_proto(const mvcc::WatchCreateRequest& request);

// ---- responses and records: mvcc -> wire ----
etcdserverpb::ResponseHeader to_proto(const mvcc::ResponseHeader& header);
mvccpb::KeyValue to_proto(const mvcc::KeyValue& key_value);
mvccpb::Event to_proto(const mvcc::Event& event);
etcdserverpb::RangeResponse to_proto(const mvcc::RangeResponse& response);
etcdserverpb::PutResponse to_proto(const mvcc::PutResponse& response);
etcdserverpb::DeleteRangeResponse to_proto(const mvcc::DeleteRangeResponse& response);
etcdserverpb::TxnResponse to_proto(const mvcc::TxnResponse& response);
etcdserverpb::CompactionResponse to_proto(const mvcc::CompactionResponse& response);
etcdserverpb::LeaseGrantResponse to_proto(const mvcc::LeaseGrantResponse& response);
etcdserverpb::LeaseRevokeResponse to_proto(const mvcc::LeaseRevokeResponse& response);
etcdserverpb::LeaseKeepAliveResponse to_proto(const mvcc::LeaseKeepAliveResponse& response);
etcdserverpb::LeaseTimeToLiveResponse to_proto(const mvcc::LeaseTimeToLiveResponse& response);
etcdserverpb::LeaseLeasesResponse to_proto(const mvcc::LeaseLeasesResponse& response);
etcdserverpb::WatchResponse to_proto(const mvcc::WatchResponse& response);

// ---- responses and records: wire -> mvcc (for clients of a real endpoint) ----
mvcc::ResponseHeader from_proto(const etcdserverpb::ResponseHeader& header);
mvcc::KeyValue from_proto(const mvccpb::KeyValue& key_value);
mvcc::Event from_proto(const mvccpb::Event& event);
mvcc::RangeResponse from_proto(const etcdserverpb::RangeResponse& response);
mvcc::PutResponse from_proto(const etcdserverpb::PutResponse& response);
mvcc::DeleteRangeResponse from_proto(const etcdserverpb::DeleteRangeResponse& response);
mvcc::TxnResponse from_proto(const etcdserverpb::TxnResponse& response);
mvcc::WatchResponse from_proto(const etcdserverpb::WatchResponse& response);

}  // namespace lockstep::api
