#include "core/raft/raft.h"

#include <algorithm>
#include <string>

#include "core/base/known_bugs.h"
#include "core/raft/message_codec.h"

namespace lockstep::raft {

namespace {

// Makes room for `more` messages at once. A broadcast's messages would otherwise be moved
// into a vector that grows 1, 2, 4, ... (take_messages() hands the buffer away with every
// Ready, so it starts empty each time); growth stays geometric across repeated calls.
void reserve_more(std::vector<Message>& messages, size_t more) {
  const size_t needed = messages.size() + more;
  if (needed > messages.capacity()) messages.reserve(std::max(needed, 2 * messages.capacity()));
}

}  // namespace

std::string_view role_name(RoleKind role) {
  switch (role) {
    case RoleKind::kFollower:
      return "follower";
    case RoleKind::kPreCandidate:
      return "pre-candidate";
    case RoleKind::kCandidate:
      return "candidate";
    case RoleKind::kLeader:
      return "leader";
  }
  UNREACHABLE("unknown RoleKind");
}

Status validate(const RaftConfig& config) {
  if (config.id == kNoNode) return Status(ErrorCode::kInvalidInput, "raft: node id 0 is reserved");
  if (config.storage == nullptr)
    return Status(ErrorCode::kInvalidInput, "raft: storage is missing");
  if (config.heartbeat_interval_ticks <= 0) {
    return Status(ErrorCode::kInvalidInput, "raft: heartbeat interval must be positive");
  }
  if (config.election_timeout_ticks <= config.heartbeat_interval_ticks) {
    return Status(ErrorCode::kInvalidInput,
                  "raft: election timeout must be greater than the heartbeat interval");
  }
  if (config.max_inflight_messages == 0) {
    return Status(ErrorCode::kInvalidInput, "raft: max inflight messages must be positive");
  }
  if (config.read_only == ReadOnlyOption::kLeaseBased && !config.check_quorum) {
    return Status(
        ErrorCode::kInvalidInput,
        "raft: lease-based reads need check_quorum (the lease is what CheckQuorum keeps)");
  }
  return Status::ok();
}

Raft::Raft(RaftConfig config)
    : config_(std::move(config)),
      log_(config_.storage),
      membership_(Membership::from_conf_state(config_.storage->conf_state())) {}

Result<std::unique_ptr<Raft>> Raft::create(RaftConfig config) {
  RETURN_IF_ERROR(validate(config));
  std::unique_ptr<Raft> raft(new Raft(std::move(config)));
  const HardState& persisted = raft->config_.storage->hard_state();
  if (persisted.commit < raft->log_.committed() || persisted.commit > raft->log_.last_index()) {
    return Result<std::unique_ptr<Raft>>(
        ErrorCode::kDataCorruption,
        "raft: persisted commit " + std::to_string(persisted.commit.value()) +
            " is outside the log [" + std::to_string(raft->log_.committed().value()) + ", " +
            std::to_string(raft->log_.last_index().value()) + "]");
  }
  raft->log_.commit_to(persisted.commit);
  if (raft->config_.applied > raft->log_.committed()) {
    return Result<std::unique_ptr<Raft>>(ErrorCode::kInvalidInput,
                                         "raft: applied index is beyond the commit index");
  }
  raft->log_.applied_to(raft->config_.applied);
  raft->term_ = persisted.term;
  raft->vote_ = persisted.vote;
  raft->become_follower(persisted.term, kNoNode);
  return raft;
}

// ---------------------------------------------------------------------------------------
// Role transitions.

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;  // a vote is for one term only (Raft paper Figure 2)
  }
  lead_ = kNoNode;
  election_elapsed_ticks_ = 0;
  heartbeat_elapsed_ticks_ = 0;
  reset_randomized_election_timeout();
}

void Raft::reset_randomized_election_timeout() {
  // Raft paper §5.2: randomized timeouts in [T, 2T) make split votes rare.
  const int timeout = config_.election_timeout_ticks;
  randomized_election_timeout_ticks_ =
      timeout + static_cast<int>(config_.random.below(static_cast<uint64_t>(timeout)));
}

void Raft::become_follower(Term term, NodeId leader) {
  reset(term);
  role_ = FollowerRole{};
  lead_ = leader;
}

void Raft::become_pre_candidate() {
  ASSERT(role() != RoleKind::kLeader, "a leader does not become a pre-candidate");
  // Thesis §9.6: a pre-vote changes neither the term nor the vote, so a partitioned node
  // that keeps pre-campaigning cannot disrupt the cluster when it returns.
  role_ = PreCandidateRole{};
  lead_ = kNoNode;
}

