// Tests that quote the rule of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", 2014) or the thesis (Ongaro 2014) they check, in the
// spirit of etcd's raft_paper_test.go. They drive Raft directly, message by message.
#include <gtest/gtest.h>

#include <deque>

#include "core/raft/raft.h"

namespace lockstep::raft {
namespace {

constexpr int kElection = 10;
constexpr int kHeartbeat = 1;

// A node built from a given log (terms of entries 1..n) and current term.
struct TestNode {
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<Raft> raft;
};

TestNode make_node(uint64_t id, std::vector<uint64_t> voters, std::vector<uint64_t> log_terms = {},
                   uint64_t term = 0, bool pre_vote = false) {
  TestNode node;
  ConfState conf;
  for (uint64_t voter : voters) conf.voters.emplace_back(voter);
  node.storage->set_conf_state(conf);
  std::vector<Entry> entries;
  for (size_t i = 0; i < log_terms.size(); ++i) {
    entries.push_back(Entry{.term = Term(log_terms[i]), .index = LogIndex(i + 1)});
  }
  EXPECT_TRUE(node.storage->append(entries).is_ok());
  node.storage->set_hard_state(HardState{.term = Term(term)});
  RaftConfig config;
  config.id = NodeId(id);
  config.storage = node.storage.get();
  config.random = Random(id);
  config.election_timeout_ticks = kElection;
  config.heartbeat_interval_ticks = kHeartbeat;
  config.pre_vote = pre_vote;
  Result<std::unique_ptr<Raft>> raft = Raft::create(config);
  EXPECT_TRUE(raft.is_ok());
  node.raft = std::move(raft.value());
  return node;
}

Message message(MessageType type, uint64_t from, uint64_t to, uint64_t term) {
  return Message{.type = type, .from = NodeId(from), .to = NodeId(to), .term = Term(term)};
}

// Delivers every message among `nodes` until none is left (a reliable network).
void deliver_all(std::map<uint64_t, TestNode*> nodes, std::vector<Message> initial = {}) {
  std::deque<Message> queue(initial.begin(), initial.end());
  auto collect = [&] {
    for (auto& [id, node] : nodes) {
      for (Message& sent : node->raft->take_messages()) queue.push_back(std::move(sent));
    }
  };
  collect();
  while (!queue.empty()) {
    Message next = std::move(queue.front());
    queue.pop_front();
    auto found = nodes.find(next.to.value());
    if (found != nodes.end()) (void)found->second->raft->step(std::move(next));
    collect();
  }
}

void elect(TestNode& node, std::map<uint64_t, TestNode*> nodes) {
  node.raft->campaign();
  deliver_all(nodes);
  ASSERT_EQ(node.raft->role(), RoleKind::kLeader);
}

// §5.1: "If a server's current term is smaller than the other's, then it updates its
// current term to the larger value. If a candidate or leader discovers that its term is out
// of date, it immediately reverts to follower state."
TEST(RaftPaperTest, UpdatesTermAndRevertsToFollowerOnHigherTerm) {
  for (RoleKind role : {RoleKind::kFollower, RoleKind::kCandidate, RoleKind::kLeader}) {
    TestNode node = make_node(1, {1, 2, 3});
    if (role != RoleKind::kFollower) node.raft->campaign();
    if (role == RoleKind::kLeader) {
      ASSERT_TRUE(node.raft->step(message(MessageType::kVoteResponse, 2, 1, 1)).is_ok());
    }
    ASSERT_EQ(node.raft->role(), role);
    ASSERT_TRUE(node.raft->step(message(MessageType::kAppend, 2, 1, 5)).is_ok());
    EXPECT_EQ(node.raft->term(), Term(5));
    EXPECT_EQ(node.raft->role(), RoleKind::kFollower);
    EXPECT_EQ(node.raft->leader(), NodeId(2));
  }
}

// §5.1: "If a server receives a request with a stale term number, it rejects the request."
TEST(RaftPaperTest, IgnoresRequestsWithStaleTerm) {
  TestNode node = make_node(1, {1, 2, 3}, {1, 1}, 3);
  Message stale = message(MessageType::kAppend, 2, 1, 2);
  stale.index = LogIndex(2);
  stale.log_term = Term(1);
  stale.entries.push_back(Entry{.term = Term(2), .index = LogIndex(3), .data = "stale"});
  ASSERT_TRUE(node.raft->step(stale).is_ok());
  EXPECT_EQ(node.raft->log().last_index(), LogIndex(2));
  EXPECT_EQ(node.raft->term(), Term(3));
  EXPECT_EQ(node.raft->leader(), kNoNode);
}

// §5.2: "When servers start up, they begin as followers."
TEST(RaftPaperTest, StartsAsFollower) {
  TestNode node = make_node(1, {1, 2, 3});
  EXPECT_EQ(node.raft->role(), RoleKind::kFollower);
}

// §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries)
// to all followers in order to maintain their authority."
TEST(RaftPaperTest, LeaderBroadcastsHeartbeats) {
  TestNode a = make_node(1, {1, 2, 3});
  TestNode b = make_node(2, {1, 2, 3});
  TestNode c = make_node(3, {1, 2, 3});
  elect(a, {{1, &a}, {2, &b}, {3, &c}});
  for (int i = 0; i < kHeartbeat; ++i) a.raft->tick();
  std::vector<Message> sent = a.raft->take_messages();
  ASSERT_EQ(sent.size(), 2u);
  for (const Message& heartbeat : sent) {
    EXPECT_EQ(heartbeat.type, MessageType::kHeartbeat);
    EXPECT_TRUE(heartbeat.entries.empty());
  }
}

// §5.2: "If a follower receives no communication over a period of time called the election
// timeout, then it assumes there is no viable leader and begins an election ... a follower
// increments its current term and transitions to candidate state. It then votes for itself
// and issues RequestVote RPCs in parallel to each of the other servers."
TEST(RaftPaperTest, FollowerStartsElectionAfterTimeout) {
  TestNode node = make_node(1, {1, 2, 3}, {}, 1);
  for (int i = 0; i < 2 * kElection; ++i) node.raft->tick();
  EXPECT_EQ(node.raft->role(), RoleKind::kCandidate);
  EXPECT_EQ(node.raft->term(), Term(2));
  EXPECT_EQ(node.raft->vote(), NodeId(1));
  std::vector<Message> sent = node.raft->take_messages();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].type, MessageType::kVote);
  EXPECT_EQ(sent[0].to, NodeId(2));
  EXPECT_EQ(sent[1].to, NodeId(3));
  EXPECT_EQ(sent[1].term, Term(2));
}

