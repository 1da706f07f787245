#include "server/api/proto_convert.h"

#include <string>

namespace lockstep::api {
namespace {

Error invalid(const std::string& why) {
  return Error(ErrorCode::kInvalidInput, why);
}

bool is_sort_order(int value) {
  return value >= 0 && value <= 2;
}
bool is_sort_target(int value) {
  return value >= 0 && value <= 4;
}
bool is_compare_result(int value) {
  return value >= 0 && value <= 3;
}
bool is_compare_target(int value) {
  return value >= 0 && value <= 4;
}
bool is_watch_filter(int value) {
  return value >= 0 && value <= 1;
}

Result<mvcc::Compare> compare_from_proto(const etcdserverpb::Compare& compare) {
  if (!is_compare_result(compare.result())) {
    return invalid("unknown compare result " + std::to_string(compare.result()));
  }
  if (!is_compare_target(compare.target())) {
    return invalid("unknown compare target " + std::to_string(compare.target()));
  }
  mvcc::Compare result;
  result.result = static_cast<mvcc::CompareResult>(compare.result());
  result.target = static_cast<mvcc::CompareTarget>(compare.target());
  result.key = compare.key();
  result.range_end = compare.range_end();
  switch (compare.target_union_case()) {
    case etcdserverpb::Compare::kVersion:
      result.version = compare.version();
      break;
    case etcdserverpb::Compare::kCreateRevision:
      result.create_revision = Revision(compare.create_revision());
      break;
    case etcdserverpb::Compare::kModRevision:
      result.mod_revision = Revision(compare.mod_revision());
      break;
    case etcdserverpb::Compare::kValue:
      result.value = compare.value();
      break;
    case etcdserverpb::Compare::kLease:
      result.lease = LeaseId(compare.lease());
      break;
    case etcdserverpb::Compare::TARGET_UNION_NOT_SET:
      break;
  }
  return result;
}

etcdserverpb::Compare compare_to_proto(const mvcc::Compare& compare) {
  etcdserverpb::Compare result;
  result.set_result(static_cast<etcdserverpb::Compare::CompareResult>(compare.result));
  result.set_target(static_cast<etcdserverpb::Compare::CompareTarget>(compare.target));
  result.set_key(compare.key);
  result.set_range_end(compare.range_end);
  switch (compare.target) {
    case mvcc::CompareTarget::kVersion:
      result.set_version(compare.version);
      break;
    case mvcc::CompareTarget::kCreate:
      result.set_create_revision(compare.create_revision.value());
      break;
    case mvcc::CompareTarget::kMod:
      result.set_mod_revision(compare.mod_revision.value());
      break;
    case mvcc::CompareTarget::kValue:
      result.set_value(compare.value);
      break;
    case mvcc::CompareTarget::kLease:
      result.set_lease(compare.lease.value());
      break;
  }
  return result;
}

Result<mvcc::TxnRequest> txn_from_proto(const etcdserverpb::TxnRequest& request, int depth);

Result<std::vector<mvcc::RequestOp>> ops_from_proto(
    const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops, int depth) {
  std::vector<mvcc::RequestOp> result;
  result.reserve(static_cast<size_t>(ops.size()));
  for (const etcdserverpb::RequestOp& op : ops) {
    switch (op.request_case()) {
      case etcdserverpb::RequestOp::kRequestRange: {
        Result<mvcc::RangeRequest> range = from_proto(op.request_range());
        if (!range.is_ok()) return range.error();
        result.push_back(mvcc::range_op(std::move(range).value()));
        break;
      }
      case etcdserverpb::RequestOp::kRequestPut:
        result.push_back(mvcc::put_op(from_proto(op.request_put())));
        break;
      case etcdserverpb::RequestOp::kRequestDeleteRange:
        result.push_back(mvcc::delete_op(from_proto(op.request_delete_range())));
        break;
      case etcdserverpb::RequestOp::kRequestTxn: {
        Result<mvcc::TxnRequest> nested = txn_from_proto(op.request_txn(), depth + 1);
        if (!nested.is_ok()) return nested.error();
        result.push_back(mvcc::txn_op(std::move(nested).value()));
        break;
      }
      case etcdserverpb::RequestOp::REQUEST_NOT_SET:
        // etcd's checkRequestOp rejects an empty union with ErrGRPCKeyNotFound.
        return Error(ErrorCode::kKeyNotFound, "txn request op with no request set");
    }
  }
  return result;
}

Result<mvcc::TxnRequest> txn_from_proto(const etcdserverpb::TxnRequest& request, int depth) {
  if (depth > kMaxTxnNestingDepth) {
    return invalid("txn nested deeper than " + std::to_string(kMaxTxnNestingDepth) + " levels");
  }
  mvcc::TxnRequest result;
  for (const etcdserverpb::Compare& compare : request.compare()) {
    Result<mvcc::Compare> converted = compare_from_proto(compare);
    if (!converted.is_ok()) return converted.error();
    result.compare.push_back(std::move(converted).value());
  }
  Result<std::vector<mvcc::RequestOp>> success = ops_from_proto(request.success(), depth);
  if (!success.is_ok()) return success.error();
  result.success = std::move(success).value();
  Result<std::vector<mvcc::RequestOp>> failure = ops_from_proto(request.failure(), depth);
  if (!failure.is_ok()) return failure.error();
  result.failure = std::move(failure).value();
  return result;
}

void ops_to_proto(const std::vector<mvcc::RequestOp>& ops,
                  google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& out) {
  for (const mvcc::RequestOp& op : ops) {
    etcdserverpb::RequestOp& converted = *out.Add();
    if (const auto* range = std::get_if<mvcc::RangeRequest>(&op.request)) {
      *converted.mutable_request_range() = to_proto(*range);
    } else if (const auto* put = std::get_if<mvcc::PutRequest>(&op.request)) {
      *converted.mutable_request_put() = to_proto(*put);
    } else if (const auto* remove = std::get_if<mvcc::DeleteRangeRequest>(&op.request)) {
      *converted.mutable_request_delete_range() = to_proto(*remove);
    } else {
      *converted.mutable_request_txn() =
          to_proto(**std::get_if<mvcc::Boxed<mvcc::TxnRequest>>(&op.request));
    }
  }
}

}  // namespace

// ---- requests: wire -> mvcc ----

Result<mvcc::RangeRequest> from_proto(const etcdserverpb::RangeRequest& request) {
  if (!is_sort_order(request.sort_order())) {
    return invalid("unknown sort order " + std::to_string(request.sort_order()));
  }
  if (!is_sort_target(request.sort_target())) {
    return invalid("unknown sort target " + std::to_string(request.sort_target()));
  }
  mvcc::RangeRequest result;
  result.key = request.key();
  result.range_end = request.range_end();
  result.limit = request.limit();
  result.revision = Revision(request.revision());
  result.sort_order = static_cast<mvcc::SortOrder>(request.sort_order());
  result.sort_target = static_cast<mvcc::SortTarget>(request.sort_target());
  result.serializable = request.serializable();
  result.keys_only = request.keys_only();
  result.count_only = request.count_only();
  result.min_mod_revision = Revision(request.min_mod_revision());
  result.max_mod_revision = Revision(request.max_mod_revision());
  result.min_create_revision = Revision(request.min_create_revision());
  result.max_create_revision = Revision(request.max_create_revision());
  return result;
}

mvcc::PutRequest from_proto(const etcdserverpb::PutRequest& request) {
  mvcc::PutRequest result;
  result.key = request.key();
  result.value = request.value();
  result.lease = LeaseId(request.lease());
  result.prev_kv = request.prev_kv();
  result.ignore_value = request.ignore_value();
  result.ignore_lease = request.ignore_lease();
  return result;
}

mvcc::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& request) {
  return mvcc::DeleteRangeRequest{request.key(), request.range_end(), request.prev_kv()};
}

