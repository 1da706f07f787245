#include "core/node/member.h"

#include <algorithm>

#include "core/base/known_bugs.h"
#include "core/mvcc/kv_applier.h"
#include "core/mvcc/request_validation.h"
#include "core/raft/message_codec.h"

namespace lockstep::node {
namespace {

// etcd promotes a learner only when it is "in sync": its match index within 10% of the
// leader's commit index (etcdserver isLearnerReady, readyPercent 0.9).
constexpr double kLearnerReadyFraction = 0.9;

// A ReadIndex round not answered within this many heartbeat intervals is taken as lost and
// issued again with its reads (a follower's forwarded request or the leader's answer dropped
// on the way; the leader itself re-sends its heartbeats each interval). etcd retries its read
// index request after 500 ms, five of its default heartbeat intervals (ReadIndexRetryTime);
// two keep a simulated read behind a lost message well inside its request timeout.
constexpr int kReadRoundRetryHeartbeats = 2;

// Lease ids chosen by the member: positive int64 with the member's id in the top bits (as
// etcd's idutil generator prefixes ids with the member id), the rest random.
LeaseId choose_lease_id(NodeId member, Random& random) {
  const uint64_t member_bits = (member.value() & 0x7fff) << 47;
  const uint64_t random_bits = random.next_u64() & ((uint64_t{1} << 47) - 1);
  return LeaseId(static_cast<int64_t>(member_bits | random_bits | 1));
}

template <typename Response>
ClientResponseBody to_body(Response response) {
  return ClientResponseBody(std::move(response));
}

ClientResponseBody apply_response_to_body(mvcc::ApplyResponse response) {
  return std::visit(
      [](auto&& typed) -> ClientResponseBody {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::LeaseCheckpointResponse>) {
          UNREACHABLE("checkpoints are proposed by the leader itself, never by a client");
        } else {
          return ClientResponseBody(std::move(typed));
        }
      },
      std::move(response));
}

// Requests that take backend space: the ones etcd checks against the quota and its capped
// applier refuses while NOSPACE is raised (read-only txns still pass).
bool takes_space(const ClientRequestBody& body) {
  if (const auto* txn = std::get_if<mvcc::TxnRequest>(&body)) {
    return !mvcc::KvApplier::is_read_only(*txn);
  }
  return std::holds_alternative<mvcc::PutRequest>(body) ||
         std::holds_alternative<mvcc::LeaseGrantRequest>(body);
}
bool takes_space(const mvcc::ApplyRequest& request) {
  if (const auto* txn = std::get_if<mvcc::TxnRequest>(&request)) {
    return !mvcc::KvApplier::is_read_only(*txn);
  }
  return std::holds_alternative<mvcc::PutRequest>(request) ||
         std::holds_alternative<mvcc::LeaseGrantRequest>(request);
}

// etcd's quota cost estimate (etcdserver/quota.go): the bytes a request adds, plus a fixed
// per-key overhead for the revision and index entries.
constexpr uint64_t kQuotaOverheadBytesPerKey = 256;
uint64_t ops_cost(const std::vector<mvcc::RequestOp>& ops);
uint64_t request_cost(const ClientRequestBody& body) {
  if (const auto* put = std::get_if<mvcc::PutRequest>(&body)) {
    return put->key.size() + put->value.size() + kQuotaOverheadBytesPerKey;
  }
  if (const auto* txn = std::get_if<mvcc::TxnRequest>(&body)) {
    return std::max(ops_cost(txn->success), ops_cost(txn->failure));
  }
  return kQuotaOverheadBytesPerKey;  // a lease grant's record
}
uint64_t ops_cost(const std::vector<mvcc::RequestOp>& ops) {
  uint64_t cost = 0;
  for (const mvcc::RequestOp& op : ops) {
    if (const auto* put = std::get_if<mvcc::PutRequest>(&op.request)) {
      cost += put->key.size() + put->value.size() + kQuotaOverheadBytesPerKey;
    }
  }
  return cost;
}

mvcc::LessorOptions lessor_options(const MemberConfig& config) {
  mvcc::LessorOptions options;
  // etcd's minimum TTL: ceil(1.5 x election timeout), in whole seconds.
  const int64_t election_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.election_timeout()).count();
  options.min_ttl_seconds = std::max<int64_t>(1, (election_ms * 3 / 2 + 999) / 1000);
  options.expired_lease_retry_interval = config.election_timeout() * 3;
  options.checkpoint_interval = config.lease_checkpoint_interval;
  return options;
}

}  // namespace

Member::Member(env::Runtime& runtime, MemberConfig config, RaftStorage& storage,
               mvcc::Backend& backend, MemberObserver* observer)
    : runtime_(runtime),
      config_(std::move(config)),
      storage_(storage),
      observer_(observer),
      backend_(backend),
      state_(backend, mvcc::StateMachineOptions{.max_txn_ops = config_.max_txn_ops,
                                                .lessor = lessor_options(config_)}),
      ready_event_(runtime),
      stopped_event_(runtime),
      // Sampled every tick, so a reading more than two ticks ahead is a stepped clock.
      lease_clock_(config_.tick_interval * 2) {}

Member::~Member() = default;

// ---------------------------------------------------------------------------------------
// Boot

Status Member::run() {
  RETURN_IF_ERROR(boot());
  runtime_.trace("member.boot", "applied=" + std::to_string(applied_.value()) +
                                    " revision=" + std::to_string(current_revision().value()));
  running_fibers_ = 2;
  runtime_.spawn("ticker", [this] { tick_loop(); });
  runtime_.spawn("ready", [this] { ready_loop(); });
  ready_event_.notify_one();
  receive_loop();
  // The other loops see stopping_ and end; wait so that none outlives this object.
  while (running_fibers_ > 0) {
    ready_event_.notify_all();
    stopped_event_.wait(runtime_.now() + config_.tick_interval);
  }
  return stop_reason_;
}

Status Member::boot() {
  id_prefix_ = runtime_.random().next_u64() << 24;
  RETURN_IF_ERROR(load_durable_state());
  return create_raft_node();
}

Status Member::load_durable_state() {
  Result<RaftDurableState> durable = storage_.load();
  if (!durable.is_ok()) return durable.error();
  raft_log_ = std::make_unique<raft::MemoryStorage>();
  const raft::Snapshot& snapshot = durable->snapshot;
  if (!snapshot.empty()) {
    RETURN_IF_ERROR(raft_log_->apply_snapshot(snapshot));
    conf_state_ = snapshot.metadata.conf_state;
  } else if (!config_.join_existing) {
    // The founding membership is configuration, identical on every boot, so it needs no
    // record on disk; the conf changes after it are replayed from the log.
    conf_state_.voters = config_.initial_voters;
    raft_log_->set_conf_state(conf_state_);
  }
  raft_log_->set_hard_state(durable->hard_state);
  if (!durable->entries.empty()) RETURN_IF_ERROR(raft_log_->append(durable->entries));
  snapshot_index_ = snapshot.metadata.index;
  applied_ = snapshot_index_;

  RETURN_IF_ERROR(state_.restore());
  // The backend may lag the snapshot when a crash hit between persisting an installed
  // snapshot and loading it into the backend: the snapshot is the newer truth.
  if (!snapshot.empty() && state_.applied_index() < snapshot.metadata.index) {
    RETURN_IF_ERROR(state_.install_snapshot(snapshot.data));
    if (observer_) observer_->on_snapshot_installed(config_.id, snapshot.metadata);
  }
  // The image is on disk; a follower that needs it gets it read back (send_raft_messages).
  raft_log_->release_snapshot_data();
  return load_alarms();
}

