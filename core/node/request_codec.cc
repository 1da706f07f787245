#include "core/node/request_codec.h"

namespace lockstep::node {

// File-local helpers are `static` in this namespace (not in an unnamed namespace) so that
// they overload with the public encode/decode functions instead of hiding them.

static void put_revision(WireWriter& out, Revision revision) {
  out.signed_varint(revision.value());
}
static Revision get_revision(WireReader& in) {
  return Revision(in.signed_varint());
}
static void put_lease(WireWriter& out, LeaseId lease) {
  out.signed_varint(lease.value());
}
static LeaseId get_lease(WireReader& in) {
  return LeaseId(in.signed_varint());
}

// Enums travel as their etcd numeric value; a value outside [0, max] fails the reader.
template <typename Enum>
static void put_enum(WireWriter& out, Enum value) {
  out.varint(static_cast<uint64_t>(value));
}
template <typename Enum>
static Enum get_enum(WireReader& in, int max_value) {
  const uint64_t raw = in.varint();
  if (raw > static_cast<uint64_t>(max_value)) {
    in.fail("enum value out of range");
    return Enum{};
  }
  return static_cast<Enum>(raw);
}

static void encode(WireWriter& out, const mvcc::Compare& compare) {
  put_enum(out, compare.result);
  put_enum(out, compare.target);
  out.bytes(compare.key);
  out.signed_varint(compare.version);
  put_revision(out, compare.create_revision);
  put_revision(out, compare.mod_revision);
  out.bytes(compare.value);
  put_lease(out, compare.lease);
  out.bytes(compare.range_end);
}

static void decode(WireReader& in, mvcc::Compare& compare) {
  compare.result = get_enum<mvcc::CompareResult>(in, 3);
  compare.target = get_enum<mvcc::CompareTarget>(in, 4);
  compare.key = in.bytes();
  compare.version = in.signed_varint();
  compare.create_revision = get_revision(in);
  compare.mod_revision = get_revision(in);
  compare.value = in.bytes();
  compare.lease = get_lease(in);
  compare.range_end = in.bytes();
}

static void encode(WireWriter& out, const mvcc::LeaseCheckpoint& checkpoint) {
  put_lease(out, checkpoint.id);
  out.signed_varint(checkpoint.remaining_ttl_seconds);
}

static void decode(WireReader& in, mvcc::LeaseCheckpoint& checkpoint) {
  checkpoint.id = get_lease(in);
  checkpoint.remaining_ttl_seconds = in.signed_varint();
}

static void encode(WireWriter& out, const std::string& text) {
  out.bytes(text);
}
static void decode(WireReader& in, std::string& text) {
  text = in.bytes();
}

static void encode(WireWriter& out, const mvcc::WatchFilter& filter) {
  put_enum(out, filter);
}
static void decode(WireReader& in, mvcc::WatchFilter& filter) {
  filter = get_enum<mvcc::WatchFilter>(in, 1);
}

static void encode(WireWriter& out, const MemberInfo& member) {
  out.varint(member.id.value());
  out.boolean(member.is_learner);
}
static void decode(WireReader& in, MemberInfo& member) {
  member.id = NodeId(in.varint());
  member.is_learner = in.boolean();
}

template <typename T>
static void put_list(WireWriter& out, const std::vector<T>& items) {
  out.varint(items.size());
  for (const T& item : items) encode(out, item);
}
template <typename T>
static void get_list(WireReader& in, std::vector<T>& items) {
  const uint64_t count = in.count();
  items.clear();
  items.reserve(count);
  for (uint64_t i = 0; i < count && !in.failed(); ++i) decode(in, items.emplace_back());
}

static void encode_op(WireWriter& out, const mvcc::RequestOp& op) {
  out.varint(op.request.index());
  std::visit(
      [&](const auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnRequest>>) {
          encode(out, *request);
        } else {
          encode(out, request);
        }
      },
      op.request);
}

static void decode_op(WireReader& in, mvcc::RequestOp& op, int depth) {
  switch (in.varint()) {
    case 0:
      return decode(in, op.request.emplace<mvcc::RangeRequest>());
    case 1:
      return decode(in, op.request.emplace<mvcc::PutRequest>());
    case 2:
      return decode(in, op.request.emplace<mvcc::DeleteRangeRequest>());
    case 3: {
      mvcc::TxnRequest nested;
      decode(in, nested, depth + 1);
      op.request = mvcc::Boxed<mvcc::TxnRequest>(std::move(nested));
      return;
    }
    default:
      return in.fail("unknown request op");
  }
}

