#include "core/raft/testing/raft_cluster.h"

#include "core/raft/bootstrap.h"
#include "core/raft/message_codec.h"

namespace lockstep::raft::testing {

std::string encode_state(const std::vector<std::string>& values) {
  std::string image;
  for (const std::string& value : values) {
    image += std::to_string(value.size()) + ":" + value;
  }
  return image;
}

std::vector<std::string> decode_state(const std::string& image) {
  std::vector<std::string> values;
  size_t position = 0;
  while (position < image.size()) {
    const size_t colon = image.find(':', position);
    ASSERT(colon != std::string::npos, "malformed state image");
    const size_t length = std::stoul(image.substr(position, colon - position));
    values.push_back(image.substr(colon + 1, length));
    position = colon + 1 + length;
  }
  return values;
}

RaftCluster::RaftCluster(ClusterOptions options, const std::vector<NodeId>& voters,
                         const std::vector<NodeId>& learners)
    : options_(options) {
  ConfState initial{.voters = voters, .learners = learners};
  std::vector<NodeId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  for (NodeId id : all) {
    TestMember& member = members_[id];
    member.id = id;
    const Status status = bootstrap(member.storage, initial);
    ASSERT(status.is_ok(), "bootstrap of empty storage succeeds");
    start(member);
  }
}

void RaftCluster::add_member(NodeId id) {
  ASSERT(!members_.contains(id), "member ids are unique");
  TestMember& member = members_[id];
  member.id = id;
  start(member);
}

std::vector<NodeId> RaftCluster::member_ids() const {
  std::vector<NodeId> ids;
  for (const auto& [id, member] : members_) ids.push_back(id);
  return ids;
}

TestMember& RaftCluster::member(NodeId id) {
  auto found = members_.find(id);
  ASSERT(found != members_.end(), "unknown member");
  return found->second;
}

RawNode& RaftCluster::node(NodeId id) {
  TestMember& found = member(id);
  ASSERT(found.node != nullptr, "the member is crashed");
  return *found.node;
}

bool RaftCluster::running(NodeId id) const {
  auto found = members_.find(id);
  return found != members_.end() && found->second.node != nullptr;
}

RaftConfig RaftCluster::config_for(NodeId id, LogIndex applied) const {
  const TestMember& found = members_.at(id);
  RaftConfig config;
  config.id = id;
  config.storage = &found.storage;
  config.random = Random(options_.seed)
                      .stream("raft-node-" + std::to_string(id.value()) + "-" +
                              std::to_string(found.incarnation));
  config.election_timeout_ticks = options_.election_timeout_ticks;
  config.heartbeat_interval_ticks = options_.heartbeat_interval_ticks;
  config.applied = applied;
  config.pre_vote = options_.pre_vote;
  config.check_quorum = options_.check_quorum;
  config.read_only = options_.read_only;
  config.disable_proposal_forwarding = options_.disable_proposal_forwarding;
  config.max_append_bytes = options_.max_append_bytes;
  config.max_inflight_messages = options_.max_inflight_messages;
  config.max_uncommitted_bytes = options_.max_uncommitted_bytes;
  return config;
}

void RaftCluster::start(TestMember& member) {
  // The state machine is volatile: rebuild it from the snapshot and re-apply the log.
  const Snapshot& snapshot = member.storage.snapshot();
  member.applied_values = decode_state(snapshot.data);
  member.applied_index = snapshot.metadata.index;
  member.read_states.clear();
  Result<std::unique_ptr<RawNode>> node = RawNode::create(config_for(member.id, LogIndex(0)));
  ASSERT(node.is_ok(), "a node restarts from what it persisted");
  member.node = std::move(node.value());
}

void RaftCluster::apply(TestMember& member, const Entry& entry) {
  ASSERT(entry.index == member.applied_index.next(), "entries are applied in order");
  if (entry.type == EntryType::kConfChange) {
    Result<ConfChange> change = decode_conf_change(entry.data);
    ASSERT(change.is_ok(), "committed conf changes decode");
    // An invalid change is refused identically by every member, so its error is ignored.
    (void)member.node->apply_conf_change(*change);
  } else if (!entry.data.empty()) {
    member.applied_values.push_back(entry.data);
  }
  note_violation(checker_.record_applied(member.id, entry));
  member.applied_index = entry.index;
}

void RaftCluster::persist(TestMember& member, const Ready& ready) {
  if (!ready.snapshot.empty()) {
    const Status status = member.storage.apply_snapshot(ready.snapshot);
    ASSERT(status.is_ok(), "a snapshot from Ready is newer than the stored one");
  }
  const Status appended = member.storage.append(ready.entries);
  ASSERT(appended.is_ok(), "Ready entries are contiguous with the stable log");
  if (ready.hard_state) member.storage.set_hard_state(*ready.hard_state);
}

void RaftCluster::after_input(NodeId id) {
  if (auto_process_) process_ready(id);
  check_invariants();
}

void RaftCluster::process_ready(NodeId id) {
  TestMember& found = member(id);
  if (found.node == nullptr || !found.node->has_ready()) return;
  Ready ready = found.node->ready();
  // 1. Persist. Everything below happens only after this "fsync".
  persist(found, ready);
  // 2. Send.
  for (Message& message : ready.messages) in_flight_.push_back(std::move(message));
  // 3. Apply.
  if (!ready.snapshot.empty()) {
    found.applied_values = decode_state(ready.snapshot.data);
    found.applied_index = ready.snapshot.metadata.index;
  }
  for (const Entry& entry : ready.committed_entries) apply(found, entry);
  found.read_states.insert(found.read_states.end(), ready.read_states.begin(),
                           ready.read_states.end());
  found.node->advance();
}

void RaftCluster::process_all_ready() {
  bool any = true;
  while (any) {
    any = false;
    for (auto& [id, found] : members_) {
      if (found.node != nullptr && found.node->has_ready()) {
        process_ready(id);
        any = true;
      }
    }
  }
}

void RaftCluster::tick(NodeId id) {
  node(id).tick();
  after_input(id);
}

void RaftCluster::campaign(NodeId id) {
  node(id).campaign();
  after_input(id);
}

Status RaftCluster::propose(NodeId id, std::string data) {
  Status status = node(id).propose(std::move(data));
  after_input(id);
  return status;
}

Status RaftCluster::propose_conf_change(NodeId id, const ConfChange& change) {
  Status status = node(id).propose_conf_change(change);
  after_input(id);
  return status;
}

Status RaftCluster::read_index(NodeId id, std::string context) {
  Status status = node(id).read_index(std::move(context));
  after_input(id);
  return status;
}

Status RaftCluster::transfer_leadership(NodeId id, NodeId transferee) {
  Status status = node(id).transfer_leadership(transferee);
  after_input(id);
  return status;
}

bool RaftCluster::connected(NodeId from, NodeId to) const {
  if (partition_group_.empty()) return true;
  auto a = partition_group_.find(from);
  auto b = partition_group_.find(to);
  const size_t group_a = a == partition_group_.end() ? SIZE_MAX : a->second;
  const size_t group_b = b == partition_group_.end() ? SIZE_MAX : b->second;
  return group_a == group_b;
}

std::string RaftCluster::deliver(size_t position) {
  ASSERT(position < in_flight_.size(), "no message at that position");
  Message message = std::move(in_flight_[position]);
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
  std::string text = describe(message);
  if (!connected(message.from, message.to) || !running(message.to)) return "dropped: " + text;
  const NodeId to = message.to;
  // Errors here are dropped forwarded requests; the sender learns nothing, as on a network.
  (void)node(to).step(std::move(message));
  after_input(to);
  return text;
}

void RaftCluster::duplicate(size_t position) {
  ASSERT(position < in_flight_.size(), "no message at that position");
  in_flight_.push_back(in_flight_[position]);
}

void RaftCluster::drop(size_t position) {
  ASSERT(position < in_flight_.size(), "no message at that position");
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
}

std::vector<std::string> RaftCluster::stabilize(size_t max_messages) {
  std::vector<std::string> delivered;
  process_all_ready();
  while (!in_flight_.empty() && delivered.size() < max_messages) {
    delivered.push_back(deliver(0));
    process_all_ready();
  }
  return delivered;
}

void RaftCluster::partition(const std::vector<std::set<NodeId>>& groups) {
  partition_group_.clear();
  for (size_t group = 0; group < groups.size(); ++group) {
    for (NodeId id : groups[group]) partition_group_[id] = group;
  }
}

void RaftCluster::heal() {
  partition_group_.clear();
}

void RaftCluster::crash(NodeId id) {
  TestMember& found = member(id);
  // Whatever the node did since its last processed Ready (unsynced) is lost with it.
  found.node.reset();
  check_invariants();
}

void RaftCluster::crash_after_persist(NodeId id) {
  TestMember& found = member(id);
  if (found.node != nullptr && found.node->has_ready()) persist(found, found.node->ready());
  crash(id);
}

void RaftCluster::restart(NodeId id) {
  TestMember& found = member(id);
  ASSERT(found.node == nullptr, "restart of a running member");
  ++found.incarnation;
  start(found);
  after_input(id);
}

Status RaftCluster::compact(NodeId id) {
  TestMember& found = member(id);
  ASSERT(found.node != nullptr, "compact needs a running member");
  const LogIndex index = found.applied_index;
  if (index <= found.storage.snapshot().metadata.index) return Status::ok();
  Result<Snapshot> snapshot = found.storage.create_snapshot(
      index, found.node->raft().membership().to_conf_state(), encode_state(found.applied_values));
  RETURN_IF_ERROR(snapshot.status());
  return found.storage.compact(index);
}

std::optional<NodeId> RaftCluster::leader() const {
  std::optional<NodeId> best;
  Term best_term;
  for (const auto& [id, found] : members_) {
    if (found.node == nullptr || found.node->raft().role() != RoleKind::kLeader) continue;
    if (!best || found.node->raft().term() > best_term) {
      best = id;
      best_term = found.node->raft().term();
    }
  }
  return best;
}

void RaftCluster::note_violation(std::optional<std::string> violation) {
  if (violation && !violation_) violation_ = std::move(violation);
}

std::optional<std::string> RaftCluster::check_invariants() {
  std::vector<NodeObservation> observations;
  for (const auto& [id, found] : members_) {
    NodeObservation observation;
    observation.id = id;
    observation.incarnation = found.incarnation;
    observation.persisted = found.storage.hard_state();
    observation.running = found.node != nullptr;
    if (observation.running) {
      const Raft& raft = found.node->raft();
      observation.role = raft.role();
      observation.term = raft.term();
      observation.commit = raft.log().committed();
      observation.log = &raft.log();
    }
    observations.push_back(observation);
  }
  note_violation(checker_.check(observations));
  return violation_;
}

std::string RaftCluster::describe_member(NodeId id) const {
  const TestMember& found = members_.at(id);
  std::string text = std::to_string(id.value()) + ": ";
  if (found.node == nullptr) return text + "crashed";
  const RaftStatus status = found.node->status();
  text += std::string(role_name(status.soft_state.role)) +
          " term=" + std::to_string(status.hard_state.term.value()) +
          " vote=" + std::to_string(status.hard_state.vote.value()) +
          " lead=" + std::to_string(status.soft_state.leader.value()) +
          " commit=" + std::to_string(status.hard_state.commit.value()) +
          " applied=" + std::to_string(status.applied.value()) +
          " last=" + std::to_string(status.last_index.value()) + " " +
          status.membership.to_string();
  if (status.transferee != kNoNode) {
    text += " transferring-to=" + std::to_string(status.transferee.value());
  }
  return text;
}

std::string RaftCluster::describe_log(NodeId id) const {
  const TestMember& found = members_.at(id);
  if (found.node == nullptr) return "crashed";
  const RaftLog& log = found.node->raft().log();
  std::string text;
  if (log.first_index() > LogIndex(1)) {
    text += "snapshot at " + std::to_string(log.first_index().previous().value()) + "\n";
  }
  for (LogIndex index = log.first_index(); index <= log.last_index(); index = index.next()) {
    text += describe(*log.entry(index)) + "\n";
  }
  text += "applied values: [";
  for (size_t i = 0; i < found.applied_values.size(); ++i) {
    if (i > 0) text += " ";
    text += found.applied_values[i];
  }
  return text + "]";
}

std::string RaftCluster::describe_progress(NodeId id) const {
  const TestMember& found = members_.at(id);
  if (found.node == nullptr) return "crashed";
  const std::map<NodeId, Progress> progress = found.node->raft().progress();
  if (progress.empty()) return "not leader";
  std::string text;
  for (const auto& [peer, state] : progress) {
    if (!text.empty()) text += "\n";
    text += std::to_string(peer.value()) + ": " + state.to_string();
  }
  return text;
}

}  // namespace lockstep::raft::testing