// §5.2: "A candidate wins an election if it receives votes from a majority of the servers
// in the full cluster for the same term." Otherwise it stays candidate or loses.
TEST(RaftPaperTest, CandidateWinsOnlyWithMajority) {
  struct Case {
    size_t size;
    std::map<uint64_t, bool> votes;
    RoleKind expected;
  };
  const std::vector<Case> cases = {
      {1, {}, RoleKind::kLeader},
      {3, {{2, true}}, RoleKind::kLeader},
      {3, {{2, false}}, RoleKind::kCandidate},
      {3, {{2, false}, {3, false}}, RoleKind::kFollower},
      {5, {{2, true}}, RoleKind::kCandidate},
      {5, {{2, true}, {3, true}}, RoleKind::kLeader},
      {5, {{2, false}, {3, false}, {4, false}}, RoleKind::kFollower},
  };
  for (const Case& test : cases) {
    std::vector<uint64_t> voters;
    for (uint64_t id = 1; id <= test.size; ++id) voters.push_back(id);
    TestNode node = make_node(1, voters);
    node.raft->campaign();
    for (const auto& [from, granted] : test.votes) {
      Message vote = message(MessageType::kVoteResponse, from, 1, 1);
      vote.reject = !granted;
      ASSERT_TRUE(node.raft->step(vote).is_ok());
    }
    EXPECT_EQ(node.raft->role(), test.expected) << "cluster of " << test.size;
  }
}

// §5.2: "Each server will vote for at most one candidate in a given term, on a
// first-come-first-served basis."
TEST(RaftPaperTest, VotesForAtMostOneCandidatePerTerm) {
  TestNode node = make_node(1, {1, 2, 3});
  Message from_two = message(MessageType::kVote, 2, 1, 1);
  ASSERT_TRUE(node.raft->step(from_two).is_ok());
  Message from_three = message(MessageType::kVote, 3, 1, 1);
  ASSERT_TRUE(node.raft->step(from_three).is_ok());
  Message again_from_two = message(MessageType::kVote, 2, 1, 1);
  ASSERT_TRUE(node.raft->step(again_from_two).is_ok());
  std::vector<Message> sent = node.raft->take_messages();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_FALSE(sent[0].reject);
  EXPECT_TRUE(sent[1].reject);
  EXPECT_FALSE(sent[2].reject) << "a repeated request from the same candidate is granted";
  EXPECT_EQ(node.raft->vote(), NodeId(2));
}

