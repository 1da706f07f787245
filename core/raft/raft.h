#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/raft/conf_change.h"
#include "core/raft/membership.h"
#include "core/raft/memory_storage.h"
#include "core/raft/message.h"
#include "core/raft/progress.h"
#include "core/raft/raft_log.h"
#include "core/raft/read_index_queue.h"

namespace lockstep::raft {

// Defaults follow etcd's server configuration where it has one.
inline constexpr int kDefaultElectionTimeoutTicks = 10;
inline constexpr int kDefaultHeartbeatIntervalTicks = 1;
inline constexpr uint64_t kDefaultMaxAppendBytes = 1024 * 1024;  // etcd maxSizePerMsg
inline constexpr size_t kDefaultMaxInflightMessages = 512;       // etcd maxInflightMsgs
inline constexpr uint64_t kDefaultMaxInflightBytes = 32 * 1024 * 1024;
inline constexpr uint64_t kDefaultMaxUncommittedBytes = 1024 * 1024 * 1024;  // etcd: 1 GiB
inline constexpr uint64_t kDefaultMaxCommittedBytesPerReady = 64 * 1024 * 1024;

// How ReadIndex confirms leadership (thesis §6.4 vs §6.4.1).
enum class ReadOnlyOption : uint8_t {
  // A heartbeat round acknowledged by a quorum after the request arrived.
  kSafe,
  // Trust the leader lease that CheckQuorum maintains: no round trip, but correctness then
  // depends on bounded clock drift between nodes (thesis §6.4.1), so it requires check_quorum.
  kLeaseBased,
};

struct RaftConfig {
  NodeId id{};
  // The stable log; the caller owns it and must keep it alive while the node exists.
  const MemoryStorage* storage = nullptr;
  // The node's own deterministic randomness (election timeouts).
  Random random{0};
  int election_timeout_ticks = kDefaultElectionTimeoutTicks;
  int heartbeat_interval_ticks = kDefaultHeartbeatIntervalTicks;
  // The last index the application applied before a restart (0 = the snapshot index):
  // committed entries after it are handed out again.
  LogIndex applied{};
  uint64_t max_append_bytes = kDefaultMaxAppendBytes;
  size_t max_inflight_messages = kDefaultMaxInflightMessages;
  uint64_t max_inflight_bytes = kDefaultMaxInflightBytes;        // 0 = no byte limit
  uint64_t max_uncommitted_bytes = kDefaultMaxUncommittedBytes;  // 0 = no limit
  uint64_t max_committed_bytes_per_ready = kDefaultMaxCommittedBytesPerReady;
  bool pre_vote = false;      // thesis §9.6
  bool check_quorum = false;  // thesis §6.2
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  bool disable_proposal_forwarding = false;
  // A leader removed from (or demoted out of) the voters steps down once the change applies.
  bool step_down_on_removal = true;
};

Status validate(const RaftConfig& config);

enum class RoleKind : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view role_name(RoleKind role);

// Roles (in the style of ScyllaDB's fsm): state that only exists in one role lives in that
// role's struct, so it cannot be read or left stale in another. Changed only by become_*().
struct FollowerRole {};
struct PreCandidateRole {
  std::map<NodeId, bool> votes{};
};
struct CandidateRole {
  std::map<NodeId, bool> votes{};
};
struct LeaderRole {
  std::map<NodeId, Progress> progress{};
  ReadIndexQueue reads{};
  // ReadIndex requests that arrived before an entry of this term committed (thesis §6.4
  // step 1: until then the leader does not know the commit index is current).
  std::vector<Message> reads_waiting_for_commit{};
  // Index of the last conf change proposed; no other may be proposed until it is applied.
  LogIndex pending_conf_index{};
  NodeId transferee;  // leadership transfer target (thesis §3.10), kNoNode if none
  uint64_t uncommitted_bytes = 0;
};
using Role = std::variant<FollowerRole, PreCandidateRole, CandidateRole, LeaderRole>;

struct ReadState {
  LogIndex index{};
  std::string context{};
  bool operator==(const ReadState&) const = default;
};

enum class SnapshotStatus : uint8_t { kFinished, kFailed };

// The Raft state machine itself. RawNode wraps it with the Ready/advance hand-off; tests may
// drive it directly.
class Raft {
 public:
  // Restores from config.storage (hard state, snapshot, entries). Fails on an invalid
  // config or on persisted state that contradicts itself.
  static Result<std::unique_ptr<Raft>> create(RaftConfig config);

