#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/env/event.h"
#include "core/env/runtime.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/state_machine.h"
#include "core/node/client_protocol.h"
#include "core/node/duplicate_filter.h"
#include "core/node/entry_payload.h"
#include "core/node/member_config.h"
#include "core/node/member_observer.h"
#include "core/node/monotonic_clock.h"
#include "core/node/raft_storage.h"
#include "core/raft/memory_storage.h"
#include "core/raft/raw_node.h"

namespace lockstep::node {

// One member of the store: Raft + the MVCC state machine + leases + watches + request
// handling, hosted on fibers of an env::Runtime (simulated or real) and persisting only
// through RaftStorage and mvcc::Backend.
//
// Fibers (DESIGN.md "Runtime"):
// - receive loop: decodes frames; steps Raft messages; starts client requests.
// - ticker: one logical Raft tick per tick_interval; the leader's lease duties; request
//   deadlines.
// - ready loop: the only fiber that touches storage. For each Ready, in etcd's order:
//   send the leader's appends (thesis §10.2.1) → on the leader, apply the committed entries
//   already durable here → persist (fsync) → send the rest → install snapshot → apply the
//   remaining committed entries → answer the proposals and reads that became answerable →
//   advance.
//
// Requests:
// - writes are proposed and answered after apply, with the term and revision in the header;
// - linearizable reads use ReadIndex (thesis §6.4) and are served once applied >= the read
//   index; at most one round is in flight, and the reads that arrive meanwhile share the
//   next one; serializable reads are served from local state at once;
// - every waiting request has a deadline (config.request_timeout) and a bounded queue
//   (config.max_pending_requests): it ends with an answer or a clear etcd error, never hangs.
class Member {
 public:
  Member(env::Runtime& runtime, MemberConfig config, RaftStorage& storage, mvcc::Backend& backend,
         MemberObserver* observer = nullptr);
  ~Member();
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  // Boots from the disk alone (or bootstraps a new cluster), starts the ticker and the ready
  // loop, and runs the receive loop on the calling fiber until the member stops: removed
  // from the cluster (ok) or a storage failure it must not survive (the error; etcd panics
  // there). Boot failures, e.g. kDataCorruption, are returned before anything is sent.
  Status run();

  // Read-only views for the process that hosts the member (status pages, tests).
  NodeId id() const { return config_.id; }
  StatusResponse status() const;
  bool is_leader() const;
  // The Raft term this member is in (0 before its Raft node exists): what status() reports
  // as header.raft_term, without status()'s backend queries (db size), for frequent samplers.
  Term term() const;
  // etcd's MoveLeader: asks Raft to hand leadership to `transferee` (thesis §3.10). Leader
  // only (kNotLeader otherwise); the transfer completes, or is abandoned after an election
  // timeout, asynchronously. Call from the member's runtime (the daemon's loop thread).
  Status transfer_leadership(NodeId transferee);
  LogIndex applied_index() const { return applied_; }
  // The cluster's alarms as this member applied them (replicated through the log).
  const AlarmSet& alarms() const { return alarms_; }
  Revision current_revision() const { return state_.current_revision(); }
  // etcd's LeaseLeases: every lease this member's state holds (served locally, as etcd's).
  std::vector<LeaseId> lease_ids() const { return state_.lessor().lease_ids(); }

 private:
  // An answer owed to a client.
  struct ReplyTo {
    NodeId client;
    uint64_t request_id = 0;
    Instant deadline;
  };
  enum class ProposalKind : uint8_t { kKv, kMembership };
  struct PendingProposal {
    ReplyTo reply;
    ProposalKind kind = ProposalKind::kKv;
  };
  struct PendingRead {
    ReplyTo reply;
    ClientRequestBody request;  // a RangeRequest, a lease keep-alive or a lease time-to-live
    LogIndex read_index;        // known once Raft confirmed leadership
    // read_rounds_issued_ when the read arrived: only a round numbered above it may serve it.
    uint64_t rounds_before_arrival = 0;
  };

  // Boot.
  Status boot();
  Status load_durable_state();
  Status create_raft_node();

  // Fibers.
  void receive_loop();
  void tick_loop();
  void ready_loop();
  void stop(Status reason);

  // Ready processing.
  Status handle_ready(raft::Ready& ready);
  Status persist(const raft::Ready& ready);
  void on_soft_state(const raft::SoftState& soft_state);
  enum class SendPhase : uint8_t { kBeforePersist, kAfterPersist };
  // Sends the messages that raft::may_send_before_persist() allows in `phase`; if any left,
  // yields once so that the host puts them on the wire before this fiber's next long step.
  void send_raft_messages(std::vector<raft::Message>& messages, SendPhase phase);
  // Moves out of `committed` the entries already durable in the stable log.
  std::vector<raft::Entry> take_durable_prefix(std::vector<raft::Entry>& committed,
                                               const std::vector<raft::Entry>& unstable);
  Status install_snapshot(const raft::Snapshot& snapshot);
  Status apply_entries(const std::vector<raft::Entry>& entries);
  Status apply_entry_run(const std::vector<raft::Entry>& entries);
  Status apply_normal(const raft::Entry& entry);
  Status apply_conf_change(const raft::Entry& entry);
  Status apply_alarm(const raft::Entry& entry);
  Status refuse_capped(const raft::Entry& entry, const ProposalTag& tag);
  void take_read_states(std::vector<raft::ReadState>& read_states);
  void serve_ready_reads();
  Status maybe_snapshot();