// §5.2: "If the leader's term (included in its RPC) is at least as large as the candidate's
// current term, then the candidate recognizes the leader as legitimate and returns to
// follower state."
TEST(RaftPaperTest, CandidateFallsBackToFollowerOnAppendOfSameTerm) {
  TestNode node = make_node(1, {1, 2, 3});
  node.raft->campaign();
  ASSERT_EQ(node.raft->role(), RoleKind::kCandidate);
  ASSERT_TRUE(
      node.raft->step(message(MessageType::kAppend, 2, 1, node.raft->term().value())).is_ok());
  EXPECT_EQ(node.raft->role(), RoleKind::kFollower);
  EXPECT_EQ(node.raft->leader(), NodeId(2));
}

// §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare ...
// election timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)."
TEST(RaftPaperTest, ElectionTimeoutsAreRandomizedWithinOneToTwoTimeouts) {
  TestNode node = make_node(1, {1, 2, 3});
  std::set<int> seen;
  for (uint64_t term = 1; term <= 200; ++term) {
    ASSERT_TRUE(node.raft->step(message(MessageType::kHeartbeat, 2, 1, term)).is_ok());
    const int timeout = node.raft->randomized_election_timeout_ticks();
    EXPECT_GE(timeout, kElection);
    EXPECT_LT(timeout, 2 * kElection);
    seen.insert(timeout);
  }
  EXPECT_GT(seen.size(), 5u) << "timeouts must actually vary";
}

// §5.3: "The leader appends the command to its log as a new entry, then issues
// AppendEntries RPCs in parallel to each of the other servers to replicate the entry."
// and "A log entry is committed once the leader that created the entry has replicated it on
// a majority of the servers."
TEST(RaftPaperTest, LeaderReplicatesAndCommitsOnMajority) {
  TestNode a = make_node(1, {1, 2, 3});
  TestNode b = make_node(2, {1, 2, 3});
  TestNode c = make_node(3, {1, 2, 3});
  elect(a, {{1, &a}, {2, &b}, {3, &c}});
  Message proposal = message(MessageType::kPropose, 1, 1, 0);
  proposal.entries.push_back(Entry{.data = "x"});
  ASSERT_TRUE(a.raft->step(proposal).is_ok());
  std::vector<Message> appends = a.raft->take_messages();
  ASSERT_EQ(appends.size(), 2u);
  for (const Message& append : appends) {
    EXPECT_EQ(append.type, MessageType::kAppend);
    ASSERT_EQ(append.entries.size(), 1u);
    EXPECT_EQ(append.entries[0].data, "x");
  }
  const LogIndex x_index = appends[0].entries[0].index;
  EXPECT_LT(a.raft->log().committed(), x_index);
  // One follower's acknowledgement and the leader's own (durable) copy make a majority of
  // three.
  a.raft->persisted_to(x_index, a.raft->term());
  EXPECT_LT(a.raft->log().committed(), x_index);
  ASSERT_TRUE(b.raft->step(appends[0]).is_ok());
  for (Message& response : b.raft->take_messages()) ASSERT_TRUE(a.raft->step(response).is_ok());
  EXPECT_EQ(a.raft->log().committed(), x_index);
}

// Thesis §10.2.1: "the leader can write to its disk in parallel with replicating to the
// followers and them writing to their disks ... the leader may even commit an entry before
// it has been written to its own disk, if a majority of the followers have written it to
// their disks." So the leader's copy counts only once it is durable (persisted_to), and two
// followers of three suffice without it.
TEST(RaftPaperTest, LeaderCountsItsOwnCopyOnlyOnceDurable) {
  TestNode a = make_node(1, {1, 2, 3});
  TestNode b = make_node(2, {1, 2, 3});
  TestNode c = make_node(3, {1, 2, 3});
  elect(a, {{1, &a}, {2, &b}, {3, &c}});
  Message proposal = message(MessageType::kPropose, 1, 1, 0);
  proposal.entries.push_back(Entry{.data = "x"});
  ASSERT_TRUE(a.raft->step(proposal).is_ok());
  std::vector<Message> appends = a.raft->take_messages();
  ASSERT_EQ(appends.size(), 2u);
  const LogIndex x_index = appends[0].entries[0].index;
  // One follower's acknowledgement while the leader's own write is still under way: only
  // one durable copy of three, no commit.
  TestNode& first = appends[0].to == NodeId(2) ? b : c;
  TestNode& second = appends[0].to == NodeId(2) ? c : b;
  ASSERT_TRUE(first.raft->step(appends[0]).is_ok());
  for (Message& response : first.raft->take_messages()) {
    ASSERT_TRUE(a.raft->step(response).is_ok());
  }
  EXPECT_LT(a.raft->log().committed(), x_index) << "the leader's copy is not durable yet";
  // The second follower's acknowledgement: two durable copies of three, committed although
  // the leader's write has not finished.
  ASSERT_TRUE(second.raft->step(appends[1]).is_ok());
  for (Message& response : second.raft->take_messages()) {
    ASSERT_TRUE(a.raft->step(response).is_ok());
  }
  EXPECT_EQ(a.raft->log().committed(), x_index);
}

// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only
// log entries from the leader's current term are committed by counting replicas."
TEST(RaftPaperTest, LeaderDoesNotCommitEarlierTermEntryByCountingReplicas) {
  // Node 1 holds an entry of term 2 at index 2 that no one else has; it becomes leader in
  // term 4 with node 2's vote, but its no-op (term 4, index 3) is not yet replicated.
  TestNode a = make_node(1, {1, 2, 3, 4, 5}, {1, 2}, 3);
  TestNode b = make_node(2, {1, 2, 3, 4, 5}, {1}, 3);
  TestNode c = make_node(3, {1, 2, 3, 4, 5}, {1}, 3);
  a.raft->campaign();
  for (uint64_t voter : {2, 3}) {
    ASSERT_TRUE(a.raft->step(message(MessageType::kVoteResponse, voter, 1, 4)).is_ok());
  }
  ASSERT_EQ(a.raft->role(), RoleKind::kLeader);
  (void)a.raft->take_messages();
  // Followers 2 and 3 acknowledge index 2 (the old entry) but not the no-op at 3.
  for (uint64_t follower : {2, 3}) {
    Message ack = message(MessageType::kAppendResponse, follower, 1, 4);
    ack.index = LogIndex(2);
    ASSERT_TRUE(a.raft->step(ack).is_ok());
  }
  EXPECT_EQ(a.raft->log().committed(), LogIndex(0))
      << "index 2 (term 2) is on a majority but must not commit by counting";
  a.raft->persisted_to(LogIndex(3), Term(4));  // the leader's no-op is on its disk
  for (uint64_t follower : {2, 3}) {
    Message ack = message(MessageType::kAppendResponse, follower, 1, 4);
    ack.index = LogIndex(3);
    ASSERT_TRUE(a.raft->step(ack).is_ok());
  }
  EXPECT_EQ(a.raft->log().committed(), LogIndex(3)) << "the term-4 entry commits, and 2 with it";
  (void)b;
  (void)c;
}

// §5.3: "If the follower does not find an entry in its log with the same index and term,
// then it refuses the new entries."
TEST(RaftPaperTest, FollowerRefusesAppendThatFailsConsistencyCheck) {
  TestNode node = make_node(1, {1, 2, 3}, {1, 2}, 2);
  Message append = message(MessageType::kAppend, 2, 1, 2);
  append.index = LogIndex(2);
  append.log_term = Term(1);  // our entry 2 has term 2
  append.entries.push_back(Entry{.term = Term(2), .index = LogIndex(3)});
  ASSERT_TRUE(node.raft->step(append).is_ok());
  std::vector<Message> sent = node.raft->take_messages();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].reject);
  EXPECT_EQ(node.raft->log().last_index(), LogIndex(2));
}

// Figure 2, AppendEntries receiver step 3: "If an existing entry conflicts with a new one
// (same index but different terms), delete the existing entry and all that follow it."
TEST(RaftPaperTest, FollowerDeletesConflictingSuffix) {
  TestNode node = make_node(1, {1, 2, 3}, {1, 2, 2, 2}, 3);
  Message append = message(MessageType::kAppend, 2, 1, 3);
  append.index = LogIndex(1);
  append.log_term = Term(1);
  append.entries.push_back(Entry{.term = Term(3), .index = LogIndex(2), .data = "new"});
  ASSERT_TRUE(node.raft->step(append).is_ok());
  EXPECT_EQ(node.raft->log().last_index(), LogIndex(2));
  EXPECT_EQ(node.raft->log().term(LogIndex(2)), Term(3));
  EXPECT_EQ(node.raft->log().entry(LogIndex(2))->data, "new");
}