  void tick();
  Status step(Message message);
  // Starts an election now (etcd's MsgHup), as if the election timeout had passed.
  void campaign() { start_election(false); }
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, SnapshotStatus status);
  // Applies a committed ConfChange entry; returns the new membership.
  Result<ConfState> apply_conf_change(const ConfChange& change);
  // Called by RawNode::advance once entries up to `index` are applied.
  void applied_to(LogIndex index, uint64_t applied_payload_bytes);
  // Called by RawNode::advance once the entry (`index`, `term`) and all before it are
  // durable: a leader counts its own copy towards the quorum only from then on.
  void persisted_to(LogIndex index, Term term);

  NodeId id() const { return config_.id; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return lead_; }
  RoleKind role() const { return static_cast<RoleKind>(role_.index()); }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const Membership& membership() const { return membership_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  const RaftConfig& config() const { return config_; }
  // The leader's view of its peers; empty when not leader.
  std::map<NodeId, Progress> progress() const;
  NodeId transferee() const;
  int randomized_election_timeout_ticks() const { return randomized_election_timeout_ticks_; }

  std::vector<Message> take_messages() { return std::exchange(messages_, {}); }
  bool has_messages() const { return !messages_.empty(); }
  std::vector<ReadState> take_read_states() { return std::exchange(read_states_, {}); }
  bool has_read_states() const { return !read_states_.empty(); }

 private:
  explicit Raft(RaftConfig config);

  // Role transitions (the only places role_ changes).
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  void reset_randomized_election_timeout();

  // Elections.
  void start_election(bool transfer);
  void campaign_for(bool pre_vote, bool transfer);
  void handle_vote_request(const Message& message);
  bool promotable() const;
  bool has_unapplied_conf_change() const;

  // Per-role message handling.
  Status step_follower(Message message);
  Status step_candidate(Message message);
  Status step_leader(Message message);
  void tick_election();
  void tick_heartbeat();

  // Follower side of replication.
  void handle_append(Message message);
  void handle_heartbeat(const Message& message);
  void handle_snapshot(Message message);
  bool restore(Snapshot snapshot);

  // Leader side of replication.
  LeaderRole& leader_role();
  Status propose_as_leader(Message message);
  // Leader append; `enforce_limit` is false for entries Raft itself must write.
  bool append_entries(std::vector<Entry>& entries, bool enforce_limit);
  // The commit rule (thesis §3.6.2); true if the commit index advanced.
  bool commit_by_counting_replicas();
  void on_commit_advanced();
  void broadcast_append();
  void send_append(NodeId to) { maybe_send_append(to, true); }
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool send_snapshot(NodeId to, Progress& progress);
  void broadcast_heartbeat(const std::string& context);
  void handle_append_response(const Message& message, Progress& progress);
  void handle_heartbeat_response(const Message& message, Progress& progress);
  bool quorum_active();

  // Reads and transfers.
  void read_index_as_leader(Message message);
  void answer_read(NodeId from, LogIndex index, std::string context);
  bool committed_entry_in_current_term() const;
  Status transfer_as_leader(const Message& message);
  void send_timeout_now(NodeId to);

  void switch_to(Membership membership);
  void send(Message message);

  RaftConfig config_;
  Term term_;
  NodeId vote_;
  NodeId lead_;
  Role role_;
  RaftLog log_;
  Membership membership_;
  int election_elapsed_ticks_ = 0;
  int heartbeat_elapsed_ticks_ = 0;
  int randomized_election_timeout_ticks_ = 0;
  std::vector<Message> messages_;
  std::vector<ReadState> read_states_;
};

}  // namespace lockstep::raft