void Raft::become_candidate() {
  ASSERT(role() != RoleKind::kLeader, "a leader does not become a candidate");
  reset(term_.next());
  vote_ = config_.id;
  role_ = CandidateRole{};
}

void Raft::become_leader() {
  ASSERT(role() == RoleKind::kCandidate, "only a candidate that won becomes leader");
  reset(term_);
  lead_ = config_.id;
  LeaderRole leader;
  const LogIndex last = log_.last_index();
  for (NodeId member : membership_.members()) {
    const bool learner = !membership_.is_voter(member);
    Progress progress(LogIndex(0), last.next(), config_.max_inflight_messages,
                      config_.max_inflight_bytes, learner);
    if (member == config_.id) {
      // Only what is on our disk counts (see persisted_to): entries handed out in a Ready
      // that is not yet advanced join once it is.
      progress.maybe_update(log_.last_stable_index());
      progress.become_replicate();
      progress.set_recent_active(true);
    }
    leader.progress.emplace(member, std::move(progress));
  }
  // Conf changes still in the log may be uncommitted or unapplied; allow no new one until
  // everything up to here is applied (etcd does the same; see thesis §4.1 on the bug when a
  // new leader changes membership before committing an entry of its term).
  leader.pending_conf_index = last;
  role_ = std::move(leader);
  // Thesis §6.4 / §3.6.2: a no-op entry of the new term lets the leader learn which
  // entries are committed, and lets earlier-term entries commit with it.
  std::vector<Entry> no_op(1);
  const bool appended = append_entries(no_op, false);
  ASSERT(appended, "Raft's own entries bypass the uncommitted limit");
}

// ---------------------------------------------------------------------------------------
// Ticks.