Status Member::create_raft_node() {
  raft::RaftConfig raft_config;
  raft_config.id = config_.id;
  raft_config.storage = raft_log_.get();
  raft_config.random = Random(runtime_.random().next_u64());
  raft_config.election_timeout_ticks = config_.election_timeout_ticks;
  raft_config.heartbeat_interval_ticks = config_.heartbeat_interval_ticks;
  raft_config.max_append_bytes = config_.max_append_bytes;
  // Committed entries after the snapshot are handed out again: conf changes must reach
  // Raft's membership again, while the MVCC part skips what the backend already holds.
  raft_config.applied = snapshot_index_;
  raft_config.pre_vote = config_.pre_vote;
  raft_config.check_quorum = config_.check_quorum;
  Result<std::unique_ptr<raft::RawNode>> node = raft::RawNode::create(std::move(raft_config));
  if (!node.is_ok()) return node.error();
  raft_ = std::move(*node);
  return Status::ok();
}

void Member::stop(Status reason) {
  if (stopping_) return;
  stopping_ = true;
  stop_reason_ = std::move(reason);
  runtime_.trace("member.stop", stop_reason_.to_string());
  ready_event_.notify_all();
}

// ---------------------------------------------------------------------------------------
// Fibers

void Member::receive_loop() {
  while (!stopping_) {
    std::optional<env::Message> message =
        runtime_.network().receive(runtime_.now() + config_.tick_interval);
    if (!message) continue;
    if (message->payload.size() > limits::kMaxMessageBytes) continue;
    Result<Frame> frame = decode_frame(message->payload);
    if (!frame.is_ok()) {
      PROBE(runtime_, "member.malformed_frame");
      runtime_.trace("member.malformed_frame", frame.error().to_string());
      continue;
    }
    if (auto* raft_frame = std::get_if<RaftFrame>(&*frame)) {
      Result<raft::Message> raft_message = raft::decode_message(raft_frame->message_bytes);
      if (!raft_message.is_ok() || raft_message->from != message->from) {
        PROBE(runtime_, "member.malformed_raft_message");
        continue;
      }
      if (!admit_forwarded_proposal(*raft_message)) {
        PROBE(runtime_, "member.duplicate_proposal_dropped");
        continue;
      }
      // A step error (a message for another node, a stale term) is Raft's to judge and
      // harmless to drop.
      (void)raft_->step(std::move(*raft_message));
      ready_event_.notify_one();
    } else if (auto* request = std::get_if<ClientRequest>(&*frame)) {
      // A second copy is dropped unanswered: the first copy is (or was) answered under the
      // same request id, and a client that already moved on may have retried under a new
      // one, so admitting the copy could apply the write twice.
      if (!client_requests_seen_.admit({message->from.value(), request->request_id})) {
        PROBE(runtime_, "member.duplicate_client_request_dropped");
        continue;
      }
      if (message->payload.size() > config_.max_request_bytes) {
        reply_error(ReplyTo{message->from, request->request_id, runtime_.now()},
                    ErrorCode::kRequestTooLarge);
        continue;
      }
      handle_client_request(message->from, std::move(*request));
      // A lone read starts its round at once; reads arriving while one is in flight wait
      // for the next (issue_read_index).
      issue_read_index();
      ready_event_.notify_one();
    }
    // Responses and watch messages are for clients; a member ignores them.
  }
}

void Member::tick_loop() {
  Instant next_tick = runtime_.now() + config_.tick_interval;
  while (!stopping_) {
    runtime_.sleep_until(next_tick);
    next_tick = next_tick + config_.tick_interval;
    if (stopping_) break;
    (void)lease_now();  // at least one sample per tick (see MonotonicClock)
    raft_->tick();
    leader_duties();
    expire_requests();
    issue_read_index();  // re-issues a round taken as lost
    notify_idle_watches();
    drain_watches();
    ready_event_.notify_one();
  }
  --running_fibers_;
  stopped_event_.notify_all();
}

void Member::ready_loop() {
  while (!stopping_) {
    if (!raft_->has_ready()) {
      ready_event_.wait();
      continue;
    }
    raft::Ready ready = raft_->ready();
    Status status = handle_ready(ready);
    if (!status.is_ok()) {
      stop(std::move(status));
      break;
    }
    raft_->advance();
    serve_ready_reads();
    // The reads that arrived while the round answered in this Ready was in flight.
    issue_read_index();
    drain_watches();
    status = maybe_snapshot();
    if (!status.is_ok()) {
      stop(std::move(status));
      break;
    }
  }
  --running_fibers_;
  stopped_event_.notify_all();
}

// ---------------------------------------------------------------------------------------
// Ready

Status Member::handle_ready(raft::Ready& ready) {
  if (ready.soft_state) on_soft_state(*ready.soft_state);
  // 1. A leader's appends and heartbeats leave before its own fsync (thesis §10.2.1): the
  //    followers write in parallel with it, and Raft counts the leader's copy only after
  //    advance(), so a commit still means a quorum of fsynced copies.
  send_raft_messages(ready.messages, SendPhase::kBeforePersist);
  // 2. On the leader, the clients wait for the apply while nobody waits for its fsync but
  //    itself: committed entries already durable here are applied (and answered) before the
  //    new entries are persisted, rather than after one more fsync.
  std::vector<raft::Entry> committed = std::move(ready.committed_entries);
  if (is_leader() && ready.snapshot.empty()) {
    RETURN_IF_ERROR(apply_entries(take_durable_prefix(committed, ready.entries)));
  }
  // 3. Persist before anything else that depends on it leaves this member (Raft §5: a vote
  //    or an acknowledgement must survive a crash); a follower does this first, since the
  //    leader waits for its acknowledgement.
  RETURN_IF_ERROR(persist(ready));
  // 4. Send the rest.
  send_raft_messages(ready.messages, SendPhase::kAfterPersist);
  // 5. Apply: a snapshot first, then the committed entries, then reads whose index is now
  //    applied.
  if (!ready.snapshot.empty()) {
    RETURN_IF_ERROR(install_snapshot(ready.snapshot));
    raft_log_->release_snapshot_data();  // persisted above; read back when sent on
  }
  RETURN_IF_ERROR(apply_entries(committed));
  take_read_states(ready.read_states);
  return Status::ok();
}