Result<mvcc::TxnRequest> from_proto(const etcdserverpb::TxnRequest& request) {
  return txn_from_proto(request, 0);
}

mvcc::CompactionRequest from_proto(const etcdserverpb::CompactionRequest& request) {
  return mvcc::CompactionRequest{Revision(request.revision()), request.physical()};
}

mvcc::LeaseGrantRequest from_proto(const etcdserverpb::LeaseGrantRequest& request) {
  return mvcc::LeaseGrantRequest{request.ttl(), LeaseId(request.id())};
}

mvcc::LeaseRevokeRequest from_proto(const etcdserverpb::LeaseRevokeRequest& request) {
  return mvcc::LeaseRevokeRequest{LeaseId(request.id())};
}

mvcc::LeaseKeepAliveRequest from_proto(const etcdserverpb::LeaseKeepAliveRequest& request) {
  return mvcc::LeaseKeepAliveRequest{LeaseId(request.id())};
}

mvcc::LeaseTimeToLiveRequest from_proto(const etcdserverpb::LeaseTimeToLiveRequest& request) {
  return mvcc::LeaseTimeToLiveRequest{LeaseId(request.id()), request.keys()};
}

Result<mvcc::WatchCreateRequest> from_proto(const etcdserverpb::WatchCreateRequest& request) {
  mvcc::WatchCreateRequest result;
  result.key = request.key();
  result.range_end = request.range_end();
  result.start_revision = Revision(request.start_revision());
  result.progress_notify = request.progress_notify();
  for (const int filter : request.filters()) {
    if (!is_watch_filter(filter)) return invalid("unknown watch filter " + std::to_string(filter));
    result.filters.push_back(static_cast<mvcc::WatchFilter>(filter));
  }
  result.prev_kv = request.prev_kv();
  result.watch_id = request.watch_id();
  result.fragment = request.fragment();
  return result;
}

