#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/raft/invariants.h"
#include "core/raft/raw_node.h"

namespace lockstep::raft::testing {

struct ClusterOptions {
  uint64_t seed = 1;
  int election_timeout_ticks = 10;
  int heartbeat_interval_ticks = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  bool disable_proposal_forwarding = false;
  uint64_t max_append_bytes = kDefaultMaxAppendBytes;
  size_t max_inflight_messages = kDefaultMaxInflightMessages;
  uint64_t max_uncommitted_bytes = kDefaultMaxUncommittedBytes;
};

// One member of a test cluster: its durable state (which survives crashes), the running
// RawNode (gone while crashed) and a trivial state machine (the list of applied values).
struct TestMember {
  NodeId id{};
  MemoryStorage storage{};  // only what a Ready handed out and the harness persisted
  std::unique_ptr<RawNode> node{};
  uint64_t incarnation = 0;
  std::vector<std::string> applied_values{};
  LogIndex applied_index{};
  std::vector<ReadState> read_states{};
};

// An in-memory network of Raft nodes for tests: messages sit in one queue until delivered
// (in any order, possibly dropped or duplicated), every Ready is processed with the
// persist-then-send discipline, and the invariant checker runs after every step.
class RaftCluster {
 public:
  // Founding members, bootstrapped with the same initial membership.
  RaftCluster(ClusterOptions options, const std::vector<NodeId>& voters,
              const std::vector<NodeId>& learners = {});

  // A new, empty member (it learns the membership from the leader once added).
  void add_member(NodeId id);
  bool has_member(NodeId id) const { return members_.contains(id); }
  std::vector<NodeId> member_ids() const;
  TestMember& member(NodeId id);
  RawNode& node(NodeId id);
  bool running(NodeId id) const;

  // Inputs (each processes the node's Ready afterwards unless stated).
  void tick(NodeId id);
  void campaign(NodeId id);
  Status propose(NodeId id, std::string data);
  Status propose_conf_change(NodeId id, const ConfChange& change);
  Status read_index(NodeId id, std::string context);
  Status transfer_leadership(NodeId id, NodeId transferee);

  // When false, inputs leave the node's Ready unprocessed until process_ready() is called,
  // so a crash in between loses it (as a real crash before the fsync would).
  void set_auto_process(bool enabled) { auto_process_ = enabled; }
  // Persist, send, apply, advance for one node, or for all until nothing is ready.
  void process_ready(NodeId id);
  void process_all_ready();

  // The network. Messages between different sides of a partition are dropped on delivery.
  const std::deque<Message>& in_flight() const { return in_flight_; }
  // Delivers the message at `position` (0 = oldest); returns a description, prefixed with
  // "dropped: " if the network or a crash swallowed it.
  std::string deliver(size_t position);
  void duplicate(size_t position);
  void drop(size_t position);
  // Delivers and processes until no message is in flight and nothing is ready; returns the
  // descriptions of every message delivered or dropped, in order.
  std::vector<std::string> stabilize(size_t max_messages = 100000);
  void partition(const std::vector<std::set<NodeId>>& groups);
  void heal();
  bool connected(NodeId from, NodeId to) const;

  void crash(NodeId id);
  // Crashes the member in the middle of its Ready: persisted, but nothing sent or applied.
  void crash_after_persist(NodeId id);
  void restart(NodeId id);
  // Snapshots the member's applied state and compacts its log up to the applied index.
  Status compact(NodeId id);

  // The leader with the highest term among running members, if any.
  std::optional<NodeId> leader() const;

  // Runs the invariant checker; returns the first violation seen so far (sticky).
  std::optional<std::string> check_invariants();
  const std::optional<std::string>& violation() const { return violation_; }
  // How many distinct log indexes the checker has seen committed.
  size_t committed_entries() const { return checker_.committed_entries(); }

  // Rendering for golden tests.
  std::string describe_member(NodeId id) const;
  std::string describe_log(NodeId id) const;
  std::string describe_progress(NodeId id) const;

 private:
  RaftConfig config_for(NodeId id, LogIndex applied) const;
  void start(TestMember& member);
  void apply(TestMember& member, const Entry& entry);
  void note_violation(std::optional<std::string> violation);
  void after_input(NodeId id);
  // Step 1 of the Ready contract: write to stable storage.
  void persist(TestMember& member, const Ready& ready);

  ClusterOptions options_;
  std::map<NodeId, TestMember> members_;
  std::deque<Message> in_flight_;
  std::map<NodeId, size_t> partition_group_;  // empty = fully connected
  InvariantChecker checker_;
  std::optional<std::string> violation_;
  bool auto_process_ = true;
};

// Encodes the applied values as a snapshot image and back ("<length>:<bytes>" each).
std::string encode_state(const std::vector<std::string>& values);
std::vector<std::string> decode_state(const std::string& image);

}  // namespace lockstep::raft::testing
