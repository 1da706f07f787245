#include "core/raft/raw_node.h"

#include "core/raft/message_codec.h"

namespace lockstep::raft {

bool Ready::empty() const {
  return !soft_state && !hard_state && read_states.empty() && entries.empty() && snapshot.empty() &&
         committed_entries.empty() && messages.empty();
}

bool may_send_before_persist(const Message& message) {
  switch (message.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      return true;
    default:
      return false;
  }
}

Result<std::unique_ptr<RawNode>> RawNode::create(RaftConfig config) {
  Result<std::unique_ptr<Raft>> raft = Raft::create(std::move(config));
  if (!raft) return Result<std::unique_ptr<RawNode>>(raft.error());
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft.value())));
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  previous_soft_state_ = soft_state();
  previous_hard_state_ = raft_->hard_state();
}

SoftState RawNode::soft_state() const {
  return SoftState{raft_->leader(), raft_->role()};
}

Status RawNode::propose(std::string data) {
  Message message{.type = MessageType::kPropose, .from = raft_->id()};
  message.entries.push_back(Entry{.data = std::move(data)});
  return raft_->step(std::move(message));
}

Status RawNode::propose_conf_change(const ConfChange& change) {
  Message message{.type = MessageType::kPropose, .from = raft_->id()};
  message.entries.push_back(
      Entry{.type = EntryType::kConfChange, .data = encode_conf_change(change)});
  return raft_->step(std::move(message));
}

Status RawNode::step(Message message) {
  if (message.to != raft_->id()) {
    return Status(ErrorCode::kInvalidInput, "message addressed to another node");
  }
  if (message.from == kNoNode || message.from == raft_->id()) {
    return Status(ErrorCode::kInvalidInput, "message from an invalid sender");
  }
  return raft_->step(std::move(message));
}

Status RawNode::read_index(std::string context) {
  if (context.empty()) return Status(ErrorCode::kInvalidInput, "read_index needs a context");
  return raft_->step(Message{.type = MessageType::kReadIndex,
                             .from = raft_->id(),
                             .to = raft_->id(),
                             .context = std::move(context)});
}

Status RawNode::transfer_leadership(NodeId transferee) {
  if (transferee == kNoNode) {
    return Status(ErrorCode::kBadLeaderTransferee, "no transferee given");
  }
  // etcd's shape: the request names the transferee as its sender; a follower forwards it.
  return raft_->step(
      Message{.type = MessageType::kTransferLeader, .from = transferee, .to = raft_->id()});
}

bool RawNode::has_ready() const {
  const RaftLog& log = raft_->log();
  return soft_state() != previous_soft_state_ || raft_->hard_state() != previous_hard_state_ ||
         log.has_unstable_entries() || log.unstable_snapshot().has_value() ||
         raft_->has_messages() || raft_->has_read_states() || log.has_next_committed_entries();
}

Ready RawNode::ready() {
  Ready ready;
  RaftLog& log = raft_->mutable_log();
  const SoftState soft = soft_state();
  if (soft != previous_soft_state_) ready.soft_state = soft;
  const HardState hard = raft_->hard_state();
  if (hard != previous_hard_state_) ready.hard_state = hard;
  ready.entries = log.unstable_entries();
  if (log.unstable_snapshot()) ready.snapshot = *log.unstable_snapshot();
  ready.committed_entries =
      log.next_committed_entries(raft_->config().max_committed_bytes_per_ready);
  ready.messages = raft_->take_messages();
  ready.read_states = raft_->take_read_states();
  ready.must_sync =
      !ready.entries.empty() || (ready.hard_state && (hard.term != previous_hard_state_.term ||
                                                      hard.vote != previous_hard_state_.vote));

  handed_ = Handed{.outstanding = true};
  if (!ready.entries.empty()) {
    handed_.last_entry_index = ready.entries.back().index;
    handed_.last_entry_term = ready.entries.back().term;
  }
  handed_.snapshot_index = ready.snapshot.metadata.index;
  if (!ready.committed_entries.empty()) {
    handed_.last_committed_index = ready.committed_entries.back().index;
    for (const Entry& entry : ready.committed_entries) {
      handed_.committed_payload_bytes += payload_bytes(entry);
    }
  }
  previous_soft_state_ = soft;
  previous_hard_state_ = hard;
  return ready;
}

void RawNode::advance() {
  ASSERT(handed_.outstanding, "advance() without a preceding ready()");
  RaftLog& log = raft_->mutable_log();
  if (handed_.last_entry_index != LogIndex(0)) {
    log.stable_to(handed_.last_entry_index, handed_.last_entry_term);
    raft_->persisted_to(handed_.last_entry_index, handed_.last_entry_term);
  }
  if (handed_.snapshot_index != LogIndex(0)) {
    log.stable_snapshot_to(handed_.snapshot_index);
    raft_->applied_to(handed_.snapshot_index, 0);
  }
  if (handed_.last_committed_index != LogIndex(0)) {
    raft_->applied_to(handed_.last_committed_index, handed_.committed_payload_bytes);
  }
  handed_ = Handed{};
}

RaftStatus RawNode::status() const {
  return RaftStatus{.id = raft_->id(),
                    .hard_state = raft_->hard_state(),
                    .soft_state = soft_state(),
                    .applied = raft_->log().applied(),
                    .last_index = raft_->log().last_index(),
                    .membership = raft_->membership(),
                    .progress = raft_->progress(),
                    .transferee = raft_->transferee()};
}

}  // namespace lockstep::raft