mvcc::WatchCancelRequest from_proto(const etcdserverpb::WatchCancelRequest& request) {
  return mvcc::WatchCancelRequest{request.watch_id()};
}

// ---- requests: mvcc -> wire ----

etcdserverpb::RangeRequest to_proto(const mvcc::RangeRequest& request) {
  etcdserverpb::RangeRequest result;
  result.set_key(request.key);
  result.set_range_end(request.range_end);
  result.set_limit(request.limit);
  result.set_revision(request.revision.value());
  result.set_sort_order(static_cast<etcdserverpb::RangeRequest::SortOrder>(request.sort_order));
  result.set_sort_target(static_cast<etcdserverpb::RangeRequest::SortTarget>(request.sort_target));
  result.set_serializable(request.serializable);
  result.set_keys_only(request.keys_only);
  result.set_count_only(request.count_only);
  result.set_min_mod_revision(request.min_mod_revision.value());
  result.set_max_mod_revision(request.max_mod_revision.value());
  result.set_min_create_revision(request.min_create_revision.value());
  result.set_max_create_revision(request.max_create_revision.value());
  return result;
}

etcdserverpb::PutRequest to_proto(const mvcc::PutRequest& request) {
  etcdserverpb::PutRequest result;
  result.set_key(request.key);
  result.set_value(request.value);
  result.set_lease(request.lease.value());
  result.set_prev_kv(request.prev_kv);
  result.set_ignore_value(request.ignore_value);
  result.set_ignore_lease(request.ignore_lease);
  return result;
}

etcdserverpb::DeleteRangeRequest to_proto(const mvcc::DeleteRangeRequest& request) {
  etcdserverpb::DeleteRangeRequest result;
  result.set_key(request.key);
  result.set_range_end(request.range_end);
  result.set_prev_kv(request.prev_kv);
  return result;
}

etcdserverpb::TxnRequest to_proto(const mvcc::TxnRequest& request) {
  etcdserverpb::TxnRequest result;
  for (const mvcc::Compare& compare : request.compare) {
    *result.add_compare() = compare_to_proto(compare);
  }
  ops_to_proto(request.success, *result.mutable_success());
  ops_to_proto(request.failure, *result.mutable_failure());
  return result;
}

etcdserverpb::CompactionRequest to_proto(const mvcc::CompactionRequest& request) {
  etcdserverpb::CompactionRequest result;
  result.set_revision(request.revision.value());
  result.set_physical(request.physical);
  return result;
}

etcdserverpb::LeaseGrantRequest to_proto(const mvcc::LeaseGrantRequest& request) {
  etcdserverpb::LeaseGrantRequest result;
  result.set_ttl(request.ttl_seconds);
  result.set_id(request.id.value());
  return result;
}

etcdserverpb::WatchCreateRequest to_proto(const mvcc::WatchCreateRequest& request) {
  etcdserverpb::WatchCreateRequest result;
  result.set_key(request.key);
  result.set_range_end(request.range_end);
  result.set_start_revision(request.start_revision.value());
  result.set_progress_notify(request.progress_notify);
  for (const mvcc::WatchFilter filter : request.filters) {
    result.add_filters(static_cast<etcdserverpb::WatchCreateRequest::FilterType>(filter));
  }
  result.set_prev_kv(request.prev_kv);
  result.set_watch_id(request.watch_id);
  result.set_fragment(request.fragment);
  return result;
}

// ---- responses: mvcc -> wire ----

etcdserverpb::ResponseHeader to_proto(const mvcc::ResponseHeader& header) {
  etcdserverpb::ResponseHeader result;
  result.set_cluster_id(header.cluster_id);
  result.set_member_id(header.member_id.value());
  result.set_revision(header.revision.value());
  result.set_raft_term(header.raft_term.value());
  return result;
}

