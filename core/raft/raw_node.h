#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/raft/raft.h"

namespace lockstep::raft {

// Volatile state worth reporting when it changes (who leads, in which role).
struct SoftState {
  NodeId leader{};
  RoleKind role = RoleKind::kFollower;
  bool operator==(const SoftState&) const = default;
};

// Everything a node must do after a batch of inputs, in this order (etcd's Ready contract):
//   1. persist `hard_state`, `entries` and `snapshot` (sync if `must_sync`);
//   2. only then send `messages` (a vote or an acknowledgement must survive a crash),
//      except those for which may_send_before_persist() holds: they may leave first;
//   3. apply `snapshot`, then `committed_entries`, and serve `read_states` once applied
//      reaches their index;
//   4. call advance().
struct Ready {
  std::optional<SoftState> soft_state{};  // set when changed since the last Ready
  std::optional<HardState> hard_state{};  // set when changed since the last Ready
  std::vector<ReadState> read_states{};
  std::vector<Entry> entries;  // to append to stable storage (may overwrite a suffix)
  Snapshot snapshot;           // to persist and apply when !snapshot.empty()
  std::vector<Entry> committed_entries{};
  std::vector<Message> messages{};
  bool must_sync = false;  // term, vote or entries changed: an fsync is required

  bool empty() const;
};

// True for a leader's replication messages (appends, heartbeats, snapshots). Thesis §10.2.1:
// the leader may send them in parallel with its own disk write, because it counts its own
// copy towards the quorum only once that write is done (RawNode::advance), and they carry
// nothing of the Ready that a crash could revoke (the leader's term was made durable when it
// campaigned). Everything else, votes and acknowledgements above all, waits for the fsync.
bool may_send_before_persist(const Message& message);

// A summary for status commands and tests.
struct RaftStatus {
  NodeId id{};
  HardState hard_state{};
  SoftState soft_state{};
  LogIndex applied{};
  LogIndex last_index{};
  Membership membership{};
  std::map<NodeId, Progress> progress{};  // leader only
  NodeId transferee{};
};

// The application's handle on a Raft node (etcd's RawNode): inputs go in through the
// methods below, outputs come out as Ready values. Single-threaded and clock-free.
class RawNode {
 public:
  static Result<std::unique_ptr<RawNode>> create(RaftConfig config);

  // One logical clock tick (the caller decides how long a tick is).
  void tick() { raft_->tick(); }
  // Starts an election now, as if the election timeout had elapsed.
  void campaign() { raft_->campaign(); }
  // Proposes `data` for the log. Fails with kNoLeader / kProposalDropped when it cannot be
  // accepted now (no leader known, transfer under way, too much uncommitted data, forwarding
  // disabled); success means only "accepted for replication", not committed.
  Status propose(std::string data);
  Status propose_conf_change(const ConfChange& change);
  // A message from a peer. Messages not addressed to this node are refused.
  Status step(Message message);
  // A linearizable read (thesis §6.4): a ReadState with this context appears in a later
  // Ready; serve the read once the applied index reaches its index. `context` must be
  // unique among pending reads.
  Status read_index(std::string context);
  // Asks the leader to hand over to `transferee` (thesis §3.10).
  Status transfer_leadership(NodeId transferee);
  void report_unreachable(NodeId peer) { raft_->report_unreachable(peer); }
  void report_snapshot(NodeId peer, SnapshotStatus status) { raft_->report_snapshot(peer, status); }
  // Applies a committed kConfChange entry (the application calls this as it applies it).
  Result<ConfState> apply_conf_change(const ConfChange& change) {
    return raft_->apply_conf_change(change);
  }

  bool has_ready() const;
  Ready ready();
  // Acknowledges the last Ready: its entries and snapshot are stable and its committed
  // entries applied.
  void advance();

  RaftStatus status() const;
  const Raft& raft() const { return *raft_; }
  Raft& mutable_raft() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  SoftState soft_state() const;

  std::unique_ptr<Raft> raft_;
  SoftState previous_soft_state_;
  HardState previous_hard_state_;
  // What the outstanding Ready carried, applied by advance().
  struct Handed {
    bool outstanding = false;
    LogIndex last_entry_index{};
    Term last_entry_term{};
    LogIndex snapshot_index{};
    LogIndex last_committed_index{};
    uint64_t committed_payload_bytes = 0;
  };
  Handed handed_;
};

}  // namespace lockstep::raft
