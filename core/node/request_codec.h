#pragma once

#include "core/mvcc/apply_request.h"
#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"
#include "core/mvcc/watch_requests.h"
#include "core/node/alarm_set.h"
#include "core/node/member_requests.h"
#include "core/node/wire_codec.h"

namespace lockstep::node {

// Binary encodings of the etcd-shaped request and response types, used both inside Raft
// entries (ApplyRequest) and on the client wire (client_protocol.h). Every decode_* reads
// with a WireReader, so malformed bytes leave the reader failed instead of crashing; the
// caller checks reader.finish().
//
// Nested transactions recurse; decoding refuses nesting deeper than this, so a hostile
// message cannot overflow a fiber's stack.
inline constexpr int kMaxTxnNestingDepth = 16;

void encode(WireWriter& out, const mvcc::ResponseHeader& header);
void encode(WireWriter& out, const mvcc::KeyValue& key_value);
void encode(WireWriter& out, const mvcc::Event& event);
void encode(WireWriter& out, const mvcc::RangeRequest& request);
void encode(WireWriter& out, const mvcc::RangeResponse& response);
void encode(WireWriter& out, const mvcc::PutRequest& request);
void encode(WireWriter& out, const mvcc::PutResponse& response);
void encode(WireWriter& out, const mvcc::DeleteRangeRequest& request);
void encode(WireWriter& out, const mvcc::DeleteRangeResponse& response);
void encode(WireWriter& out, const mvcc::TxnRequest& request);
void encode(WireWriter& out, const mvcc::TxnResponse& response);
void encode(WireWriter& out, const mvcc::CompactionRequest& request);
void encode(WireWriter& out, const mvcc::CompactionResponse& response);
void encode(WireWriter& out, const mvcc::LeaseGrantRequest& request);
void encode(WireWriter& out, const mvcc::LeaseGrantResponse& response);
void encode(WireWriter& out, const mvcc::LeaseRevokeRequest& request);
void encode(WireWriter& out, const mvcc::LeaseRevokeResponse& response);
void encode(WireWriter& out, const mvcc::LeaseCheckpointRequest& request);
void encode(WireWriter& out, const mvcc::LeaseCheckpointResponse& response);
void encode(WireWriter& out, const mvcc::LeaseKeepAliveRequest& request);
void encode(WireWriter& out, const mvcc::LeaseKeepAliveResponse& response);
void encode(WireWriter& out, const mvcc::LeaseTimeToLiveRequest& request);
void encode(WireWriter& out, const mvcc::LeaseTimeToLiveResponse& response);
void encode(WireWriter& out, const mvcc::WatchCreateRequest& request);
void encode(WireWriter& out, const mvcc::WatchCancelRequest& request);
void encode(WireWriter& out, const mvcc::WatchProgressRequest& request);
void encode(WireWriter& out, const mvcc::WatchResponse& response);
void encode(WireWriter& out, const MemberAddRequest& request);
void encode(WireWriter& out, const MemberRemoveRequest& request);
void encode(WireWriter& out, const MemberPromoteRequest& request);
void encode(WireWriter& out, const MemberUpdateRequest& request);
void encode(WireWriter& out, const MemberListRequest& request);
void encode(WireWriter& out, const MemberListResponse& response);
void encode(WireWriter& out, const StatusRequest& request);
void encode(WireWriter& out, const StatusResponse& response);
void encode(WireWriter& out, const AlarmRequest& request);
void encode(WireWriter& out, const AlarmResponse& response);

void decode(WireReader& in, mvcc::ResponseHeader& header);
void decode(WireReader& in, mvcc::KeyValue& key_value);
void decode(WireReader& in, mvcc::Event& event);
void decode(WireReader& in, mvcc::RangeRequest& request);
void decode(WireReader& in, mvcc::RangeResponse& response);
void decode(WireReader& in, mvcc::PutRequest& request);
void decode(WireReader& in, mvcc::PutResponse& response);
void decode(WireReader& in, mvcc::DeleteRangeRequest& request);
void decode(WireReader& in, mvcc::DeleteRangeResponse& response);
void decode(WireReader& in, mvcc::TxnRequest& request, int depth = 0);
void decode(WireReader& in, mvcc::TxnResponse& response, int depth = 0);
void decode(WireReader& in, mvcc::CompactionRequest& request);
void decode(WireReader& in, mvcc::CompactionResponse& response);
void decode(WireReader& in, mvcc::LeaseGrantRequest& request);
void decode(WireReader& in, mvcc::LeaseGrantResponse& response);
void decode(WireReader& in, mvcc::LeaseRevokeRequest& request);
void decode(WireReader& in, mvcc::LeaseRevokeResponse& response);
void decode(WireReader& in, mvcc::LeaseCheckpointRequest& request);
void decode(WireReader& in, mvcc::LeaseCheckpointResponse& response);
void decode(WireReader& in, mvcc::LeaseKeepAliveRequest& request);
void decode(WireReader& in, mvcc::LeaseKeepAliveResponse& response);
void decode(WireReader& in, mvcc::LeaseTimeToLiveRequest& request);
void decode(WireReader& in, mvcc::LeaseTimeToLiveResponse& response);
void decode(WireReader& in, mvcc::WatchCreateRequest& request);
void decode(WireReader& in, mvcc::WatchCancelRequest& request);
void decode(WireReader& in, mvcc::WatchProgressRequest& request);
void decode(WireReader& in, mvcc::WatchResponse& response);
void decode(WireReader& in, MemberAddRequest& request);
void decode(WireReader& in, MemberRemoveRequest& request);
void decode(WireReader& in, MemberPromoteRequest& request);
void decode(WireReader& in, MemberUpdateRequest& request);
void decode(WireReader& in, MemberListRequest& request);
void decode(WireReader& in, MemberListResponse& response);
void decode(WireReader& in, StatusRequest& request);
void decode(WireReader& in, StatusResponse& response);
void decode(WireReader& in, AlarmRequest& request);
void decode(WireReader& in, AlarmResponse& response);

template <size_t I, typename... Alternatives>
void decode_alternative(WireReader& in, std::variant<Alternatives...>& value, uint64_t index) {
  if constexpr (I < sizeof...(Alternatives)) {
    if (index == I) {
      decode(in, value.template emplace<I>());
      return;
    }
    decode_alternative<I + 1>(in, value, index);
  }
}

// Encodes a variant as its alternative's index followed by the alternative.
template <typename... Alternatives>
void encode_variant(WireWriter& out, const std::variant<Alternatives...>& value) {
  out.varint(value.index());
  std::visit([&](const auto& alternative) { encode(out, alternative); }, value);
}

// Decodes what encode_variant wrote; an unknown index fails the reader.
template <typename... Alternatives>
void decode_variant(WireReader& in, std::variant<Alternatives...>& value) {
  const uint64_t index = in.varint();
  if (in.failed()) return;
  if (index >= sizeof...(Alternatives)) return in.fail("unknown variant alternative");
  decode_alternative<0>(in, value, index);
}

}  // namespace lockstep::node
