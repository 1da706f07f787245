#include "core/node/client_protocol.h"

#include "core/node/request_codec.h"

namespace lockstep::node {
namespace {

// Number of codes in the error table, so a decoder can refuse unknown ones.
#define LOCKSTEP_COUNT_ERROR(name, grpc, message) +1
constexpr int kErrorCodeCount = 0 LOCKSTEP_ERROR_TABLE(LOCKSTEP_COUNT_ERROR);
#undef LOCKSTEP_COUNT_ERROR

WireWriter start_frame(FrameKind kind) {
  WireWriter out;
  out.u8(kFrameMagic);
  out.u8(kProtocolVersion);
  out.u8(static_cast<uint8_t>(kind));
  return out;
}

Result<Frame> finish(WireReader& in, Frame frame) {
  RETURN_IF_ERROR(in.finish());
  return frame;
}

}  // namespace

std::string encode_frame(const RaftFrame& frame) {
  WireWriter out = start_frame(FrameKind::kRaft);
  out.bytes(frame.message_bytes);
  return out.take();
}

std::string encode_frame(const ClientRequest& request) {
  WireWriter out = start_frame(FrameKind::kClientRequest);
  out.varint(request.request_id);
  encode_variant(out, request.body);
  return out.take();
}

std::string encode_frame(const ClientResponse& response) {
  ASSERT(response.ok() == response.body.has_value(), "a response has a body iff it succeeded");
  WireWriter out = start_frame(FrameKind::kClientResponse);
  out.varint(response.request_id);
  out.varint(static_cast<uint64_t>(response.error));
  out.bytes(response.error_detail);
  out.varint(response.leader_hint.value());
  if (response.body) encode_variant(out, *response.body);
  return out.take();
}

std::string encode_frame(const WatchStreamMessage& message) {
  WireWriter out = start_frame(FrameKind::kWatchResponse);
  encode(out, message.response);
  out.varint(message.sequence);
  return out.take();
}

Result<Frame> decode_frame(std::string_view bytes) {
  WireReader in(bytes);
  if (in.u8() != kFrameMagic) return Error(ErrorCode::kInvalidInput, "not a lockstep frame");
  const uint8_t version = in.u8();
  if (version != kProtocolVersion) {
    return Error(ErrorCode::kInvalidInput,
                 "unsupported protocol version " + std::to_string(version));
  }
  const uint8_t kind = in.u8();
  switch (static_cast<FrameKind>(kind)) {
    case FrameKind::kRaft: {
      RaftFrame frame{in.bytes()};
      return finish(in, std::move(frame));
    }
    case FrameKind::kClientRequest: {
      ClientRequest request;
      request.request_id = in.varint();
      decode_variant(in, request.body);
      return finish(in, std::move(request));
    }
    case FrameKind::kClientResponse: {
      ClientResponse response;
      response.request_id = in.varint();
      const uint64_t code = in.varint();
      if (code > static_cast<uint64_t>(kErrorCodeCount)) in.fail("unknown error code");
      response.error = static_cast<ErrorCode>(code);
      response.error_detail = in.bytes();
      response.leader_hint = NodeId(in.varint());
      if (response.ok() && !in.failed()) decode_variant(in, response.body.emplace());
      return finish(in, std::move(response));
    }
    case FrameKind::kWatchResponse: {
      WatchStreamMessage message;
      decode(in, message.response);
      message.sequence = in.varint();
      return finish(in, std::move(message));
    }
  }
  return Error(ErrorCode::kInvalidInput, "unknown frame kind " + std::to_string(kind));
}

bool is_read_only(const ClientRequestBody& body) {
  return std::holds_alternative<mvcc::RangeRequest>(body) ||
         std::holds_alternative<mvcc::LeaseTimeToLiveRequest>(body) ||
         std::holds_alternative<MemberListRequest>(body) ||
         std::holds_alternative<StatusRequest>(body);
}

std::string_view request_name(const ClientRequestBody& body) {
  static constexpr std::string_view kNames[] = {"range",         "put",
                                                "delete_range",  "txn",
                                                "compact",       "lease_grant",
                                                "lease_revoke",  "lease_keep_alive",
                                                "lease_ttl",     "watch_create",
                                                "watch_cancel",  "member_add",
                                                "member_remove", "member_promote",
                                                "member_list",   "status",
                                                "alarm",         "watch_progress",
                                                "member_update"};
  static_assert(std::size(kNames) == std::variant_size_v<ClientRequestBody>);
  return kNames[body.index()];
}

}  // namespace lockstep::node