std::vector<raft::Entry> Member::take_durable_prefix(std::vector<raft::Entry>& committed,
                                                     const std::vector<raft::Entry>& unstable) {
  // Durable here: in the stable log and not about to be overwritten by `unstable`.
  LogIndex durable = raft_log_->last_index();
  if (!unstable.empty()) durable = std::min(durable, unstable.front().index.previous());
  auto end = std::find_if(committed.begin(), committed.end(),
                          [&](const raft::Entry& entry) { return entry.index > durable; });
  std::vector<raft::Entry> prefix(std::make_move_iterator(committed.begin()),
                                  std::make_move_iterator(end));
  committed.erase(committed.begin(), end);
  return prefix;
}

Status Member::persist(const raft::Ready& ready) {
  const bool has_state = ready.hard_state.has_value();
  if (!has_state && ready.entries.empty() && ready.snapshot.empty()) return Status::ok();
  if (!ready.must_sync && ready.entries.empty() && ready.snapshot.empty()) {
    // etcd's MustSync: a Ready that only moves the commit index costs no fsync. The commit
    // index is volatile state (Raft paper Figure 2) that a restarted member learns again; it
    // reaches the disk with the next save. Without this every commit cost one more fsync,
    // on followers before their next acknowledgement.
    raft_log_->set_hard_state(*ready.hard_state);
    hard_state_unsaved_ = true;
    return Status::ok();
  }
  const raft::HardState hard_state =
      has_state ? *ready.hard_state
                : (hard_state_unsaved_ ? raft_log_->hard_state() : raft::HardState{});
  RETURN_IF_ERROR(storage_.save(hard_state, ready.entries, ready.snapshot));
  hard_state_unsaved_ = false;
  if (!ready.snapshot.empty()) {
    RETURN_IF_ERROR(raft_log_->apply_snapshot(ready.snapshot));
  }
  if (!ready.entries.empty()) RETURN_IF_ERROR(raft_log_->append(ready.entries));
  if (has_state) raft_log_->set_hard_state(hard_state);
  if (observer_) {
    observer_->on_persisted(config_.id, raft_log_->hard_state(), raft_log_->last_index());
  }
  return Status::ok();
}

void Member::on_soft_state(const raft::SoftState& soft_state) {
  const raft::SoftState soft_state_before = soft_state_;
  const bool was_leader = soft_state_before.role == raft::RoleKind::kLeader;
  const bool is_leader_now = soft_state.role == raft::RoleKind::kLeader;
  soft_state_ = soft_state;
  if (is_leader_now && !was_leader) {
    // etcd lessor.Promote: the old leader's deadlines were lost with it, so every lease
    // gets its (remaining) TTL again, plus an election timeout of grace.
    state_.lessor().promote(lease_now(), config_.election_timeout());
    PROBE(runtime_, "member.became_leader");
  } else if (was_leader && !is_leader_now) {
    state_.lessor().demote();
  }
  // A leader that steps down drops its pending rounds, and a follower's request went to the
  // old leader: the round in flight will not be answered.
  if (soft_state.role != soft_state_before.role || soft_state.leader != soft_state_before.leader) {
    read_rounds_.clear();  // the waiting reads go into the next round
  }
  if (observer_) {
    observer_->on_role(config_.id, raft_->raft().term(), soft_state.role, soft_state.leader);
  }
  runtime_.trace("member.role", std::string(raft::role_name(soft_state.role)) +
                                    " term=" + std::to_string(raft_->raft().term().value()) +
                                    " leader=" + std::to_string(soft_state.leader.value()));
}

void Member::send_raft_messages(std::vector<raft::Message>& messages, SendPhase phase) {
  bool sent = false;
  for (raft::Message& message : messages) {
    if (raft::may_send_before_persist(message) != (phase == SendPhase::kBeforePersist)) {
      continue;
    }
    const NodeId to = message.to;
    const bool is_snapshot = message.type == raft::MessageType::kSnapshot;
    if (is_snapshot && message.snapshot.data.empty()) {
      // Raft's copy holds the metadata only (release_snapshot_data): read the image back.
      Result<raft::Snapshot> stored = storage_.load_snapshot(message.snapshot.metadata);
      if (!stored.is_ok()) {
        runtime_.trace("member.snapshot_unreadable", stored.error().to_string());
        raft_->report_snapshot(to, raft::SnapshotStatus::kFailed);
        continue;
      }
      message.snapshot.data = std::move(stored->data);
    }
    runtime_.network().send(to, encode_frame(RaftFrame{raft::encode_message(message)}));
    sent = true;
    // The network gives no delivery receipt; reporting the snapshot as sent lets the leader
    // probe the follower again, and a lost snapshot is simply sent once more.
    if (is_snapshot) raft_->report_snapshot(to, raft::SnapshotStatus::kFinished);
  }
  // What follows is long: the leader's apply of the durable prefix and its fsync, a
  // follower's apply of the committed entries. The daemon's network writes queued frames
  // when its loop polls, so without a turn here a follower would wait for those before it
  // could start its own fsync (appends) or count this one (acknowledgements): etcd hands
  // messages to its transport goroutines at once for the same reason. Other fibers may run
  // meanwhile, as they already do while this one is parked in persist().
  if (sent) runtime_.yield();
}

Status Member::install_snapshot(const raft::Snapshot& snapshot) {
  PROBE(runtime_, "member.install_snapshot");
  cancel_all_watches("snapshot installed; watch again from the last revision seen");
  RETURN_IF_ERROR(state_.install_snapshot(snapshot.data));
  RETURN_IF_ERROR(load_alarms());
  conf_state_ = snapshot.metadata.conf_state;
  applied_ = snapshot.metadata.index;
  snapshot_index_ = snapshot.metadata.index;
  if (observer_) observer_->on_snapshot_installed(config_.id, snapshot.metadata);
  runtime_.trace("member.snapshot_installed",
                 "index=" + std::to_string(snapshot.metadata.index.value()));
  return Status::ok();
}

Status Member::apply_entries(const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return Status::ok();
  state_.lessor().advance_clock(lease_now());
  // One backend transaction for the whole run of entries (group commit on the apply side;
  // the entries are already durable in the Raft log, so a lost group is replayed at boot).
  RETURN_IF_ERROR(backend_.begin_group());
  Status status = apply_entry_run(entries);
  Status ended = backend_.end_group();
  if (config_.quota_backend_bytes > 0) backend_size_bytes_ = backend_.size_bytes();
  return status.is_ok() ? ended : status;
}

Status Member::apply_entry_run(const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& entry : entries) {
    if (entry.index <= applied_) continue;  // covered by an installed snapshot
    ASSERT(entry.index == applied_.next(), "committed entries are applied without gaps");
    if (entry.type == raft::EntryType::kConfChange) {
      RETURN_IF_ERROR(apply_conf_change(entry));
    } else {
      RETURN_IF_ERROR(apply_normal(entry));
    }
    applied_ = entry.index;
    if (observer_) observer_->on_applied(config_.id, entry);
    if (stopping_) break;
  }
  return Status::ok();
}