static void encode_op_response(WireWriter& out, const mvcc::ResponseOp& op) {
  out.varint(op.response.index());
  std::visit(
      [&](const auto& response) {
        using T = std::decay_t<decltype(response)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnResponse>>) {
          encode(out, *response);
        } else {
          encode(out, response);
        }
      },
      op.response);
}

static void decode_op_response(WireReader& in, mvcc::ResponseOp& op, int depth) {
  switch (in.varint()) {
    case 0:
      return decode(in, op.response.emplace<mvcc::RangeResponse>());
    case 1:
      return decode(in, op.response.emplace<mvcc::PutResponse>());
    case 2:
      return decode(in, op.response.emplace<mvcc::DeleteRangeResponse>());
    case 3: {
      mvcc::TxnResponse nested;
      decode(in, nested, depth + 1);
      op.response = mvcc::Boxed<mvcc::TxnResponse>(std::move(nested));
      return;
    }
    default:
      return in.fail("unknown response op");
  }
}

void encode(WireWriter& out, const mvcc::ResponseHeader& header) {
  out.varint(header.cluster_id);
  out.varint(header.member_id.value());
  put_revision(out, header.revision);
  out.varint(header.raft_term.value());
}

void decode(WireReader& in, mvcc::ResponseHeader& header) {
  header.cluster_id = in.varint();
  header.member_id = NodeId(in.varint());
  header.revision = get_revision(in);
  header.raft_term = Term(in.varint());
}

void encode(WireWriter& out, const mvcc::KeyValue& key_value) {
  out.bytes(key_value.key);
  put_revision(out, key_value.create_revision);
  put_revision(out, key_value.mod_revision);
  out.signed_varint(key_value.version);
  out.bytes(key_value.value);
  put_lease(out, key_value.lease);
}

void decode(WireReader& in, mvcc::KeyValue& key_value) {
  key_value.key = in.bytes();
  key_value.create_revision = get_revision(in);
  key_value.mod_revision = get_revision(in);
  key_value.version = in.signed_varint();
  key_value.value = in.bytes();
  key_value.lease = get_lease(in);
}

void encode(WireWriter& out, const mvcc::Event& event) {
  put_enum(out, event.type);
  encode(out, event.kv);
  out.boolean(event.prev_kv.has_value());
  if (event.prev_kv) encode(out, *event.prev_kv);
}

void decode(WireReader& in, mvcc::Event& event) {
  event.type = get_enum<mvcc::EventType>(in, 1);
  decode(in, event.kv);
  if (in.boolean()) {
    decode(in, event.prev_kv.emplace());
  } else {
    event.prev_kv.reset();
  }
}

void encode(WireWriter& out, const mvcc::RangeRequest& request) {
  out.bytes(request.key);
  out.bytes(request.range_end);
  out.signed_varint(request.limit);
  put_revision(out, request.revision);
  put_enum(out, request.sort_order);
  put_enum(out, request.sort_target);
  out.boolean(request.serializable);
  out.boolean(request.keys_only);
  out.boolean(request.count_only);
  put_revision(out, request.min_mod_revision);
  put_revision(out, request.max_mod_revision);
  put_revision(out, request.min_create_revision);
  put_revision(out, request.max_create_revision);
}

void decode(WireReader& in, mvcc::RangeRequest& request) {
  request.key = in.bytes();
  request.range_end = in.bytes();
  request.limit = in.signed_varint();
  request.revision = get_revision(in);
  request.sort_order = get_enum<mvcc::SortOrder>(in, 2);
  request.sort_target = get_enum<mvcc::SortTarget>(in, 4);
  request.serializable = in.boolean();
  request.keys_only = in.boolean();
  request.count_only = in.boolean();
  request.min_mod_revision = get_revision(in);
  request.max_mod_revision = get_revision(in);
  request.min_create_revision = get_revision(in);
  request.max_create_revision = get_revision(in);
}