void Raft::tick() {
  if (role() == RoleKind::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_ticks_;
  if (promotable() && election_elapsed_ticks_ >= randomized_election_timeout_ticks_) {
    election_elapsed_ticks_ = 0;
    start_election(false);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_ticks_;
  ++election_elapsed_ticks_;
  if (election_elapsed_ticks_ >= config_.election_timeout_ticks) {
    election_elapsed_ticks_ = 0;
    // Thesis §6.2: a leader that has not heard from a quorum within an election timeout
    // steps down, so clients can find the real leader (and leases stay sound).
    if (config_.check_quorum && !quorum_active()) {
      become_follower(term_, kNoNode);
      return;
    }
    // Thesis §3.10: a transfer that does not finish within an election timeout is aborted
    // so the leader can accept proposals again.
    leader_role().transferee = kNoNode;
  }
  if (heartbeat_elapsed_ticks_ >= config_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ticks_ = 0;
    // Re-send the latest pending read context so a lost acknowledgement is retried.
    broadcast_heartbeat(leader_role().reads.last_context());
  }
}

bool Raft::quorum_active() {
  LeaderRole& leader = leader_role();
  std::map<NodeId, bool> active;
  for (auto& [peer, progress] : leader.progress) {
    if (peer == config_.id) {
      active[peer] = true;
      continue;
    }
    if (progress.is_learner()) continue;
    active[peer] = progress.recent_active();
    progress.set_recent_active(false);
  }
  return vote_result(membership_, active) == VoteResult::kWon;
}

// ---------------------------------------------------------------------------------------
// Elections.

bool Raft::promotable() const {
  return membership_.is_voter(config_.id) && !log_.unstable_snapshot().has_value();
}

bool Raft::has_unapplied_conf_change() const {
  for (LogIndex index = std::max(log_.applied().next(), log_.first_index());
       index <= log_.committed(); index = index.next()) {
    const Entry* entry = log_.entry(index);
    if (entry != nullptr && entry->type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::start_election(bool transfer) {
  if (role() == RoleKind::kLeader || !promotable()) return;
  // A node must not campaign with a membership it has not applied yet: its notion of
  // who votes could be out of date (etcd refuses for the same reason).
  if (has_unapplied_conf_change()) return;
  campaign_for(config_.pre_vote && !transfer, transfer);
}

void Raft::campaign_for(bool pre_vote, bool transfer) {
  Term election_term;
  std::map<NodeId, bool>* votes = nullptr;
  if (pre_vote) {
    become_pre_candidate();
    election_term = term_.next();
    votes = &std::get<PreCandidateRole>(role_).votes;
  } else {
    become_candidate();
    election_term = term_;
    votes = &std::get<CandidateRole>(role_).votes;
  }
  (*votes)[config_.id] = true;  // vote for self (persisted in the hard state before sending)
  if (vote_result(membership_, *votes) == VoteResult::kWon) {
    // A single-voter group wins at once.
    if (pre_vote) {
      campaign_for(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId voter : membership_.voters()) {
    if (voter == config_.id) continue;
    send(Message{.type = pre_vote ? MessageType::kPreVote : MessageType::kVote,
                 .to = voter,
                 .term = election_term,
                 .log_term = log_.last_term(),
                 .index = log_.last_index(),
                 .context = transfer ? std::string(kCampaignTransferContext) : std::string()});
  }
}

void Raft::handle_vote_request(const Message& message) {
  const bool pre_vote = message.type == MessageType::kPreVote;
  const MessageType response =
      pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  // Raft paper Figure 2 RequestVote: grant if we have not voted for someone else in this
  // term (a repeated request from the same candidate is granted again) and the candidate's
  // log is at least as up-to-date as ours (§5.4.1). A pre-vote for a future term is granted
  // on the log check alone: it changes nothing here.
  const bool can_vote = vote_ == message.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                        (pre_vote && message.term > term_);
  if (can_vote && log_.is_up_to_date(message.index, message.log_term)) {
    send(Message{.type = response, .to = message.from, .term = message.term});
    if (!pre_vote) {
      election_elapsed_ticks_ = 0;
      vote_ = message.from;
#ifdef LOCKSTEP_KNOWN_BUGS
      // KNOWN BUG vote-not-recorded: the grant is sent but never recorded, so it never
      // reaches the persisted hard state and this member may vote again in this term.
      if (known_bug_active(KnownBug::kVoteNotRecorded)) vote_ = kNoNode;
#endif
    }
  } else {
    send(Message{.type = response, .to = message.from, .term = term_, .reject = true});
  }
}

// ---------------------------------------------------------------------------------------
// Step: term rules shared by all roles, then the role's handler.

Status Raft::step(Message message) {
  if (message.term == Term(0)) {
    // Proposals and read requests carry no term: they are local or forwarded.
  } else if (message.term > term_) {
    const bool is_vote_request =
        message.type == MessageType::kVote || message.type == MessageType::kPreVote;
    if (is_vote_request) {
      // Thesis §4.2.3: while a node believes a leader is alive (it heard from it within
      // the minimum election timeout) it ignores vote requests, so a removed or partitioned
      // server cannot depose a healthy leader. A leadership transfer is exempt.
      const bool forced = message.context == kCampaignTransferContext;
      const bool in_lease = config_.check_quorum && lead_ != kNoNode &&
                            election_elapsed_ticks_ < config_.election_timeout_ticks;
      if (!forced && in_lease) return Status::ok();
    }
    const bool keeps_term = message.type == MessageType::kPreVote ||
                            (message.type == MessageType::kPreVoteResponse && !message.reject);
    if (!keeps_term) {
      const bool from_leader = message.type == MessageType::kAppend ||
                               message.type == MessageType::kHeartbeat ||
                               message.type == MessageType::kSnapshot;
      become_follower(message.term, from_leader ? message.from : kNoNode);
    }
  } else if (message.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (message.type == MessageType::kHeartbeat || message.type == MessageType::kAppend)) {
      // A stale leader (e.g. after a partition) would otherwise never learn the new term
      // from nodes that ignore its messages; an empty response carrying our term deposes it.
      send(Message{.type = MessageType::kAppendResponse, .to = message.from});
    } else if (message.type == MessageType::kPreVote) {
      send(Message{.type = MessageType::kPreVoteResponse,
                   .to = message.from,
                   .term = term_,
                   .reject = true});
    }
    return Status::ok();
  }

  if (message.type == MessageType::kVote || message.type == MessageType::kPreVote) {
    handle_vote_request(message);
    return Status::ok();
  }
  switch (role()) {
    case RoleKind::kFollower:
      return step_follower(std::move(message));
    case RoleKind::kPreCandidate:
    case RoleKind::kCandidate:
      return step_candidate(std::move(message));
    case RoleKind::kLeader:
      return step_leader(std::move(message));
  }
  UNREACHABLE("unknown role");
}

Status Raft::step_follower(Message message) {
  switch (message.type) {
    case MessageType::kPropose:
      if (lead_ == kNoNode) return Status(ErrorCode::kNoLeader, "no leader to forward to");
      if (config_.disable_proposal_forwarding) {
        return Status(ErrorCode::kProposalDropped, "not leader and forwarding is disabled");
      }
      message.to = lead_;
      send(std::move(message));
      return Status::ok();
    case MessageType::kAppend:
      election_elapsed_ticks_ = 0;
      lead_ = message.from;
      handle_append(std::move(message));
      return Status::ok();
    case MessageType::kHeartbeat:
      election_elapsed_ticks_ = 0;
      lead_ = message.from;
      handle_heartbeat(message);
      return Status::ok();
    case MessageType::kSnapshot:
      election_elapsed_ticks_ = 0;
      lead_ = message.from;
      handle_snapshot(std::move(message));
      return Status::ok();
    case MessageType::kTransferLeader:
    case MessageType::kReadIndex:
      if (lead_ == kNoNode) return Status(ErrorCode::kNoLeader, "no leader to forward to");
      message.to = lead_;
      send(std::move(message));
      return Status::ok();
    case MessageType::kTimeoutNow:
      // Thesis §3.10: the leader asks us to start an election at once, skipping pre-vote
      // and leases since the current leader itself wants to hand over.
      start_election(true);
      return Status::ok();
    case MessageType::kReadIndexResponse:
      read_states_.push_back(ReadState{message.index, std::move(message.context)});
      return Status::ok();
    default:
      return Status::ok();
  }
}

Status Raft::step_candidate(Message message) {
  const bool pre = role() == RoleKind::kPreCandidate;
  const MessageType my_response = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  switch (message.type) {
    case MessageType::kPropose:
      return Status(ErrorCode::kNoLeader, "election in progress");
    case MessageType::kReadIndex:
    case MessageType::kTransferLeader:
      return Status(ErrorCode::kNoLeader, "election in progress");
    case MessageType::kAppend:
      // Raft paper §5.2: a candidate that hears from a leader of its term steps down.
      become_follower(message.term, message.from);
      handle_append(std::move(message));
      return Status::ok();
    case MessageType::kHeartbeat:
      become_follower(message.term, message.from);
      handle_heartbeat(message);
      return Status::ok();
    case MessageType::kSnapshot:
      become_follower(message.term, message.from);
      handle_snapshot(std::move(message));
      return Status::ok();
    default:
      break;
  }
  if (message.type != my_response) return Status::ok();
  std::map<NodeId, bool>& votes =
      pre ? std::get<PreCandidateRole>(role_).votes : std::get<CandidateRole>(role_).votes;
  votes.emplace(message.from, !message.reject);  // the first answer of a voter counts
  switch (vote_result(membership_, votes)) {
    case VoteResult::kWon:
      if (pre) {
        campaign_for(false, false);
      } else {
        become_leader();
        broadcast_append();
      }
      break;
    case VoteResult::kLost:
      // The term was already adopted if a rejection carried a higher one.
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
  return Status::ok();
}

Status Raft::step_leader(Message message) {
  switch (message.type) {
    case MessageType::kPropose:
      return propose_as_leader(std::move(message));
    case MessageType::kReadIndex:
      read_index_as_leader(std::move(message));
      return Status::ok();
    case MessageType::kTransferLeader:
      return transfer_as_leader(message);
    default:
      break;
  }
  LeaderRole& leader = leader_role();
  auto found = leader.progress.find(message.from);
  if (found == leader.progress.end()) return Status::ok();  // not (or no longer) a member
  switch (message.type) {
    case MessageType::kAppendResponse:
      handle_append_response(message, found->second);
      break;
    case MessageType::kHeartbeatResponse:
      handle_heartbeat_response(message, found->second);
      break;
    default:
      break;
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Follower side of replication.

void Raft::handle_append(Message message) {
  if (message.index < log_.committed()) {
    // Everything up to our commit index is already known to match; say where we are.
    send(Message{
        .type = MessageType::kAppendResponse, .to = message.from, .index = log_.committed()});
    return;
  }
  const LogIndex previous = message.index;
  std::optional<LogIndex> last_new =
      log_.maybe_append(previous, message.log_term, message.commit, std::move(message.entries));
  if (last_new) {
    send(Message{.type = MessageType::kAppendResponse, .to = message.from, .index = *last_new});
    return;
  }
  // Consistency check failed (Raft paper §5.3). Instead of stepping back one entry per
  // round trip, hint the largest index whose term is <= the leader's term at `previous`
  // (etcd's fast backtracking; thesis §5.3 sketches the idea).
  auto [hint_index, hint_term] = log_.find_conflict_by_term(previous, message.log_term);
  send(Message{.type = MessageType::kAppendResponse,
               .to = message.from,
               .log_term = hint_term,
               .index = previous,
               .reject = true,
               .reject_hint = hint_index});
}

void Raft::handle_heartbeat(const Message& message) {
  // The leader sends min(our match, its commit), so this never exceeds our log.
  log_.commit_to(message.commit);
  send(Message{
      .type = MessageType::kHeartbeatResponse, .to = message.from, .context = message.context});
}

void Raft::handle_snapshot(Message message) {
  const LogIndex index = message.snapshot.metadata.index;
  if (restore(std::move(message.snapshot))) {
    send(Message{
        .type = MessageType::kAppendResponse, .to = message.from, .index = log_.last_index()});
  } else {
    (void)index;
    send(Message{
        .type = MessageType::kAppendResponse, .to = message.from, .index = log_.committed()});
  }
}

bool Raft::restore(Snapshot snapshot) {
  if (snapshot.metadata.index <= log_.committed()) return false;
  Membership incoming = Membership::from_conf_state(snapshot.metadata.conf_state);
  // A snapshot whose membership does not include us would leave us not knowing our own
  // role; ignore it (etcd does the same) and let the leader retry with a newer one.
  if (!incoming.is_member(config_.id)) return false;
  if (log_.match_term(snapshot.metadata.index, snapshot.metadata.term)) {
    // We already hold the entries: just learn that they are committed.
    log_.commit_to(snapshot.metadata.index);
    return false;
  }
  log_.restore(std::move(snapshot));
  membership_ = std::move(incoming);
  return true;
}

// ---------------------------------------------------------------------------------------
// Leader side of replication.

LeaderRole& Raft::leader_role() {
  ASSERT(role() == RoleKind::kLeader, "leader state used while not leader");
  return std::get<LeaderRole>(role_);
}

std::map<NodeId, Progress> Raft::progress() const {
  if (role() != RoleKind::kLeader) return {};
  return std::get<LeaderRole>(role_).progress;
}

NodeId Raft::transferee() const {
  if (role() != RoleKind::kLeader) return kNoNode;
  return std::get<LeaderRole>(role_).transferee;
}

Status Raft::propose_as_leader(Message message) {
  LeaderRole& leader = leader_role();
  if (!leader.progress.contains(config_.id)) {
    return Status(ErrorCode::kProposalDropped, "this node was removed from the configuration");
  }
  if (leader.transferee != kNoNode) {
    return Status(ErrorCode::kProposalDropped, "leadership transfer in progress");
  }
  if (message.entries.empty()) return Status(ErrorCode::kInvalidInput, "empty proposal");
  for (const Entry& entry : message.entries) {
    if (entry.type != EntryType::kConfChange) continue;
    Result<ConfChange> change = decode_conf_change(entry.data);
    if (!change) return change.status();
    // One membership change at a time (thesis §4.1 / §4.3): the next may only be proposed
    // once the previous one is applied, and a joint configuration must be left first.
    if (leader.pending_conf_index > log_.applied()) {
      return Status(ErrorCode::kProposalDropped, "a configuration change is still pending");
    }
    if (membership_.joint() && !change->leaves_joint()) {
      return Status(ErrorCode::kProposalDropped, "must leave the joint configuration first");
    }
    if (!membership_.joint() && change->leaves_joint()) {
      return Status(ErrorCode::kProposalDropped, "not in a joint configuration");
    }
  }
  const bool has_conf_change =
      std::any_of(message.entries.begin(), message.entries.end(),
                  [](const Entry& entry) { return entry.type == EntryType::kConfChange; });
  if (!append_entries(message.entries, true)) {
    return Status(ErrorCode::kProposalDropped, "too much uncommitted data");
  }
  if (has_conf_change) leader_role().pending_conf_index = log_.last_index();
  broadcast_append();
  return Status::ok();
}

bool Raft::append_entries(std::vector<Entry>& entries, bool enforce_limit) {
  LeaderRole& leader = leader_role();
  uint64_t bytes = 0;
  for (const Entry& entry : entries) bytes += payload_bytes(entry);
  // etcd's MaxUncommittedEntriesSize: bound the tail a leader accumulates while it cannot
  // commit, but always admit a proposal when the tail is empty so progress is possible.
  if (enforce_limit && config_.max_uncommitted_bytes != 0 && leader.uncommitted_bytes > 0 &&
      leader.uncommitted_bytes + bytes > config_.max_uncommitted_bytes) {
    return false;
  }
  LogIndex index = log_.last_index();
  for (Entry& entry : entries) {
    index = index.next();
    entry.term = term_;
    entry.index = index;
  }
  log_.append(std::move(entries));
  entries.clear();
  leader.uncommitted_bytes += bytes;
  // The leader's own copy counts towards the quorum only once it is durable: persisted_to()
  // records it after the Ready carrying these entries is persisted. Meanwhile the appends
  // to the followers may already be on their way (thesis §10.2.1), so a commit always means
  // a quorum of fsynced copies, the leader's included only after its own fsync.
  return true;
}

void Raft::persisted_to(LogIndex index, Term term) {
  if (role() != RoleKind::kLeader) return;
  // The entry may have been replaced after the Ready that carried it (as a follower, before
  // this node became leader again): then it is not the one persisted.
  if (!log_.match_term(index, term)) return;
  LeaderRole& leader = leader_role();
  auto self = leader.progress.find(config_.id);
  if (self == leader.progress.end() || !self->second.maybe_update(index)) return;
  if (commit_by_counting_replicas()) {
    on_commit_advanced();
    // The followers learn the new commit index at once, as on an acknowledgement.
    broadcast_append();
  }
}

bool Raft::commit_by_counting_replicas() {
  LeaderRole& leader = leader_role();
  const LogIndex majority_index = committed_index(membership_, [&](NodeId id) {
    auto found = leader.progress.find(id);
    return found == leader.progress.end() ? LogIndex(0) : found->second.match();
  });
  // Thesis §3.6.2 (Raft paper §5.4.2): only an entry of the current term is committed by
  // counting replicas; earlier entries become committed indirectly (Log Matching). Counting
  // replicas of an older-term entry is unsafe (paper Figure 8).
#ifdef LOCKSTEP_KNOWN_BUGS
  // KNOWN BUG commit-earlier-term: commits whatever a majority stores, whatever its term.
  if (known_bug_active(KnownBug::kCommitEarlierTermByCounting)) {
    std::optional<Term> majority_term = log_.term(majority_index);
    if (majority_term.has_value()) return log_.maybe_commit(majority_index, *majority_term);
  }
#endif
  return log_.maybe_commit(majority_index, term_);
}

void Raft::on_commit_advanced() {
  LeaderRole& leader = leader_role();
  if (leader.reads_waiting_for_commit.empty() || !committed_entry_in_current_term()) return;
  std::vector<Message> waiting = std::exchange(leader.reads_waiting_for_commit, {});
  for (Message& request : waiting) read_index_as_leader(std::move(request));
}

void Raft::broadcast_append() {
  reserve_more(messages_, leader_role().progress.size());
  for (auto& [peer, progress] : leader_role().progress) {
    if (peer != config_.id) send_append(peer);
  }
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& progress = leader_role().progress.at(to);
  if (progress.is_paused()) return false;
  const LogIndex previous = progress.next().previous();
  std::optional<Term> previous_term = log_.term(previous);
  std::optional<std::vector<Entry>> entries =
      log_.entries(progress.next(), log_.last_index().next(), config_.max_append_bytes);
  if (!previous_term || !entries) return send_snapshot(to, progress);
  if (entries->empty() && !send_if_empty) return false;
  if (!entries->empty()) {
    const LogIndex last = entries->back().index;
    uint64_t bytes = 0;
    for (const Entry& entry : *entries) bytes += payload_bytes(entry);
    switch (progress.state()) {
      case ProgressState::kReplicate:
        progress.optimistic_update(last);
        progress.inflights().add(last, bytes);
        break;
      case ProgressState::kProbe:
        progress.set_probe_sent(true);  // one probe at a time until it is answered
        break;
      case ProgressState::kSnapshot:
        UNREACHABLE("appends are paused while a snapshot is in flight");
    }
  }
  send(Message{.type = MessageType::kAppend,
               .to = to,
               .log_term = *previous_term,
               .index = previous,
               .entries = std::move(*entries),
               .commit = log_.committed()});
  return true;
}

bool Raft::send_snapshot(NodeId to, Progress& progress) {
  // Only to a follower known to be reachable: snapshots are expensive.
  if (!progress.recent_active()) return false;
  const Snapshot& snapshot = log_.snapshot();
  ASSERT(!snapshot.empty(), "entries were compacted, so a snapshot must exist");
  progress.become_snapshot(snapshot.metadata.index);
  send(Message{.type = MessageType::kSnapshot, .to = to, .snapshot = snapshot});
  return true;
}

void Raft::broadcast_heartbeat(const std::string& context) {
  reserve_more(messages_, leader_role().progress.size());
  for (auto& [peer, progress] : leader_role().progress) {
    if (peer == config_.id) continue;
    // Never tell a follower to commit beyond what it is known to hold.
    send(Message{.type = MessageType::kHeartbeat,
                 .to = peer,
                 .commit = std::min(progress.match(), log_.committed()),
                 .context = context});
  }
}

void Raft::handle_append_response(const Message& message, Progress& progress) {
  progress.set_recent_active(true);
  if (message.reject) {
    LogIndex next_probe = message.reject_hint;
    if (message.log_term > Term(0)) {
      next_probe = log_.find_conflict_by_term(message.reject_hint, message.log_term).first;
    }
    if (progress.maybe_decrease_to(message.index, next_probe)) {
      if (progress.state() == ProgressState::kReplicate) progress.become_probe();
      send_append(message.from);
    }
    return;
  }
  const bool was_paused = progress.is_paused();
  if (!progress.maybe_update(message.index)) return;  // stale acknowledgement
  switch (progress.state()) {
    case ProgressState::kProbe:
      progress.become_replicate();
      break;
    case ProgressState::kSnapshot:
      // The follower caught up past the compaction point: resume normal replication.
      if (progress.match().next() >= log_.first_index()) {
        progress.become_probe();
        progress.become_replicate();
      }
      break;
    case ProgressState::kReplicate:
      progress.inflights().free_up_to(message.index);
      break;
  }
  if (commit_by_counting_replicas()) {
    on_commit_advanced();
    broadcast_append();
  } else if (was_paused) {
    send_append(message.from);
  }
  if (role() != RoleKind::kLeader) return;
  while (maybe_send_append(message.from, false)) {
  }
  LeaderRole& leader = leader_role();
  if (message.from == leader.transferee && progress.match() == log_.last_index()) {
    send_timeout_now(message.from);
  }
}

void Raft::handle_heartbeat_response(const Message& message, Progress& progress) {
  progress.set_recent_active(true);
  progress.set_probe_sent(false);
  // A heartbeat answer frees one slot, so a follower whose acknowledgements were lost
  // does not stall with a full window forever.
  if (progress.state() == ProgressState::kReplicate && progress.inflights().full()) {
    progress.inflights().free_first();
  }
  if (progress.match() < log_.last_index()) send_append(message.from);
  if (config_.read_only != ReadOnlyOption::kSafe || message.context.empty()) return;
  LeaderRole& leader = leader_role();
  if (leader.reads.acknowledge(message.context, message.from, membership_) != VoteResult::kWon) {
    return;
  }
  for (ReadIndexRequest& request : leader.reads.release_through(message.context)) {
    answer_read(request.from, request.index, std::move(request.context));
  }
}

// ---------------------------------------------------------------------------------------
// ReadIndex (thesis §6.4) and leadership transfer (§3.10).

bool Raft::committed_entry_in_current_term() const {
  std::optional<Term> committed_term = log_.term(log_.committed());
  return committed_term.has_value() && *committed_term == term_;
}

void Raft::read_index_as_leader(Message message) {
  LeaderRole& leader = leader_role();
#ifdef LOCKSTEP_KNOWN_BUGS
  // KNOWN BUG read-without-read-index: answers from the local commit index at once, with
  // neither the current-term commit nor the heartbeat round that proves leadership.
  if (known_bug_active(KnownBug::kReadWithoutReadIndex)) {
    answer_read(message.from, log_.committed(), std::move(message.context));
    return;
  }
#endif
  const std::set<NodeId> voters = membership_.voters();
  if (voters.size() == 1 && voters.contains(config_.id)) {
    answer_read(message.from, log_.committed(), std::move(message.context));
    return;
  }
  // §6.4 step 1: the leader's commit index is only known to be current once an entry of
  // its own term has committed; hold the request until then.
  if (!committed_entry_in_current_term()) {
    leader.reads_waiting_for_commit.push_back(std::move(message));
    return;
  }
  if (config_.read_only == ReadOnlyOption::kLeaseBased) {
    answer_read(message.from, log_.committed(), std::move(message.context));
    return;
  }
  // §6.4 steps 2-3: record the read index, then confirm leadership with a heartbeat round.
  const std::string context = message.context;
  if (leader.reads.add(std::move(message.context), message.from, log_.committed(), config_.id)) {
    broadcast_heartbeat(context);
  }
}

void Raft::answer_read(NodeId from, LogIndex index, std::string context) {
  if (from == config_.id || from == kNoNode) {
    read_states_.push_back(ReadState{index, std::move(context)});
    return;
  }
  send(Message{.type = MessageType::kReadIndexResponse,
               .to = from,
               .index = index,
               .context = std::move(context)});
}

Status Raft::transfer_as_leader(const Message& message) {
  LeaderRole& leader = leader_role();
  const NodeId transferee = message.from;
  auto found = leader.progress.find(transferee);
  if (found == leader.progress.end() || found->second.is_learner()) {
    return Status(ErrorCode::kBadLeaderTransferee,
                  "node " + std::to_string(transferee.value()) + " is not a voter");
  }
  if (leader.transferee != kNoNode) {
    if (leader.transferee == transferee) return Status::ok();  // already under way
    leader.transferee = kNoNode;                               // abort the previous one
  }
  if (transferee == config_.id) return Status::ok();  // already leader
  // The transfer must finish within one election timeout (checked in tick_heartbeat).
  election_elapsed_ticks_ = 0;
  leader.transferee = transferee;
  if (found->second.match() == log_.last_index()) {
    send_timeout_now(transferee);
  } else {
    send_append(transferee);  // catch it up first (thesis §3.10 step 1)
  }
  return Status::ok();
}

void Raft::send_timeout_now(NodeId to) {
  send(Message{.type = MessageType::kTimeoutNow, .to = to});
}

void Raft::report_unreachable(NodeId peer) {
  if (role() != RoleKind::kLeader) return;
  auto found = leader_role().progress.find(peer);
  if (found == leader_role().progress.end()) return;
  // Optimistic replication to an unreachable peer only fills its window; probe instead.
  if (found->second.state() == ProgressState::kReplicate) found->second.become_probe();
}

void Raft::report_snapshot(NodeId peer, SnapshotStatus status) {
  if (role() != RoleKind::kLeader) return;
  auto found = leader_role().progress.find(peer);
  if (found == leader_role().progress.end()) return;
  Progress& progress = found->second;
  if (progress.state() != ProgressState::kSnapshot) return;
  if (status == SnapshotStatus::kFailed) {
    progress.become_snapshot(LogIndex(0));  // forget the pending index, then probe
  }
  progress.become_probe();
  // Wait for the follower's answer (finished) or the next heartbeat (failed) before
  // sending again, as etcd does.
  progress.set_probe_sent(true);
}

// ---------------------------------------------------------------------------------------
// Membership.

Result<ConfState> Raft::apply_conf_change(const ConfChange& change) {
  Result<Membership> next = raft::apply_conf_change(membership_, change);
  if (!next) return Result<ConfState>(next.error());
  switch_to(std::move(next.value()));
  return membership_.to_conf_state();
}

void Raft::switch_to(Membership membership) {
  membership_ = std::move(membership);
  if (role() != RoleKind::kLeader) return;
  LeaderRole& leader = leader_role();
  const std::set<NodeId> members = membership_.members();
  for (auto it = leader.progress.begin(); it != leader.progress.end();) {
    it = members.contains(it->first) ? std::next(it) : leader.progress.erase(it);
  }
  for (NodeId member : members) {
    auto found = leader.progress.find(member);
    const bool learner = !membership_.is_voter(member);
    if (found != leader.progress.end()) {
      found->second.set_learner(learner);
      continue;
    }
    Progress progress(LogIndex(0), log_.last_index().next(), config_.max_inflight_messages,
                      config_.max_inflight_bytes, learner);
    // A new member counts as active so CheckQuorum does not depose us before it answers.
    progress.set_recent_active(true);
    leader.progress.emplace(member, std::move(progress));
  }
  if (!membership_.is_voter(config_.id) && config_.step_down_on_removal) {
    // The change removing us is committed and applied: hand over (thesis §4.2.2).
    become_follower(term_, kNoNode);
    return;
  }
  if (leader.transferee != kNoNode && !membership_.is_voter(leader.transferee)) {
    leader.transferee = kNoNode;
  }
  // The quorum changed, so the commit index may advance.
  if (commit_by_counting_replicas()) {
    on_commit_advanced();
    broadcast_append();
  } else {
    for (auto& [peer, progress] : leader.progress) {
      if (peer != config_.id) maybe_send_append(peer, false);
    }
  }
}

void Raft::applied_to(LogIndex index, uint64_t applied_payload_bytes) {
  log_.applied_to(index);
  if (role() != RoleKind::kLeader) return;
  LeaderRole& leader = leader_role();
  leader.uncommitted_bytes -= std::min(leader.uncommitted_bytes, applied_payload_bytes);
  // etcd's auto-leave: once the joint configuration is applied, the leader proposes the
  // empty change that leaves it (thesis §4.3's second phase).
  if (membership_.auto_leave && membership_.joint() &&
      log_.applied() >= leader.pending_conf_index) {
    std::vector<Entry> leave(1);
    leave[0].type = EntryType::kConfChange;
    leave[0].data = encode_conf_change(ConfChange{});
    const bool appended = append_entries(leave, false);
    ASSERT(appended, "Raft's own entries bypass the uncommitted limit");
    leader_role().pending_conf_index = log_.last_index();
    broadcast_append();
  }
}

// ---------------------------------------------------------------------------------------

void Raft::send(Message message) {
  if (message.from == kNoNode) message.from = config_.id;
  switch (message.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      ASSERT(message.term != Term(0), "election messages carry their term explicitly");
      break;
    case MessageType::kPropose:
    case MessageType::kReadIndex:
      // Forwarded requests carry no term: they are valid in any term.
      message.term = Term(0);
      break;
    default:
      message.term = term_;
      break;
  }
  messages_.push_back(std::move(message));
}

}  // namespace lockstep::raft