Status Member::apply_normal(const raft::Entry& entry) {
  if (entry.data.empty()) {
    // The leader's no-op (thesis §6.4: it commits an entry of its own term) has no store
    // effect; the backend's consistent index simply skips it.
    return Status::ok();
  }
  if (is_alarm_entry(entry.data)) return apply_alarm(entry);
  Result<EntryPayload> payload = decode_entry_payload(entry.data);
  ASSERT(payload.is_ok(), "a committed entry does not decode: the log is corrupt");
  if (alarms_.has(AlarmType::kNoSpace) && takes_space(payload->request) &&
      entry.index > backend_.consistent_index()) {
    return refuse_capped(entry, payload->tag);
  }
  // After a restart, entries up to the backend's consistent index were applied already and
  // come back `skipped`.
  Result<mvcc::ApplyOutcome> outcome = state_.apply(entry.index, payload->request);
  // A backend that cannot commit would leave this member behind its own log: stop it, as
  // etcd panics on a failed backend commit.
  if (!outcome.is_ok()) return outcome.error();
  if (outcome->skipped) return Status::ok();
  Result<mvcc::ApplyResponse>& response = outcome->response;
  if (payload->tag.proposer != config_.id) return Status::ok();
  auto pending = proposals_.find(payload->tag.proposal_id);
  if (pending == proposals_.end()) return Status::ok();
  const ReplyTo reply = pending->second.reply;
  proposals_.erase(pending);
  if (!response.is_ok()) {
    reply_error(reply, response.code(), response.error().detail());
  } else {
    reply_ok(reply, apply_response_to_body(std::move(*response)));
  }
  return Status::ok();
}

// etcd's applierV3Capped: while any member has NOSPACE raised, an entry that takes space is
// refused at apply on every member alike (the alarm is log state), and only advances the index.
Status Member::refuse_capped(const raft::Entry& entry, const ProposalTag& tag) {
  PROBE(runtime_, "member.apply_refused_nospace");
  mvcc::WriteBatch batch;
  batch.consistent_index = entry.index;
  RETURN_IF_ERROR(backend_.commit(batch));
  if (tag.proposer != config_.id) return Status::ok();
  auto pending = proposals_.find(tag.proposal_id);
  if (pending == proposals_.end()) return Status::ok();
  const ReplyTo reply = pending->second.reply;
  proposals_.erase(pending);
  reply_error(reply, ErrorCode::kNoSpace);
  return Status::ok();
}

// An alarm change, applied like etcd's alarm store: the set lives in the backend's meta (in the
// same commit as the consistent index), so it survives restarts and travels in snapshots.
Status Member::apply_alarm(const raft::Entry& entry) {
  Result<AlarmEntry> alarm = decode_alarm_entry(entry.data);
  ASSERT(alarm.is_ok(), "a committed alarm entry does not decode: the log is corrupt");
  const AlarmMember target{alarm->request.member, alarm->request.alarm};
  bool changed = false;
  // Entries at or below the consistent index are replays whose effect the meta already holds.
  if (entry.index > backend_.consistent_index()) {
    changed = alarm->request.action == AlarmAction::kActivate ? alarms_.activate(target)
                                                              : alarms_.deactivate(target);
    mvcc::WriteBatch batch;
    batch.consistent_index = entry.index;
    if (changed) batch.meta_puts.emplace(std::string(kAlarmsMetaKey), alarms_.encode());
    RETURN_IF_ERROR(backend_.commit(batch));
    if (changed) {
      PROBE(runtime_, "member.alarm_changed");
      runtime_.trace(
          "member.alarm",
          std::string(alarm->request.action == AlarmAction::kActivate ? "activate" : "deactivate") +
              " member=" + std::to_string(target.member.value()) +
              " alarm=" + std::to_string(static_cast<int>(target.alarm)));
    }
  }
  if (alarm->tag.proposer != config_.id) return Status::ok();
  auto pending = proposals_.find(alarm->tag.proposal_id);
  if (pending == proposals_.end()) return Status::ok();
  const ReplyTo reply = pending->second.reply;
  proposals_.erase(pending);
  AlarmResponse response;
  response.header.revision = state_.current_revision();
  // etcd answers an activation with the alarm, a deactivation with the alarm it removed.
  if (alarm->request.action == AlarmAction::kActivate || changed) {
    response.alarms.push_back(target);
  }
  reply_ok(reply, std::move(response));
  return Status::ok();
}

Status Member::apply_conf_change(const raft::Entry& entry) {
  Result<raft::ConfChange> change = raft::decode_conf_change(entry.data);
  ASSERT(change.is_ok(), "a committed conf change does not decode: the log is corrupt");
  Result<raft::ConfState> applied = raft_->apply_conf_change(*change);
  if (applied.is_ok()) conf_state_ = *applied;
  runtime_.trace("member.conf_change",
                 applied.is_ok() ? "ok" : "rejected: " + applied.error().to_string());

  Result<ConfChangeContext> context = decode_conf_change_context(change->context);
  if (context.is_ok() && context->tag.proposer == config_.id) {
    auto pending = proposals_.find(context->tag.proposal_id);
    if (pending != proposals_.end()) {
      const ReplyTo reply = pending->second.reply;
      proposals_.erase(pending);
      if (applied.is_ok()) {
        reply_ok(reply, member_list());
      } else {
        reply_error(reply, applied.code(), applied.error().detail());
      }
    }
  }
  // etcd stops a member once its own removal is applied.
  const bool still_member =
      std::ranges::find(conf_state_.voters, config_.id) != conf_state_.voters.end() ||
      std::ranges::find(conf_state_.learners, config_.id) != conf_state_.learners.end() ||
      std::ranges::find(conf_state_.voters_outgoing, config_.id) !=
          conf_state_.voters_outgoing.end();
  if (applied.is_ok() && !still_member) stop(Status::ok());
  return Status::ok();
}

void Member::take_read_states(std::vector<raft::ReadState>& read_states) {
  for (raft::ReadState& read_state : read_states) {
    auto round = read_rounds_.find(read_state.context);
    if (round == read_rounds_.end()) continue;  // given up, or older than one answered
    const uint64_t number = round->second;
    // Linearizability: a round serves only the reads that arrived before it was issued (its
    // read index may predate a write acknowledged to a later reader; thesis §6.4 step 2).
    // Reads wait in arrival order, so they are a prefix.
    while (!reads_waiting_.empty() && reads_waiting_.front().rounds_before_arrival < number) {
      PendingRead read = std::move(reads_waiting_.front());
      reads_waiting_.pop_front();
      read.read_index = read_state.index;
      reads_confirmed_.push_back(std::move(read));
    }
    // Earlier rounds could only serve reads served now.
    std::erase_if(read_rounds_, [&](const auto& entry) { return entry.second <= number; });
  }
  serve_ready_reads();
}

void Member::serve_ready_reads() {
  // Thesis §6.4 step 4: serve once the state machine has applied up to the read index.
  // Compacted in place, keeping the waiting reads' order: this runs after every Ready, and
  // a fresh std::deque allocates even when it stays empty.
  auto kept = reads_confirmed_.begin();
  for (auto read = reads_confirmed_.begin(); read != reads_confirmed_.end(); ++read) {
    if (read->read_index <= applied_) {
      serve_read(*read);
    } else {
      if (kept != read) *kept = std::move(*read);
      ++kept;
    }
  }
  reads_confirmed_.erase(kept, reads_confirmed_.end());
}