void encode(WireWriter& out, const mvcc::RangeResponse& response) {
  encode(out, response.header);
  put_list(out, response.kvs);
  out.boolean(response.more);
  out.signed_varint(response.count);
}

void decode(WireReader& in, mvcc::RangeResponse& response) {
  decode(in, response.header);
  get_list(in, response.kvs);
  response.more = in.boolean();
  response.count = in.signed_varint();
}

void encode(WireWriter& out, const mvcc::PutRequest& request) {
  out.bytes(request.key);
  out.bytes(request.value);
  put_lease(out, request.lease);
  out.boolean(request.prev_kv);
  out.boolean(request.ignore_value);
  out.boolean(request.ignore_lease);
}

void decode(WireReader& in, mvcc::PutRequest& request) {
  request.key = in.bytes();
  request.value = in.bytes();
  request.lease = get_lease(in);
  request.prev_kv = in.boolean();
  request.ignore_value = in.boolean();
  request.ignore_lease = in.boolean();
}

void encode(WireWriter& out, const mvcc::PutResponse& response) {
  encode(out, response.header);
  out.boolean(response.prev_kv.has_value());
  if (response.prev_kv) encode(out, *response.prev_kv);
}

void decode(WireReader& in, mvcc::PutResponse& response) {
  decode(in, response.header);
  if (in.boolean()) decode(in, response.prev_kv.emplace());
}

void encode(WireWriter& out, const mvcc::DeleteRangeRequest& request) {
  out.bytes(request.key);
  out.bytes(request.range_end);
  out.boolean(request.prev_kv);
}

void decode(WireReader& in, mvcc::DeleteRangeRequest& request) {
  request.key = in.bytes();
  request.range_end = in.bytes();
  request.prev_kv = in.boolean();
}

void encode(WireWriter& out, const mvcc::DeleteRangeResponse& response) {
  encode(out, response.header);
  out.signed_varint(response.deleted);
  put_list(out, response.prev_kvs);
}

void decode(WireReader& in, mvcc::DeleteRangeResponse& response) {
  decode(in, response.header);
  response.deleted = in.signed_varint();
  get_list(in, response.prev_kvs);
}

void encode(WireWriter& out, const mvcc::TxnRequest& request) {
  put_list(out, request.compare);
  out.varint(request.success.size());
  for (const mvcc::RequestOp& op : request.success) encode_op(out, op);
  out.varint(request.failure.size());
  for (const mvcc::RequestOp& op : request.failure) encode_op(out, op);
}

void decode(WireReader& in, mvcc::TxnRequest& request, int depth) {
  if (depth > kMaxTxnNestingDepth) return in.fail("transactions nested too deeply");
  get_list(in, request.compare);
  for (auto* branch : {&request.success, &request.failure}) {
    const uint64_t count = in.count();
    branch->clear();
    for (uint64_t i = 0; i < count && !in.failed(); ++i)
      decode_op(in, branch->emplace_back(), depth);
  }
}

void encode(WireWriter& out, const mvcc::TxnResponse& response) {
  encode(out, response.header);
  out.boolean(response.succeeded);
  out.varint(response.responses.size());
  for (const mvcc::ResponseOp& op : response.responses) encode_op_response(out, op);
}

void decode(WireReader& in, mvcc::TxnResponse& response, int depth) {
  if (depth > kMaxTxnNestingDepth) return in.fail("transactions nested too deeply");
  decode(in, response.header);
  response.succeeded = in.boolean();
  const uint64_t count = in.count();
  response.responses.clear();
  for (uint64_t i = 0; i < count && !in.failed(); ++i) {
    decode_op_response(in, response.responses.emplace_back(), depth);
  }
}

void encode(WireWriter& out, const mvcc::CompactionRequest& request) {
  put_revision(out, request.revision);
  out.boolean(request.physical);
}

void decode(WireReader& in, mvcc::CompactionRequest& request) {
  request.revision = get_revision(in);
  request.physical = in.boolean();
}

void encode(WireWriter& out, const mvcc::CompactionResponse& response) {
  encode(out, response.header);
}
void decode(WireReader& in, mvcc::CompactionResponse& response) {
  decode(in, response.header);
}

void encode(WireWriter& out, const mvcc::LeaseGrantRequest& request) {
  out.signed_varint(request.ttl_seconds);
  put_lease(out, request.id);
}

