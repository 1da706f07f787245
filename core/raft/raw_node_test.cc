#include "core/raft/raw_node.h"

#include <gtest/gtest.h>

#include "core/raft/bootstrap.h"

namespace lockstep::raft {
namespace {

RaftConfig config(uint64_t id, const MemoryStorage& storage) {
  RaftConfig result;
  result.id = NodeId(id);
  result.storage = &storage;
  result.random = Random(id);
  return result;
}

// Persists a Ready the way the contract says (entries, hard state) and returns it.
Ready persist(RawNode& node, MemoryStorage& storage) {
  Ready ready = node.ready();
  if (!ready.snapshot.empty()) {
    EXPECT_TRUE(storage.apply_snapshot(ready.snapshot).is_ok());
  }
  EXPECT_TRUE(storage.append(ready.entries).is_ok());
  if (ready.hard_state) storage.set_hard_state(*ready.hard_state);
  return ready;
}

TEST(RawNodeTest, InvalidConfigIsAClearError) {
  MemoryStorage storage;
  RaftConfig bad = config(1, storage);
  bad.read_only = ReadOnlyOption::kLeaseBased;
  Result<std::unique_ptr<RawNode>> node = RawNode::create(bad);
  ASSERT_FALSE(node.is_ok());
  EXPECT_EQ(node.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(node.error().detail().find("check_quorum"), std::string::npos);
  bad = config(0, storage);
  EXPECT_FALSE(RawNode::create(bad).is_ok());
  bad = config(1, storage);
  bad.election_timeout_ticks = 1;
  EXPECT_FALSE(RawNode::create(bad).is_ok());
}

TEST(RawNodeTest, PersistedCommitBeyondTheLogIsCorruption) {
  MemoryStorage storage;
  storage.set_hard_state(HardState{.term = Term(2), .commit = LogIndex(5)});
  Result<std::unique_ptr<RawNode>> node = RawNode::create(config(1, storage));
  ASSERT_FALSE(node.is_ok());
  EXPECT_EQ(node.code(), ErrorCode::kDataCorruption);
}

// A single-voter cluster: bootstrap, apply the membership, elect itself, commit proposals,
// then restart from storage and find the same state (thesis §3.8: persistent state is
// what a server recovers after a crash).
TEST(RawNodeTest, RestartsFromPersistedStateAndRedeliversUnappliedEntries) {
  MemoryStorage storage;
  ASSERT_TRUE(bootstrap(storage, ConfState{.voters = {NodeId(1)}}).is_ok());
  std::unique_ptr<RawNode> node = std::move(RawNode::create(config(1, storage)).value());
  ASSERT_TRUE(node->has_ready());
  Ready boot = persist(*node, storage);
  ASSERT_EQ(boot.committed_entries.size(), 1u);
  ASSERT_TRUE(
      node->apply_conf_change(ConfChange{.changes = {{ConfChangeType::kAddNode, NodeId(1)}}})
          .is_ok());
  node->advance();
  node->campaign();
  ASSERT_EQ(node->raft().role(), RoleKind::kLeader);
  ASSERT_TRUE(node->propose("a").is_ok());
  ASSERT_TRUE(node->propose("b").is_ok());
  Ready ready = persist(*node, storage);
  ASSERT_TRUE(ready.soft_state.has_value());
  EXPECT_EQ(ready.soft_state->role, RoleKind::kLeader);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, Term(2));
  EXPECT_EQ(ready.hard_state->vote, NodeId(1));
  ASSERT_EQ(ready.entries.size(), 3u);  // no-op, a, b
  EXPECT_TRUE(ready.must_sync);
  // A leader counts its own copy only once it is durable (thesis §10.2.1): the entries
  // commit when advance() reports them persisted, and come out in the next Ready.
  EXPECT_TRUE(ready.committed_entries.empty());
  node->advance();
  ready = persist(*node, storage);
  ASSERT_EQ(ready.committed_entries.size(), 3u);  // no-op, a, b
  // Crash before advance(): nothing was applied as far as the restarted node knows.
  node.reset();
  node = std::move(RawNode::create(config(1, storage)).value());
  EXPECT_EQ(node->raft().term(), Term(2));
  EXPECT_EQ(node->raft().vote(), NodeId(1));
  EXPECT_EQ(node->raft().role(), RoleKind::kFollower);
  Ready replay = node->ready();
  ASSERT_EQ(replay.committed_entries.size(), 4u) << "bootstrap entry, no-op, a, b";
  EXPECT_EQ(replay.committed_entries[2].data, "a");
  EXPECT_EQ(replay.committed_entries[3].data, "b");
}

TEST(RawNodeTest, RestartWithAppliedIndexSkipsAppliedEntries) {
  MemoryStorage storage;
  ASSERT_TRUE(bootstrap(storage, ConfState{.voters = {NodeId(1), NodeId(2), NodeId(3)}}).is_ok());
  RaftConfig restart = config(1, storage);
  restart.applied = LogIndex(2);
  std::unique_ptr<RawNode> node = std::move(RawNode::create(restart).value());
  Ready ready = node->ready();
  ASSERT_EQ(ready.committed_entries.size(), 1u);
  EXPECT_EQ(ready.committed_entries[0].index, LogIndex(3));
  restart.applied = LogIndex(4);
  EXPECT_FALSE(RawNode::create(restart).is_ok()) << "applied beyond commit";
}

TEST(RawNodeTest, RefusesMessagesNotAddressedToIt) {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node = std::move(RawNode::create(config(1, storage)).value());
  Status status =
      node->step(Message{.type = MessageType::kHeartbeat, .from = NodeId(2), .to = NodeId(3)});
  EXPECT_EQ(status.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(node->read_index("").code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace lockstep::raft
