#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"
#include "core/mvcc/watch_requests.h"
#include "core/node/alarm_set.h"
#include "core/node/member_requests.h"

namespace lockstep::node {

// The member's wire protocol over env::Network. Every message a member sends or receives is
// one frame:
//
//   byte 0   kFrameMagic ('L')
//   byte 1   kProtocolVersion
//   byte 2   FrameKind
//   rest     the kind's body (request_codec.h encodings; raft frames carry raft's own codec)
//
// Peers and clients share one network address per process, so the kind tells the receive
// loop who is talking. A frame with a wrong magic, an unknown version or kind, or a body
// that does not decode exactly is rejected with kInvalidInput and dropped: the sender of a
// malformed frame gets no answer (it cannot be trusted to have a request id), and nothing
// crashes.
inline constexpr uint8_t kFrameMagic = 0x4c;  // 'L'
inline constexpr uint8_t kProtocolVersion = 1;

enum class FrameKind : uint8_t {
  kRaft = 1,            // peer to peer: one raft::Message
  kClientRequest = 2,   // client to member
  kClientResponse = 3,  // member to client
  kWatchResponse = 4,   // member to client: one message of a watch stream
};

using ClientRequestBody =
    std::variant<mvcc::RangeRequest, mvcc::PutRequest, mvcc::DeleteRangeRequest, mvcc::TxnRequest,
                 mvcc::CompactionRequest, mvcc::LeaseGrantRequest, mvcc::LeaseRevokeRequest,
                 mvcc::LeaseKeepAliveRequest, mvcc::LeaseTimeToLiveRequest,
                 mvcc::WatchCreateRequest, mvcc::WatchCancelRequest, MemberAddRequest,
                 MemberRemoveRequest, MemberPromoteRequest, MemberListRequest, StatusRequest,
                 AlarmRequest, mvcc::WatchProgressRequest, MemberUpdateRequest>;

using ClientResponseBody =
    std::variant<mvcc::RangeResponse, mvcc::PutResponse, mvcc::DeleteRangeResponse,
                 mvcc::TxnResponse, mvcc::CompactionResponse, mvcc::LeaseGrantResponse,
                 mvcc::LeaseRevokeResponse, mvcc::LeaseKeepAliveResponse,
                 mvcc::LeaseTimeToLiveResponse, mvcc::WatchResponse, MemberListResponse,
                 StatusResponse, AlarmResponse>;

// One request. `request_id` is chosen by the client and echoed in the response; a client
// uses a fresh id per attempt so that a late answer to an abandoned attempt is recognised.
// Ids must not repeat from one network address: a member admits each (address, id) once and
// drops a repeat as a copy the network duplicated (duplicate_filter.h). A client therefore
// starts its ids at a random point, so that a restarted client does not reuse its
// predecessor's.
struct ClientRequest {
  uint64_t request_id = 0;
  ClientRequestBody body;
};

// One answer: either an error from the table in core/base/error.h (with the leader the
// member believes in, so that kNotLeader and kNoLeader can be followed) or a body.
struct ClientResponse {
  uint64_t request_id = 0;
  ErrorCode error = ErrorCode::kOk;
  std::string error_detail;
  NodeId leader_hint;
  std::optional<ClientResponseBody> body;  // present iff error == kOk

  bool ok() const { return error == ErrorCode::kOk; }
};

// A watch stream message. Watches are identified by (client process, watch id); the
// response to the create request is an ordinary ClientResponse carrying a WatchResponse
// with created = true, events follow as WatchStreamMessage frames.
//
// Messages of one watch carry consecutive sequence numbers from 1, so that a client on a
// lossy transport (the simulated network drops messages; gRPC's TCP would not) notices a
// lost message and re-creates the watch from its last revision instead of missing events.
struct WatchStreamMessage {
  mvcc::WatchResponse response;
  uint64_t sequence = 0;
};

struct RaftFrame {
  std::string message_bytes;  // raft's message_codec encoding
};

using Frame = std::variant<RaftFrame, ClientRequest, ClientResponse, WatchStreamMessage>;

std::string encode_frame(const RaftFrame& frame);
std::string encode_frame(const ClientRequest& request);
std::string encode_frame(const ClientResponse& response);
std::string encode_frame(const WatchStreamMessage& message);

// kInvalidInput (with a detail naming the problem) for anything malformed.
Result<Frame> decode_frame(std::string_view bytes);

// Whether a request changes state, i.e. must go through the Raft log. Reads are the only
// requests a client may blindly retry (see sim/cluster's client).
bool is_read_only(const ClientRequestBody& body);
std::string_view request_name(const ClientRequestBody& body);

}  // namespace lockstep::node