void decode(WireReader& in, mvcc::LeaseGrantRequest& request) {
  request.ttl_seconds = in.signed_varint();
  request.id = get_lease(in);
}

void encode(WireWriter& out, const mvcc::LeaseGrantResponse& response) {
  encode(out, response.header);
  put_lease(out, response.id);
  out.signed_varint(response.ttl_seconds);
  out.bytes(response.error);
}

void decode(WireReader& in, mvcc::LeaseGrantResponse& response) {
  decode(in, response.header);
  response.id = get_lease(in);
  response.ttl_seconds = in.signed_varint();
  response.error = in.bytes();
}

void encode(WireWriter& out, const mvcc::LeaseRevokeRequest& request) {
  put_lease(out, request.id);
}
void decode(WireReader& in, mvcc::LeaseRevokeRequest& request) {
  request.id = get_lease(in);
}
void encode(WireWriter& out, const mvcc::LeaseRevokeResponse& response) {
  encode(out, response.header);
}
void decode(WireReader& in, mvcc::LeaseRevokeResponse& response) {
  decode(in, response.header);
}

void encode(WireWriter& out, const mvcc::LeaseCheckpointRequest& request) {
  put_list(out, request.checkpoints);
}
void decode(WireReader& in, mvcc::LeaseCheckpointRequest& request) {
  get_list(in, request.checkpoints);
}
void encode(WireWriter& out, const mvcc::LeaseCheckpointResponse& response) {
  encode(out, response.header);
}
void decode(WireReader& in, mvcc::LeaseCheckpointResponse& response) {
  decode(in, response.header);
}

void encode(WireWriter& out, const mvcc::LeaseKeepAliveRequest& request) {
  put_lease(out, request.id);
}
void decode(WireReader& in, mvcc::LeaseKeepAliveRequest& request) {
  request.id = get_lease(in);
}

void encode(WireWriter& out, const mvcc::LeaseKeepAliveResponse& response) {
  encode(out, response.header);
  put_lease(out, response.id);
  out.signed_varint(response.ttl_seconds);
}

void decode(WireReader& in, mvcc::LeaseKeepAliveResponse& response) {
  decode(in, response.header);
  response.id = get_lease(in);
  response.ttl_seconds = in.signed_varint();
}

void encode(WireWriter& out, const mvcc::LeaseTimeToLiveRequest& request) {
  put_lease(out, request.id);
  out.boolean(request.keys);
}

void decode(WireReader& in, mvcc::LeaseTimeToLiveRequest& request) {
  request.id = get_lease(in);
  request.keys = in.boolean();
}

void encode(WireWriter& out, const mvcc::LeaseTimeToLiveResponse& response) {
  encode(out, response.header);
  put_lease(out, response.id);
  out.signed_varint(response.ttl_seconds);
  out.signed_varint(response.granted_ttl_seconds);
  put_list(out, response.keys);
}

void decode(WireReader& in, mvcc::LeaseTimeToLiveResponse& response) {
  decode(in, response.header);
  response.id = get_lease(in);
  response.ttl_seconds = in.signed_varint();
  response.granted_ttl_seconds = in.signed_varint();
  get_list(in, response.keys);
}

void encode(WireWriter& out, const mvcc::WatchCreateRequest& request) {
  out.bytes(request.key);
  out.bytes(request.range_end);
  put_revision(out, request.start_revision);
  out.boolean(request.progress_notify);
  put_list(out, request.filters);
  out.boolean(request.prev_kv);
  out.signed_varint(request.watch_id);
  out.boolean(request.fragment);
}

void decode(WireReader& in, mvcc::WatchCreateRequest& request) {
  request.key = in.bytes();
  request.range_end = in.bytes();
  request.start_revision = get_revision(in);
  request.progress_notify = in.boolean();
  get_list(in, request.filters);
  request.prev_kv = in.boolean();
  request.watch_id = in.signed_varint();
  request.fragment = in.boolean();
}

void encode(WireWriter& out, const mvcc::WatchCancelRequest& request) {
  out.signed_varint(request.watch_id);
}
void decode(WireReader& in, mvcc::WatchCancelRequest& request) {
  request.watch_id = in.signed_varint();
}