Status Member::maybe_snapshot() {
  if (applied_.value() < snapshot_index_.value() + config_.snapshot_count) return Status::ok();
  // The image's consistent index may trail applied_ by entries with no store effect
  // (no-ops, conf changes); the snapshot's metadata index is the one Raft uses.
  Result<std::string> image = state_.snapshot();
  if (!image.is_ok()) return image.error();
  Result<raft::Snapshot> snapshot =
      raft_log_->create_snapshot(applied_, conf_state_, std::move(*image));
  if (!snapshot.is_ok()) return snapshot.error();
  // A snapshot must not be ahead of the commit index on disk (a restart would refuse an
  // applied index beyond it): an unsaved commit index goes with it.
  RETURN_IF_ERROR(storage_.save(hard_state_unsaved_ ? raft_log_->hard_state() : raft::HardState{},
                                {}, *snapshot));
  hard_state_unsaved_ = false;
  // The image (a dump of the whole store) now lives in the snapshot file; holding it in memory
  // until the next snapshot as well would double the member's footprint. It is read back only
  // when a lagging follower needs it (send_raft_messages).
  raft_log_->release_snapshot_data();
  snapshot_index_ = applied_;
  // Keep some entries so that a slightly lagging follower catches up from the log instead
  // of a whole snapshot (etcd SnapshotCatchUpEntries).
  if (applied_.value() > config_.snapshot_catch_up_entries) {
    const LogIndex compact_to(applied_.value() - config_.snapshot_catch_up_entries);
    if (compact_to >= raft_log_->first_index()) RETURN_IF_ERROR(raft_log_->compact(compact_to));
  }
  RETURN_IF_ERROR(storage_.release_through(snapshot_index_));
  PROBE(runtime_, "member.snapshot_created");
  runtime_.trace("member.snapshot_created", "index=" + std::to_string(applied_.value()));
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Client requests

size_t Member::pending_count() const {
  return proposals_.size() + reads_waiting_.size() + reads_confirmed_.size();
}

void Member::handle_client_request(NodeId client, ClientRequest request) {
  const ReplyTo reply{client, request.request_id, runtime_.now() + config_.request_timeout};
  if (stopping_) return reply_error(reply, ErrorCode::kStopped);
  // Requests that wait are bounded (etcd's maxPendingProposals / gRPC limits).
  if (pending_count() >= config_.max_pending_requests) {
    PROBE(runtime_, "member.too_many_requests");
    return reply_error(reply, ErrorCode::kTooManyRequests);
  }
  if (takes_space(request.body) && refuse_for_space(reply, request.body)) return;
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, mvcc::RangeRequest>) {
          Status valid = mvcc::validate_range(body);
          if (!valid.is_ok()) return reply_error(reply, valid.code());
          if (body.serializable) {
            return serve_read(PendingRead{reply, std::move(body), LogIndex{}});
          }
          start_read(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::TxnRequest>) {
          Status valid = mvcc::validate_txn(body, config_.max_txn_ops);
          if (!valid.is_ok()) return reply_error(reply, valid.code());
          // Read-only transactions are ordered through the log too (correct, if slower
          // than ReadIndex): the MVCC state machine evaluates txns only at apply.
          propose(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::PutRequest>) {
          Status valid = mvcc::validate_put(body);
          if (!valid.is_ok()) return reply_error(reply, valid.code());
          propose(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::DeleteRangeRequest>) {
          Status valid = mvcc::validate_delete_range(body);
          if (!valid.is_ok()) return reply_error(reply, valid.code());
          propose(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::CompactionRequest> ||
                             std::is_same_v<T, mvcc::LeaseRevokeRequest>) {
          propose(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::LeaseGrantRequest>) {
          if (body.ttl_seconds > limits::kMaxLeaseTtlSeconds) {
            return reply_error(reply, ErrorCode::kLeaseTtlTooLarge);
          }
          // etcd picks the id before proposing, so every member applies the same one.
          if (body.id == kNoLease) body.id = choose_lease_id(config_.id, runtime_.random());
          propose(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::LeaseKeepAliveRequest>) {
          keep_alive(reply, body);
        } else if constexpr (std::is_same_v<T, mvcc::LeaseTimeToLiveRequest>) {
          time_to_live(reply, body);
        } else if constexpr (std::is_same_v<T, mvcc::WatchCreateRequest>) {
          create_watch(reply, std::move(body));
        } else if constexpr (std::is_same_v<T, mvcc::WatchCancelRequest>) {
          cancel_watch(reply, body);
        } else if constexpr (std::is_same_v<T, mvcc::WatchProgressRequest>) {
          request_watch_progress(reply);
        } else if constexpr (std::is_same_v<T, MemberListRequest>) {
          reply_ok(reply, member_list());
        } else if constexpr (std::is_same_v<T, StatusRequest>) {
          reply_ok(reply, status());
        } else if constexpr (std::is_same_v<T, AlarmRequest>) {
          alarm(reply, body);
        } else {
          member_change(reply, ClientRequestBody(body));
        }
      },
      request.body);
}

bool Member::admit_forwarded_proposal(const raft::Message& message) {
  // Raft appends whatever a kPropose carries; etcd's TCP streams never deliver one twice,
  // this network may. The proposer's tag names the proposal, whoever forwards it.
  if (message.type != raft::MessageType::kPropose) return true;
  for (const raft::Entry& entry : message.entries) {
    ProposalTag tag;
    if (entry.type == raft::EntryType::kNormal) {
      Result<EntryPayload> payload = decode_entry_payload(entry.data);
      if (!payload.is_ok()) continue;
      tag = payload->tag;
    } else {
      Result<raft::ConfChange> change = raft::decode_conf_change(entry.data);
      if (!change.is_ok()) continue;
      Result<ProposalTag> context_tag = decode_proposal_tag(change->context);
      if (!context_tag.is_ok()) continue;
      tag = *context_tag;
    }
    // Tag 0 marks the leader's own proposals (lease revokes), which are never forwarded
    // for anyone waiting and are harmless to apply twice.
    if (tag.proposal_id == 0) continue;
    if (!forwarded_proposals_seen_.admit({tag.proposer.value(), tag.proposal_id})) return false;
  }
  return true;
}

void Member::propose(const ReplyTo& reply, mvcc::ApplyRequest request) {
  if (raft_->raft().leader() == kNoNode) return reply_error(reply, ErrorCode::kNoLeader);
  const ProposalTag tag = next_tag();
  Status proposed = raft_->propose(encode_entry_payload(EntryPayload{tag, std::move(request)}));
  if (!proposed.is_ok()) {
    // Raft refused (no leader, a transfer under way, too much uncommitted data): the entry
    // is not in any log, so this failure is definite and the client may retry.
    return reply_error(
        reply, proposed.code() == ErrorCode::kNoLeader ? ErrorCode::kNoLeader : proposed.code());
  }
  proposals_.emplace(tag.proposal_id, PendingProposal{reply, ProposalKind::kKv});
}

void Member::start_read(const ReplyTo& reply, ClientRequestBody request) {
  if (raft_->raft().leader() == kNoNode) return reply_error(reply, ErrorCode::kNoLeader);
  reads_waiting_.push_back(PendingRead{reply, std::move(request), LogIndex{}, read_rounds_issued_});
}

void Member::issue_read_index() {
  // Thesis §6.4: the leader can amortize the cost of confirming its leadership over many
  // reads. One round is in flight at a time (as etcd's linearizableReadLoop): the reads that
  // arrive meanwhile wait, and the next round, issued once it is answered, serves them all;
  // N concurrent reads cost two heartbeat broadcasts instead of N. A read is never served
  // by a round issued before it arrived (take_read_states).
  if (reads_waiting_.empty()) return;
  if (!read_rounds_.empty()) {
    // A round not answered for this long is taken as lost (a follower's forwarded request
    // or its answer dropped; the leader itself re-sends heartbeats each interval): one more
    // is issued for every waiting read. The late one still serves the reads it covers.
    const Duration retry_after =
        config_.tick_interval * (config_.heartbeat_interval_ticks * kReadRoundRetryHeartbeats);
    if (runtime_.now() - latest_read_round_at_ < retry_after) return;
    PROBE(runtime_, "member.read_round_retried");
  }
  const std::string context = "read/" + std::to_string(next_tag().proposal_id);
  Status status = raft_->read_index(context);
  if (!status.is_ok()) {
    for (const PendingRead& read : reads_waiting_) reply_error(read.reply, ErrorCode::kNoLeader);
    reads_waiting_.clear();
    read_rounds_.clear();
    return;
  }
  PROBE(runtime_, "member.read_round_issued");
  latest_read_round_at_ = runtime_.now();
  read_rounds_.emplace(context, ++read_rounds_issued_);
}

void Member::serve_read(const PendingRead& read) {
  if (const auto* range = std::get_if<mvcc::RangeRequest>(&read.request)) {
    Result<mvcc::RangeResponse> response = state_.range(*range);
    if (!response.is_ok()) return reply_error(read.reply, response.code());
    return reply_ok(read.reply, std::move(*response));
  }
  if (const auto* renew = std::get_if<mvcc::LeaseKeepAliveRequest>(&read.request)) {
    return renew_confirmed(read.reply, *renew);
  }
  if (const auto* ttl = std::get_if<mvcc::LeaseTimeToLiveRequest>(&read.request)) {
    return time_to_live_confirmed(read.reply, *ttl);
  }
  UNREACHABLE("only ranges and lease queries are served outside the log");
}

void Member::keep_alive(const ReplyTo& reply, const mvcc::LeaseKeepAliveRequest& request) {
  // Only the primary lessor (the leader's) knows deadlines (etcd forwards keep-alives to
  // the leader; here the client follows the hint).
  if (!is_leader()) return reply_error(reply, ErrorCode::kNotLeader);
  // A member that believes it leads may have been deposed while it was paused or cut off:
  // its lessor then lacks leases granted since, and its renewals do not reach the real
  // leader's. A new leader may also not have applied a grant the client saw acknowledged.
  // Either way "lease not found" or "renewed" would be a stale answer (the cluster property,
  // seed 99968: a leader paused 600 ms answered a keep-alive "not found" on waking). So a
  // keep-alive waits for a ReadIndex round, as a linearizable read does (thesis §6.4): the
  // leader is confirmed and has applied everything committed before the request arrived.
  start_read(reply, request);
}

void Member::renew_confirmed(const ReplyTo& reply, const mvcc::LeaseKeepAliveRequest& request) {
  if (!is_leader()) return reply_error(reply, ErrorCode::kNotLeader);
  Result<mvcc::Lessor::Renewal> renewal = state_.lessor().renew(request.id, lease_now());
  if (!renewal.is_ok()) return reply_error(reply, renewal.code());
  if (renewal->clear_checkpoint) {
    mvcc::LeaseCheckpointRequest clear;
    clear.checkpoints.push_back(mvcc::LeaseCheckpoint{request.id, 0});
    (void)raft_->propose(encode_entry_payload(EntryPayload{ProposalTag{config_.id, 0}, clear}));
  }
  mvcc::LeaseKeepAliveResponse response;
  response.id = request.id;
  response.ttl_seconds = renewal->ttl_seconds;
  response.header.revision = state_.current_revision();
  reply_ok(reply, std::move(response));
}

void Member::time_to_live(const ReplyTo& reply, const mvcc::LeaseTimeToLiveRequest& request) {
  if (!is_leader()) return reply_error(reply, ErrorCode::kNotLeader);
  start_read(reply, request);  // for the reasons keep_alive gives
}

void Member::time_to_live_confirmed(const ReplyTo& reply,
                                    const mvcc::LeaseTimeToLiveRequest& request) {
  if (!is_leader()) return reply_error(reply, ErrorCode::kNotLeader);
  Result<mvcc::LeaseTimeToLiveResponse> response =
      state_.lessor().time_to_live(request.id, request.keys, lease_now());
  if (!response.is_ok()) return reply_error(reply, response.code());
  response->header.revision = state_.current_revision();
  reply_ok(reply, std::move(*response));
}

void Member::create_watch(const ReplyTo& reply, mvcc::WatchCreateRequest request) {
  size_t owned = 0;
  for (const auto& [id, owner] : watch_owners_) owned += owner.client == reply.client ? 1 : 0;
  if (owned >= kMaxWatchesPerClient) return reply_error(reply, ErrorCode::kTooManyRequests);
  // Watch ids are the hub's: clients share one hub, so they may not choose ids.
  request.watch_id = mvcc::kAutoWatchId;
  mvcc::WatchResponse created = state_.watch_hub().create(request);
  fill_header(created.header);
  created.header.revision = state_.current_revision();
  if (!created.canceled) watch_owners_.emplace(created.watch_id, WatchOwner{reply.client, 1});
  reply_ok(reply, std::move(created));
  drain_watches();
}

void Member::cancel_watch(const ReplyTo& reply, const mvcc::WatchCancelRequest& request) {
  auto owner = watch_owners_.find(request.watch_id);
  if (owner == watch_owners_.end() || owner->second.client != reply.client) {
    return reply_error(reply, ErrorCode::kInvalidInput, "no such watch");
  }
  watch_owners_.erase(owner);
  std::optional<mvcc::WatchResponse> canceled = state_.watch_hub().cancel(request.watch_id);
  mvcc::WatchResponse response = canceled.value_or(mvcc::WatchResponse{});
  response.watch_id = request.watch_id;
  response.canceled = true;
  fill_header(response.header);
  response.header.revision = state_.current_revision();
  reply_ok(reply, std::move(response));
}

// etcd's WatchProgressRequest covers every watcher of the client's stream. Each of them gets
// its notification on its own stream, after the events queued before it, and a catching-up
// one only once it has caught up (WatchHub::request_progress), so that the revision is never
// a promise about events still on their way. The answer only acknowledges the request.
void Member::request_watch_progress(const ReplyTo& reply) {
  for (const auto& [id, owner] : watch_owners_) {
    if (owner.client == reply.client) (void)state_.watch_hub().request_progress(id);
  }
  mvcc::WatchResponse acknowledged;
  acknowledged.watch_id = mvcc::kInvalidWatchId;
  fill_header(acknowledged.header);
  reply_ok(reply, std::move(acknowledged));
  drain_watches();
}

void Member::notify_idle_watches() {
  const Instant now = runtime_.now();
  if (!next_watch_progress_at_) {
    next_watch_progress_at_ = now + config_.watch_progress_notify_interval;
  }
  if (now < *next_watch_progress_at_) return;
  next_watch_progress_at_ = now + config_.watch_progress_notify_interval;
  if (!watch_owners_.empty()) state_.watch_hub().notify_idle_progress();
}

void Member::drain_watches() {
  if (watch_owners_.empty()) return;
  Result<std::vector<mvcc::WatchResponse>> responses =
      state_.watch_hub().take_responses(kMaxWatchResponsesPerDrain);
  if (!responses.is_ok()) {
    runtime_.trace("member.watch_error", responses.error().to_string());
    return;
  }
  for (mvcc::WatchResponse& response : *responses) {
    auto owner = watch_owners_.find(response.watch_id);
    if (owner == watch_owners_.end()) continue;
    const NodeId client = owner->second.client;
    const uint64_t sequence = owner->second.next_sequence++;
    if (response.canceled) watch_owners_.erase(owner);
    fill_header(response.header);
    runtime_.network().send(client,
                            encode_frame(WatchStreamMessage{std::move(response), sequence}));
  }
}

void Member::cancel_all_watches(std::string_view reason) {
  for (const auto& [id, owner] : watch_owners_) {
    (void)state_.watch_hub().cancel(id);
    mvcc::WatchResponse response;
    response.watch_id = id;
    response.canceled = true;
    response.cancel_reason = std::string(reason);
    fill_header(response.header);
    runtime_.network().send(
        owner.client, encode_frame(WatchStreamMessage{std::move(response), owner.next_sequence}));
  }
  watch_owners_.clear();
}

Status Member::check_member_change(const ClientRequestBody& request) const {
  const raft::Membership membership = raft::Membership::from_conf_state(conf_state_);
  if (const auto* add = std::get_if<MemberAddRequest>(&request)) {
    if (add->id == kNoNode) return Status(ErrorCode::kMemberBadUrls, "member id 0");
    if (membership.is_member(add->id)) return Status(ErrorCode::kMemberExists);
    return Status::ok();
  }
  if (const auto* remove = std::get_if<MemberRemoveRequest>(&request)) {
    if (!membership.is_member(remove->id)) return Status(ErrorCode::kMemberNotFound);
    return Status::ok();
  }
  if (const auto* update = std::get_if<MemberUpdateRequest>(&request)) {
    if (!membership.is_member(update->id)) return Status(ErrorCode::kMemberNotFound);
    return Status::ok();
  }
  const auto& promote = std::get<MemberPromoteRequest>(request);
  if (!membership.is_member(promote.id)) return Status(ErrorCode::kMemberNotFound);
  if (!membership.learners.contains(promote.id)) return Status(ErrorCode::kMemberNotLearner);
  // Only the leader knows how far the learner got.
  if (!is_leader()) return Status(ErrorCode::kNotLeader);
  const std::map<NodeId, raft::Progress> progress = raft_->raft().progress();
  auto learner = progress.find(promote.id);
  const double commit = static_cast<double>(raft_->raft().log().committed().value());
  if (learner == progress.end() ||
      static_cast<double>(learner->second.match().value()) < commit * kLearnerReadyFraction) {
    return Status(ErrorCode::kLearnerNotReady);
  }
  return Status::ok();
}

void Member::member_change(const ReplyTo& reply, const ClientRequestBody& request) {
  Status allowed = check_member_change(request);
  if (!allowed.is_ok()) return reply_error(reply, allowed.code(), allowed.error().detail());
  raft::ConfChange change;
  raft::ConfChangeSingle single;
  std::string attributes;
  if (const auto* add = std::get_if<MemberAddRequest>(&request)) {
    single.type =
        add->is_learner ? raft::ConfChangeType::kAddLearnerNode : raft::ConfChangeType::kAddNode;
    single.node = add->id;
    attributes = add->attributes;
  } else if (const auto* remove = std::get_if<MemberRemoveRequest>(&request)) {
    single.type = raft::ConfChangeType::kRemoveNode;
    single.node = remove->id;
  } else if (const auto* update = std::get_if<MemberUpdateRequest>(&request)) {
    single.type = raft::ConfChangeType::kUpdateNode;
    single.node = update->id;
    attributes = update->attributes;
  } else {
    single.type = raft::ConfChangeType::kAddNode;  // promoting a learner adds it as a voter
    single.node = std::get<MemberPromoteRequest>(request).id;
  }
  change.changes.push_back(single);
  propose_membership(reply, change, std::move(attributes));
}

void Member::propose_membership(const ReplyTo& reply, const raft::ConfChange& change,
                                std::string attributes) {
  if (raft_->raft().leader() == kNoNode) return reply_error(reply, ErrorCode::kNoLeader);
  const ProposalTag tag = next_tag();
  raft::ConfChange tagged = change;
  tagged.context = encode_conf_change_context(ConfChangeContext{tag, std::move(attributes)});
  Status proposed = raft_->propose_conf_change(tagged);
  if (!proposed.is_ok()) return reply_error(reply, proposed.code());
  proposals_.emplace(tag.proposal_id, PendingProposal{reply, ProposalKind::kMembership});
}

// etcd's Maintenance.Alarm: a get answers from the applied alarms; an activation or a
// deactivation (etcd's `alarm disarm`) goes through the log like any write.
void Member::alarm(const ReplyTo& reply, const AlarmRequest& request) {
  if (request.action == AlarmAction::kGet) {
    AlarmResponse response;
    response.header.revision = state_.current_revision();
    response.alarms = alarms_.list(request.member, request.alarm);
    return reply_ok(reply, std::move(response));
  }
  if (request.alarm == AlarmType::kNone || request.member == kNoNode) {
    return reply_error(reply, ErrorCode::kInvalidInput,
                       "an alarm change names a member and a type");
  }
  if (raft_->raft().leader() == kNoNode) return reply_error(reply, ErrorCode::kNoLeader);
  const ProposalTag tag = next_tag();
  Status proposed = raft_->propose(encode_alarm_entry(AlarmEntry{tag, request}));
  if (!proposed.is_ok()) return reply_error(reply, proposed.code());
  proposals_.emplace(tag.proposal_id, PendingProposal{reply, ProposalKind::kKv});
}

Status Member::load_alarms() {
  Result<std::map<std::string, std::string>> meta = backend_.read_meta();
  if (!meta.is_ok()) return meta.error();
  alarms_ = AlarmSet();
  if (auto found = meta->find(std::string(kAlarmsMetaKey)); found != meta->end()) {
    Result<AlarmSet> decoded = AlarmSet::decode(found->second);
    if (!decoded.is_ok()) {
      return Status(ErrorCode::kDataCorruption,
                    "alarms in the backend: " + decoded.error().detail());
    }
    alarms_ = std::move(decoded).value();
  }
  backend_size_bytes_ = backend_.size_bytes();
  return Status::ok();
}

// etcd's quotaKVServer: a request that would take the backend past the quota raises NOSPACE
// and is refused with etcd's "database space exceeded"; while the alarm stands, every such
// request is refused (etcd refuses them at apply; refusing before proposing saves the entry).
bool Member::refuse_for_space(const ReplyTo& reply, const ClientRequestBody& request) {
  const uint64_t quota = config_.quota_backend_bytes;
  if (quota > 0 && backend_size_bytes_ + request_cost(request) >= quota) {
    raise_nospace_alarm();
    reply_error(reply, ErrorCode::kNoSpace);
    return true;
  }
  if (!alarms_.has(AlarmType::kNoSpace)) return false;
  reply_error(reply, ErrorCode::kNoSpace);
  return true;
}

void Member::raise_nospace_alarm() {
  if (!alarms_.list(config_.id, AlarmType::kNoSpace).empty()) return;
  // At most one proposal per request timeout: one lost with a leader is proposed again.
  const Instant now = runtime_.now();
  if (nospace_proposed_at_ && now < *nospace_proposed_at_ + config_.request_timeout) return;
  if (raft_->raft().leader() == kNoNode) return;
  nospace_proposed_at_ = now;
  PROBE(runtime_, "member.nospace_alarm_raised");
  const AlarmRequest raise{AlarmAction::kActivate, config_.id, AlarmType::kNoSpace};
  (void)raft_->propose(encode_alarm_entry(AlarmEntry{ProposalTag{config_.id, 0}, raise}));
}

MemberListResponse Member::member_list() const {
  MemberListResponse response;
  fill_header(response.header);
  response.header.revision = state_.current_revision();
  for (NodeId voter : conf_state_.voters) response.members.push_back(MemberInfo{voter, false});
  for (NodeId learner : conf_state_.learners) response.members.push_back(MemberInfo{learner, true});
  std::ranges::sort(response.members, {}, &MemberInfo::id);
  return response;
}

StatusResponse Member::status() const {
  StatusResponse response;
  fill_header(response.header);
  response.header.revision = state_.current_revision();
  response.leader = raft_ ? raft_->raft().leader() : kNoNode;
  response.raft_index = raft_log_ ? raft_log_->last_index() : LogIndex{};
  response.raft_applied_index = applied_;
  response.db_size_bytes = backend_.size_bytes();
  response.is_learner =
      std::ranges::find(conf_state_.learners, config_.id) != conf_state_.learners.end();
  return response;
}

Status Member::transfer_leadership(NodeId transferee) {
  if (stopping_) return Status(ErrorCode::kStopped);
  if (!is_leader()) return Status(ErrorCode::kNotLeader);
  RETURN_IF_ERROR(raft_->transfer_leadership(transferee));
  ready_event_.notify_one();
  return Status::ok();
}

bool Member::is_leader() const {
  return raft_ && raft_->raft().role() == raft::RoleKind::kLeader;
}

Term Member::term() const {
  return raft_ ? raft_->raft().term() : Term{};
}

// ---------------------------------------------------------------------------------------
// Ticker duties

void Member::leader_duties() {
  mvcc::Lessor& lessor = state_.lessor();
#ifdef LOCKSTEP_KNOWN_BUGS
  // KNOWN BUG lease-expiry-on-follower-clock: a follower arms lease deadlines on its own
  // clock (it never sees the keep-alives, which go to the leader) and proposes revokes.
  if (known_bug_active(KnownBug::kLeaseExpiryOnFollowerClock) && !is_leader()) {
    if (!lessor.is_primary()) lessor.promote(lease_now(), Duration::zero());
  } else if (!is_leader() || !lessor.is_primary()) {
    return;
  }
#else
  if (!is_leader() || !lessor.is_primary()) return;
#endif
  const Instant now = lease_now();
  // Expiry is decided here, on the leader's clock, and carried out through the log: a
  // revoke is an ordinary entry, so every member deletes the same keys at the same
  // revision (etcd's revokeExpiredLeases).
  for (LeaseId expired : lessor.take_expired(now, kMaxExpiredLeasesPerTick)) {
    PROBE(runtime_, "member.lease_expired");
    mvcc::LeaseRevokeRequest revoke;
    revoke.id = expired;
    (void)raft_->propose(encode_entry_payload(EntryPayload{ProposalTag{config_.id, 0}, revoke}));
  }
  std::vector<mvcc::LeaseCheckpoint> checkpoints =
      lessor.take_checkpoints(now, kMaxLeaseCheckpointsPerTick);
  if (!checkpoints.empty()) {
    mvcc::LeaseCheckpointRequest request;
    request.checkpoints = std::move(checkpoints);
    (void)raft_->propose(encode_entry_payload(EntryPayload{ProposalTag{config_.id, 0}, request}));
  }
}

Instant Member::lease_now() {
  return lease_clock_.sample(runtime_.now());
}

void Member::expire_requests() {
  const Instant now = runtime_.now();
  // A proposal that timed out may still commit later: the client must treat kTimeout on a
  // write as "outcome unknown" (etcd says the same of ErrTimeout).
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.reply.deadline <= now) {
      reply_error(it->second.reply, ErrorCode::kTimeout);
      it = proposals_.erase(it);
    } else {
      ++it;
    }
  }
  auto expire_reads = [&](auto& reads) {
    std::erase_if(reads, [&](const PendingRead& read) {
      if (read.reply.deadline > now) return false;
      reply_error(read.reply, ErrorCode::kTimeout);
      return true;
    });
  };
  expire_reads(reads_waiting_);
  expire_reads(reads_confirmed_);
  // Rounds with no read left to serve are not waited for (this bounds read_rounds_).
  if (reads_waiting_.empty()) read_rounds_.clear();
}

// ---------------------------------------------------------------------------------------
// Answers

void Member::fill_header(mvcc::ResponseHeader& header) const {
  header.cluster_id = config_.cluster_id;
  header.member_id = config_.id;
  header.raft_term = term();
}

void Member::reply_ok(const ReplyTo& reply, ClientResponseBody body) {
  std::visit([&](auto& typed) { fill_header(typed.header); }, body);
  ClientResponse response;
  response.request_id = reply.request_id;
  response.leader_hint = raft_ ? raft_->raft().leader() : kNoNode;
  response.body = std::move(body);
  runtime_.network().send(reply.client, encode_frame(response));
}

void Member::reply_error(const ReplyTo& reply, ErrorCode code, std::string detail) {
  ClientResponse response;
  response.request_id = reply.request_id;
  response.error = code;
  response.error_detail = std::move(detail);
  response.leader_hint = raft_ ? raft_->raft().leader() : kNoNode;
  runtime_.network().send(reply.client, encode_frame(response));
}

ProposalTag Member::next_tag() {
  return ProposalTag{config_.id, id_prefix_ | next_sequence_++};
}

}  // namespace lockstep::node