// Figure 2, AppendEntries receiver step 4: an append whose entries are all present must
// not truncate entries that follow them (a delayed, duplicate append).
TEST(RaftPaperTest, FollowerKeepsEntriesAfterAMatchingStaleAppend) {
  TestNode node = make_node(1, {1, 2, 3}, {1, 2, 2, 2}, 2);
  Message append = message(MessageType::kAppend, 2, 1, 2);
  append.index = LogIndex(1);
  append.log_term = Term(1);
  append.entries.push_back(Entry{.term = Term(2), .index = LogIndex(2)});
  ASSERT_TRUE(node.raft->step(append).is_ok());
  EXPECT_EQ(node.raft->log().last_index(), LogIndex(4));
}

// §5.3, Figure 7: "the leader must find the latest log entry where the two logs agree,
// delete any entries in the follower's log after that point, and send the follower all of
// the leader's entries after that point." The six follower logs (a)-(f) of Figure 7 all
// end up identical to the leader's.
TEST(RaftPaperTest, LeaderBringsEveryFigure7FollowerInSync) {
  const std::vector<uint64_t> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const std::vector<std::vector<uint64_t>> followers = {
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a)
      {1, 1, 1, 4},                          // (b)
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c)
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d)
      {1, 1, 1, 4, 4, 4, 4},                 // (e)
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // (f)
  };
  for (size_t i = 0; i < followers.size(); ++i) {
    TestNode leader = make_node(1, {1, 2, 3}, leader_log, 8);
    TestNode follower = make_node(2, {1, 2, 3}, followers[i], 8);
    // Node 3 is an up-to-date voter so the leader can be elected in term 9.
    TestNode helper = make_node(3, {1, 2, 3}, leader_log, 8);
    elect(leader, {{1, &leader}, {2, &follower}, {3, &helper}});
    Message proposal = message(MessageType::kPropose, 1, 1, 0);
    proposal.entries.push_back(Entry{.data = "sync"});
    ASSERT_TRUE(leader.raft->step(proposal).is_ok());
    deliver_all({{1, &leader}, {2, &follower}, {3, &helper}});
    const RaftLog& expected = leader.raft->log();
    const RaftLog& actual = follower.raft->log();
    ASSERT_EQ(actual.last_index(), expected.last_index()) << "follower (" << char('a' + i) << ")";
    for (LogIndex index(1); index <= expected.last_index(); index = index.next()) {
      EXPECT_EQ(actual.term(index), expected.term(index))
          << "follower (" << char('a' + i) << ") index " << index;
    }
  }
}

// §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
// candidate ... If the logs have last entries with different terms, then the log with the
// later term is more up-to-date. If the logs end with the same term, then whichever log is
// longer is more up-to-date."
TEST(RaftPaperTest, VoterDeniesCandidateWithLessUpToDateLog) {
  struct Case {
    uint64_t candidate_last_term;
    uint64_t candidate_last_index;
    bool granted;
  };
  // The voter's log ends at index 2 with term 2.
  const std::vector<Case> cases = {
      {2, 2, true}, {2, 3, true}, {3, 1, true}, {2, 1, false}, {1, 5, false},
  };
  for (const Case& test : cases) {
    TestNode voter = make_node(1, {1, 2, 3}, {1, 2}, 2);
    Message request = message(MessageType::kVote, 2, 1, 3);
    request.log_term = Term(test.candidate_last_term);
    request.index = LogIndex(test.candidate_last_index);
    ASSERT_TRUE(voter.raft->step(request).is_ok());
    std::vector<Message> sent = voter.raft->take_messages();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].reject, !test.granted)
        << "candidate last entry " << test.candidate_last_term << "/" << test.candidate_last_index;
  }
}

// Thesis §9.6: "the Pre-Vote algorithm ... a candidate would first ask other servers
// whether its log was up-to-date enough to get their vote. Only if the candidate believed
// it could get votes from a majority of the cluster would it increment its term."
TEST(RaftPaperTest, PreVoteDoesNotIncrementTermUntilMajorityWouldVote) {
  TestNode node = make_node(1, {1, 2, 3}, {}, 5, /*pre_vote=*/true);
  node.raft->campaign();
  EXPECT_EQ(node.raft->role(), RoleKind::kPreCandidate);
  EXPECT_EQ(node.raft->term(), Term(5));
  std::vector<Message> sent = node.raft->take_messages();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].type, MessageType::kPreVote);
  EXPECT_EQ(sent[0].term, Term(6)) << "pre-votes ask about the next term";
  ASSERT_TRUE(node.raft->step(message(MessageType::kPreVoteResponse, 2, 1, 6)).is_ok());
  EXPECT_EQ(node.raft->role(), RoleKind::kCandidate);
  EXPECT_EQ(node.raft->term(), Term(6));
}

}  // namespace
}  // namespace lockstep::raft