  // Client requests.
  void handle_client_request(NodeId client, ClientRequest request);
  bool admit_forwarded_proposal(const raft::Message& message);
  void propose(const ReplyTo& reply, mvcc::ApplyRequest request);
  void propose_membership(const ReplyTo& reply, const raft::ConfChange& change,
                          std::string attributes);
  void start_read(const ReplyTo& reply, ClientRequestBody request);
  // Issues one ReadIndex round for every waiting read, unless a round is in flight.
  void issue_read_index();
  void serve_read(const PendingRead& read);
  void keep_alive(const ReplyTo& reply, const mvcc::LeaseKeepAliveRequest& request);
  void time_to_live(const ReplyTo& reply, const mvcc::LeaseTimeToLiveRequest& request);
  // The lease answers, once a ReadIndex round confirmed this member still leads and it has
  // applied everything committed before the request arrived.
  void renew_confirmed(const ReplyTo& reply, const mvcc::LeaseKeepAliveRequest& request);
  void time_to_live_confirmed(const ReplyTo& reply, const mvcc::LeaseTimeToLiveRequest& request);
  void create_watch(const ReplyTo& reply, mvcc::WatchCreateRequest request);
  void cancel_watch(const ReplyTo& reply, const mvcc::WatchCancelRequest& request);
  void request_watch_progress(const ReplyTo& reply);
  void member_change(const ReplyTo& reply, const ClientRequestBody& request);
  void alarm(const ReplyTo& reply, const AlarmRequest& request);

  // Quota and alarms (etcd's quotaKVServer, alarm store and applierV3Capped).
  Status load_alarms();
  bool refuse_for_space(const ReplyTo& reply, const ClientRequestBody& request);
  void raise_nospace_alarm();
  Status check_member_change(const ClientRequestBody& request) const;
  MemberListResponse member_list() const;
  size_t pending_count() const;

  // Leader duties and deadlines (ticker).
  void leader_duties();
  // The time leases are measured by: monotonic, whatever steps the host clock takes (etcd's
  // lessor runs on Go's monotonic clock).
  Instant lease_now();
  void expire_requests();
  void drain_watches();
  // Periodic progress notifications (MemberConfig::watch_progress_notify_interval).
  void notify_idle_watches();
  void cancel_all_watches(std::string_view reason);

  // Answers.
  void reply_ok(const ReplyTo& reply, ClientResponseBody body);
  void reply_error(const ReplyTo& reply, ErrorCode code, std::string detail = {});
  void fill_header(mvcc::ResponseHeader& header) const;
  ProposalTag next_tag();

  env::Runtime& runtime_;
  MemberConfig config_;
  RaftStorage& storage_;
  MemberObserver* observer_;

  mvcc::Backend& backend_;
  mvcc::StateMachine state_;
  std::unique_ptr<raft::MemoryStorage> raft_log_;
  std::unique_ptr<raft::RawNode> raft_;
  raft::ConfState conf_state_;
  LogIndex applied_;
  LogIndex snapshot_index_;
  raft::SoftState soft_state_;
  // A commit index newer than the one on disk (persist() defers commit-only hard states).
  bool hard_state_unsaved_ = false;

  // Proposal and read ids carry a random per-incarnation prefix (see ProposalTag).
  uint64_t id_prefix_ = 0;
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, PendingProposal> proposals_;  // by proposal id
  std::deque<PendingRead> reads_waiting_;          // for a round's read index, by arrival
  // ReadIndex rounds in flight (see issue_read_index): read context -> round number, the
  // value of read_rounds_issued_ once it was issued.
  std::map<std::string, uint64_t> read_rounds_;
  uint64_t read_rounds_issued_ = 0;
  Instant latest_read_round_at_;
  std::deque<PendingRead> reads_confirmed_;  // waiting for apply
  // Watches of every client in the one hub, by hub watch id: the owning client.
  struct WatchOwner {
    NodeId client;
    uint64_t next_sequence = 1;
  };
  std::map<mvcc::WatchId, WatchOwner> watch_owners_;
  std::optional<Instant> next_watch_progress_at_;

  AlarmSet alarms_;
  // The backend's size, refreshed after each applied run of entries (reading it costs SQL).
  uint64_t backend_size_bytes_ = 0;
  std::optional<Instant> nospace_proposed_at_;
  // Copies of messages the network delivered twice (duplicate_filter.h): a client request is
  // admitted once per (client, request id), a forwarded proposal once per proposal tag, so
  // that no write reaches the log twice.
  DuplicateFilter client_requests_seen_;
  DuplicateFilter forwarded_proposals_seen_;

  env::Event ready_event_;
  env::Event stopped_event_;
  MonotonicClock lease_clock_;
  int running_fibers_ = 0;
  bool stopping_ = false;
  Status stop_reason_;
};

}  // namespace lockstep::node