mvccpb::KeyValue to_proto(const mvcc::KeyValue& key_value) {
  mvccpb::KeyValue result;
  result.set_key(key_value.key);
  result.set_create_revision(key_value.create_revision.value());
  result.set_mod_revision(key_value.mod_revision.value());
  result.set_version(key_value.version);
  result.set_value(key_value.value);
  result.set_lease(key_value.lease.value());
  return result;
}

mvccpb::Event to_proto(const mvcc::Event& event) {
  mvccpb::Event result;
  result.set_type(static_cast<mvccpb::Event::EventType>(event.type));
  *result.mutable_kv() = to_proto(event.kv);
  if (event.prev_kv) *result.mutable_prev_kv() = to_proto(*event.prev_kv);
  return result;
}

etcdserverpb::RangeResponse to_proto(const mvcc::RangeResponse& response) {
  etcdserverpb::RangeResponse result;
  *result.mutable_header() = to_proto(response.header);
  for (const mvcc::KeyValue& key_value : response.kvs) *result.add_kvs() = to_proto(key_value);
  result.set_more(response.more);
  result.set_count(response.count);
  return result;
}

etcdserverpb::PutResponse to_proto(const mvcc::PutResponse& response) {
  etcdserverpb::PutResponse result;
  *result.mutable_header() = to_proto(response.header);
  if (response.prev_kv) *result.mutable_prev_kv() = to_proto(*response.prev_kv);
  return result;
}

etcdserverpb::DeleteRangeResponse to_proto(const mvcc::DeleteRangeResponse& response) {
  etcdserverpb::DeleteRangeResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_deleted(response.deleted);
  for (const mvcc::KeyValue& key_value : response.prev_kvs) {
    *result.add_prev_kvs() = to_proto(key_value);
  }
  return result;
}

etcdserverpb::TxnResponse to_proto(const mvcc::TxnResponse& response) {
  etcdserverpb::TxnResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_succeeded(response.succeeded);
  for (const mvcc::ResponseOp& op : response.responses) {
    etcdserverpb::ResponseOp& converted = *result.add_responses();
    if (const auto* range = std::get_if<mvcc::RangeResponse>(&op.response)) {
      *converted.mutable_response_range() = to_proto(*range);
    } else if (const auto* put = std::get_if<mvcc::PutResponse>(&op.response)) {
      *converted.mutable_response_put() = to_proto(*put);
    } else if (const auto* remove = std::get_if<mvcc::DeleteRangeResponse>(&op.response)) {
      *converted.mutable_response_delete_range() = to_proto(*remove);
    } else {
      *converted.mutable_response_txn() =
          to_proto(**std::get_if<mvcc::Boxed<mvcc::TxnResponse>>(&op.response));
    }
  }
  return result;
}

etcdserverpb::CompactionResponse to_proto(const mvcc::CompactionResponse& response) {
  etcdserverpb::CompactionResponse result;
  *result.mutable_header() = to_proto(response.header);
  return result;
}

etcdserverpb::LeaseGrantResponse to_proto(const mvcc::LeaseGrantResponse& response) {
  etcdserverpb::LeaseGrantResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_id(response.id.value());
  result.set_ttl(response.ttl_seconds);
  result.set_error(response.error);
  return result;
}

etcdserverpb::LeaseRevokeResponse to_proto(const mvcc::LeaseRevokeResponse& response) {
  etcdserverpb::LeaseRevokeResponse result;
  *result.mutable_header() = to_proto(response.header);
  return result;
}

etcdserverpb::LeaseKeepAliveResponse to_proto(const mvcc::LeaseKeepAliveResponse& response) {
  etcdserverpb::LeaseKeepAliveResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_id(response.id.value());
  result.set_ttl(response.ttl_seconds);
  return result;
}

etcdserverpb::LeaseTimeToLiveResponse to_proto(const mvcc::LeaseTimeToLiveResponse& response) {
  etcdserverpb::LeaseTimeToLiveResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_id(response.id.value());
  result.set_ttl(response.ttl_seconds);
  result.set_grantedttl(response.granted_ttl_seconds);
  for (const std::string& key : response.keys) result.add_keys(key);
  return result;
}

etcdserverpb::LeaseLeasesResponse to_proto(const mvcc::LeaseLeasesResponse& response) {
  etcdserverpb::LeaseLeasesResponse result;
  *result.mutable_header() = to_proto(response.header);
  for (const mvcc::LeaseStatus& lease : response.leases) {
    result.add_leases()->set_id(lease.id.value());
  }
  return result;
}

