#include "core/raft/message.h"

#include "core/base/assert.h"
#include "core/raft/membership.h"
#include "core/raft/message_codec.h"

namespace lockstep::raft {

std::string_view message_type_name(MessageType type) {
  // etcd's names, so traces read like etcd's raft logs.
  switch (type) {
    case MessageType::kAppend:
      return "MsgApp";
    case MessageType::kAppendResponse:
      return "MsgAppResp";
    case MessageType::kVote:
      return "MsgVote";
    case MessageType::kVoteResponse:
      return "MsgVoteResp";
    case MessageType::kPreVote:
      return "MsgPreVote";
    case MessageType::kPreVoteResponse:
      return "MsgPreVoteResp";
    case MessageType::kSnapshot:
      return "MsgSnap";
    case MessageType::kHeartbeat:
      return "MsgHeartbeat";
    case MessageType::kHeartbeatResponse:
      return "MsgHeartbeatResp";
    case MessageType::kTimeoutNow:
      return "MsgTimeoutNow";
    case MessageType::kReadIndex:
      return "MsgReadIndex";
    case MessageType::kReadIndexResponse:
      return "MsgReadIndexResp";
    case MessageType::kPropose:
      return "MsgProp";
    case MessageType::kTransferLeader:
      return "MsgTransferLeader";
  }
  UNREACHABLE("unknown MessageType");
}

bool is_response(MessageType type) {
  return type == MessageType::kAppendResponse || type == MessageType::kVoteResponse ||
         type == MessageType::kPreVoteResponse || type == MessageType::kHeartbeatResponse ||
         type == MessageType::kReadIndexResponse;
}

namespace {

std::string number(uint64_t value) {
  return std::to_string(value);
}

std::string describe_conf_change(const std::string& data) {
  Result<ConfChange> change = decode_conf_change(data);
  if (!change) return "conf(<" + change.error().to_string() + ">)";
  if (change->leaves_joint()) return "conf(leave-joint)";
  std::string text = "conf(";
  for (size_t i = 0; i < change->changes.size(); ++i) {
    const ConfChangeSingle& single = change->changes[i];
    if (i > 0) text += " ";
    switch (single.type) {
      case ConfChangeType::kAddNode:
        text += "v";
        break;
      case ConfChangeType::kAddLearnerNode:
        text += "l";
        break;
      case ConfChangeType::kRemoveNode:
        text += "r";
        break;
      case ConfChangeType::kUpdateNode:
        text += "u";
        break;
    }
    text += number(single.node.value());
  }
  return text + ")";
}

}  // namespace

std::string describe(const Entry& entry) {
  std::string text = number(entry.term.value()) + "/" + number(entry.index.value()) + " ";
  if (entry.type == EntryType::kConfChange) return text + describe_conf_change(entry.data);
  if (entry.data.empty()) return text + "noop";
  return text + "\"" + entry.data + "\"";
}

std::string describe(const Message& message) {
  std::string text = number(message.from.value()) + "->" + number(message.to.value()) + " " +
                     std::string(message_type_name(message.type)) +
                     " term=" + number(message.term.value());
  switch (message.type) {
    case MessageType::kAppend:
      text += " log=" + number(message.log_term.value()) + "/" + number(message.index.value()) +
              " commit=" + number(message.commit.value());
      break;
    case MessageType::kAppendResponse:
      text += " index=" + number(message.index.value());
      if (message.reject) {
        text += " rejected hint=" + number(message.log_term.value()) + "/" +
                number(message.reject_hint.value());
      }
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      text += " log=" + number(message.log_term.value()) + "/" + number(message.index.value());
      if (!message.context.empty()) text += " " + message.context;
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      if (message.reject) text += " rejected";
      break;
    case MessageType::kSnapshot: {
      const SnapshotMetadata& metadata = message.snapshot.metadata;
      text += " snapshot=" + number(metadata.term.value()) + "/" + number(metadata.index.value()) +
              " " + Membership::from_conf_state(metadata.conf_state).to_string();
      break;
    }
    case MessageType::kHeartbeat:
      text += " commit=" + number(message.commit.value());
      break;
    case MessageType::kReadIndexResponse:
      text += " index=" + number(message.index.value());
      break;
    default:
      break;
  }
  if (!message.context.empty() && message.type != MessageType::kVote &&
      message.type != MessageType::kPreVote) {
    text += " ctx=" + message.context;
  }
  if (!message.entries.empty()) {
    text += " [";
    for (size_t i = 0; i < message.entries.size(); ++i) {
      if (i > 0) text += ", ";
      text += describe(message.entries[i]);
    }
    text += "]";
  }
  return text;
}

}  // namespace lockstep::raft
