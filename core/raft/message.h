#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/raft/types.h"

namespace lockstep::raft {

// The messages Raft nodes exchange. Events that are local to a node in etcd (MsgHup,
// MsgBeat, MsgCheckQuorum, MsgUnreachable, MsgSnapStatus) are RawNode methods here instead,
// so nothing on the wire can impersonate them. kPropose, kReadIndex and kTransferLeader may
// travel: a follower forwards them to its leader.
enum class MessageType : uint8_t {
  kAppend = 1,
  kAppendResponse = 2,
  kVote = 3,
  kVoteResponse = 4,
  kPreVote = 5,
  kPreVoteResponse = 6,
  kSnapshot = 7,
  kHeartbeat = 8,
  kHeartbeatResponse = 9,
  kTimeoutNow = 10,
  kReadIndex = 11,
  kReadIndexResponse = 12,
  kPropose = 13,
  kTransferLeader = 14,
};
inline constexpr uint8_t kMaxMessageType = 14;

std::string_view message_type_name(MessageType type);
bool is_response(MessageType type);

// Field meanings follow etcd's raftpb.Message:
// - kAppend: entries follow (index, log_term); commit is the leader's commit index.
// - kAppendResponse: index is the last index the follower now matches, or, when `reject`,
//   the rejected index with reject_hint/log_term the follower's hint for fast backtracking.
// - kVote/kPreVote: (log_term, index) is the candidate's last entry; context is
//   kCampaignTransferContext for a leadership transfer (thesis §3.10), which bypasses leases.
// - kHeartbeat: commit is min(follower's match, leader commit); context identifies a
//   ReadIndex round (thesis §6.4).
// - kReadIndex / kReadIndexResponse: context is the caller's request id; index the read index.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from{};
  NodeId to{};
  Term term{};
  Term log_term{};
  LogIndex index{};
  std::vector<Entry> entries{};
  LogIndex commit{};
  bool reject = false;
  LogIndex reject_hint{};
  std::string context{};
  Snapshot snapshot{};  // only for kSnapshot

  bool operator==(const Message&) const = default;
};

inline constexpr std::string_view kCampaignTransferContext = "CampaignTransfer";

// A one-line, human-readable rendering used in golden test output and traces.
std::string describe(const Message& message);
std::string describe(const Entry& entry);

// Bytes of payload an entry adds to a message or to the uncommitted tail (etcd counts data
// only, so empty entries such as the leader's no-op are free).
inline uint64_t payload_bytes(const Entry& entry) {
  return entry.data.size();
}

}  // namespace lockstep::raft