etcdserverpb::WatchResponse to_proto(const mvcc::WatchResponse& response) {
  etcdserverpb::WatchResponse result;
  *result.mutable_header() = to_proto(response.header);
  result.set_watch_id(response.watch_id);
  result.set_created(response.created);
  result.set_canceled(response.canceled);
  result.set_compact_revision(response.compact_revision.value());
  result.set_cancel_reason(response.cancel_reason);
  result.set_fragment(response.fragment);
  for (const mvcc::Event& event : response.events) *result.add_events() = to_proto(event);
  return result;
}

// ---- responses: wire -> mvcc ----

mvcc::ResponseHeader from_proto(const etcdserverpb::ResponseHeader& header) {
  return mvcc::ResponseHeader{header.cluster_id(), NodeId(header.member_id()),
                              Revision(header.revision()), Term(header.raft_term())};
}

mvcc::KeyValue from_proto(const mvccpb::KeyValue& key_value) {
  mvcc::KeyValue result;
  result.key = key_value.key();
  result.create_revision = Revision(key_value.create_revision());
  result.mod_revision = Revision(key_value.mod_revision());
  result.version = key_value.version();
  result.value = key_value.value();
  result.lease = LeaseId(key_value.lease());
  return result;
}

mvcc::Event from_proto(const mvccpb::Event& event) {
  mvcc::Event result;
  result.type = static_cast<mvcc::EventType>(event.type());  // same numbering as mvccpb
  result.kv = from_proto(event.kv());
  if (event.has_prev_kv()) result.prev_kv = from_proto(event.prev_kv());
  return result;
}

mvcc::RangeResponse from_proto(const etcdserverpb::RangeResponse& response) {
  mvcc::RangeResponse result;
  result.header = from_proto(response.header());
  for (const mvccpb::KeyValue& key_value : response.kvs()) {
    result.kvs.push_back(from_proto(key_value));
  }
  result.more = response.more();
  result.count = response.count();
  return result;
}

mvcc::PutResponse from_proto(const etcdserverpb::PutResponse& response) {
  mvcc::PutResponse result;
  result.header = from_proto(response.header());
  if (response.has_prev_kv()) result.prev_kv = from_proto(response.prev_kv());
  return result;
}

mvcc::DeleteRangeResponse from_proto(const etcdserverpb::DeleteRangeResponse& response) {
  mvcc::DeleteRangeResponse result;
  result.header = from_proto(response.header());
  result.deleted = response.deleted();
  for (const mvccpb::KeyValue& key_value : response.prev_kvs()) {
    result.prev_kvs.push_back(from_proto(key_value));
  }
  return result;
}

mvcc::TxnResponse from_proto(const etcdserverpb::TxnResponse& response) {
  mvcc::TxnResponse result;
  result.header = from_proto(response.header());
  result.succeeded = response.succeeded();
  for (const etcdserverpb::ResponseOp& op : response.responses()) {
    switch (op.response_case()) {
      case etcdserverpb::ResponseOp::kResponseRange:
        result.responses.push_back(mvcc::ResponseOp{from_proto(op.response_range())});
        break;
      case etcdserverpb::ResponseOp::kResponsePut:
        result.responses.push_back(mvcc::ResponseOp{from_proto(op.response_put())});
        break;
      case etcdserverpb::ResponseOp::kResponseDeleteRange:
        result.responses.push_back(mvcc::ResponseOp{from_proto(op.response_delete_range())});
        break;
      case etcdserverpb::ResponseOp::kResponseTxn:
        result.responses.push_back(
            mvcc::ResponseOp{mvcc::Boxed<mvcc::TxnResponse>(from_proto(op.response_txn()))});
        break;
      case etcdserverpb::ResponseOp::RESPONSE_NOT_SET:
        // An empty response op carries nothing; keep the position with an empty range answer
        // so response i still belongs to request op i.
        result.responses.push_back(mvcc::ResponseOp{mvcc::RangeResponse{}});
        break;
    }
  }
  return result;
}

mvcc::WatchResponse from_proto(const etcdserverpb::WatchResponse& response) {
  mvcc::WatchResponse result;
  result.header = from_proto(response.header());
  result.watch_id = response.watch_id();
  result.created = response.created();
  result.canceled = response.canceled();
  result.compact_revision = Revision(response.compact_revision());
  result.cancel_reason = response.cancel_reason();
  result.fragment = response.fragment();
  for (const mvccpb::Event& event : response.events()) result.events.push_back(from_proto(event));
  return result;
}

}  // namespace lockstep::api