// etcd's WatchProgressRequest has no fields.
void encode(WireWriter&, const mvcc::WatchProgressRequest&) {}
void decode(WireReader&, mvcc::WatchProgressRequest&) {}

void encode(WireWriter& out, const mvcc::WatchResponse& response) {
  encode(out, response.header);
  out.signed_varint(response.watch_id);
  out.boolean(response.created);
  out.boolean(response.canceled);
  put_revision(out, response.compact_revision);
  out.bytes(response.cancel_reason);
  out.boolean(response.fragment);
  put_list(out, response.events);
}

void decode(WireReader& in, mvcc::WatchResponse& response) {
  decode(in, response.header);
  response.watch_id = in.signed_varint();
  response.created = in.boolean();
  response.canceled = in.boolean();
  response.compact_revision = get_revision(in);
  response.cancel_reason = in.bytes();
  response.fragment = in.boolean();
  get_list(in, response.events);
}

void encode(WireWriter& out, const MemberAddRequest& request) {
  out.varint(request.id.value());
  out.boolean(request.is_learner);
  out.bytes(request.attributes);
}
void decode(WireReader& in, MemberAddRequest& request) {
  request.id = NodeId(in.varint());
  request.is_learner = in.boolean();
  request.attributes = in.bytes();
}
void encode(WireWriter& out, const MemberRemoveRequest& request) {
  out.varint(request.id.value());
}
void decode(WireReader& in, MemberRemoveRequest& request) {
  request.id = NodeId(in.varint());
}
void encode(WireWriter& out, const MemberPromoteRequest& request) {
  out.varint(request.id.value());
}
void decode(WireReader& in, MemberPromoteRequest& request) {
  request.id = NodeId(in.varint());
}
void encode(WireWriter& out, const MemberUpdateRequest& request) {
  out.varint(request.id.value());
  out.bytes(request.attributes);
}
void decode(WireReader& in, MemberUpdateRequest& request) {
  request.id = NodeId(in.varint());
  request.attributes = in.bytes();
}
void encode(WireWriter& out, const MemberListRequest& request) {
  out.boolean(request.linearizable);
}
void decode(WireReader& in, MemberListRequest& request) {
  request.linearizable = in.boolean();
}

void encode(WireWriter& out, const MemberListResponse& response) {
  encode(out, response.header);
  put_list(out, response.members);
}

void decode(WireReader& in, MemberListResponse& response) {
  decode(in, response.header);
  get_list(in, response.members);
}

void encode(WireWriter&, const StatusRequest&) {}
void decode(WireReader&, StatusRequest&) {}

void encode(WireWriter& out, const StatusResponse& response) {
  encode(out, response.header);
  out.varint(response.leader.value());
  out.varint(response.raft_index.value());
  out.varint(response.raft_applied_index.value());
  out.varint(response.db_size_bytes);
  out.boolean(response.is_learner);
}

void decode(WireReader& in, StatusResponse& response) {
  decode(in, response.header);
  response.leader = NodeId(in.varint());
  response.raft_index = LogIndex(in.varint());
  response.raft_applied_index = LogIndex(in.varint());
  response.db_size_bytes = in.varint();
  response.is_learner = in.boolean();
}

void encode(WireWriter& out, const AlarmRequest& request) {
  put_enum(out, request.action);
  out.varint(request.member.value());
  put_enum(out, request.alarm);
}
void decode(WireReader& in, AlarmRequest& request) {
  request.action = get_enum<AlarmAction>(in, kMaxAlarmAction);
  request.member = NodeId(in.varint());
  request.alarm = get_enum<AlarmType>(in, kMaxAlarmType);
}
void encode(WireWriter& out, const AlarmResponse& response) {
  encode(out, response.header);
  out.varint(response.alarms.size());
  for (const AlarmMember& alarm : response.alarms) {
    out.varint(alarm.member.value());
    put_enum(out, alarm.alarm);
  }
}
void decode(WireReader& in, AlarmResponse& response) {
  decode(in, response.header);
  const uint64_t count = in.count();
  for (uint64_t i = 0; i < count && !in.failed(); ++i) {
    AlarmMember alarm;
    alarm.member = NodeId(in.varint());
    alarm.alarm = get_enum<AlarmType>(in, kMaxAlarmType);
    response.alarms.push_back(alarm);
  }
}

}  // namespace lockstep::node
