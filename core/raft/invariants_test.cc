#include "core/raft/invariants.h"

#include <gtest/gtest.h>

namespace lockstep::raft {
namespace {

// A log given as a list of terms from index 1.
class FakeLog final : public LogReader {
 public:
  explicit FakeLog(std::vector<uint64_t> terms, std::vector<std::string> data = {}) {
    for (size_t i = 0; i < terms.size(); ++i) {
      entries_.push_back(Entry{.term = Term(terms[i]),
                               .index = LogIndex(i + 1),
                               .data = i < data.size() ? data[i] : ""});
    }
  }
  LogIndex first_index() const override { return LogIndex(1); }
  LogIndex last_index() const override { return LogIndex(entries_.size()); }
  std::optional<Term> term(LogIndex index) const override {
    if (index == LogIndex(0)) return Term(0);
    if (index > last_index()) return std::nullopt;
    return entries_[index.value() - 1].term;
  }
  const Entry* entry(LogIndex index) const override {
    if (index == LogIndex(0) || index > last_index()) return nullptr;
    return &entries_[index.value() - 1];
  }

 private:
  std::vector<Entry> entries_;
};

NodeObservation observe(uint64_t id, RoleKind role, uint64_t term, uint64_t commit,
                        const FakeLog& log, uint64_t vote = 0) {
  return NodeObservation{.id = NodeId(id),
                         .role = role,
                         .term = Term(term),
                         .commit = LogIndex(commit),
                         .persisted = HardState{Term(term), NodeId(vote), LogIndex(commit)},
                         .log = &log};
}

TEST(InvariantCheckerTest, HealthyClusterPasses) {
  FakeLog log({1, 1, 2});
  InvariantChecker checker;
  EXPECT_EQ(checker.check({observe(1, RoleKind::kLeader, 2, 3, log, 1),
                           observe(2, RoleKind::kFollower, 2, 3, log, 1)}),
            std::nullopt);
}

TEST(InvariantCheckerTest, DetectsTwoLeadersInOneTerm) {
  FakeLog log({1});
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kLeader, 3, 0, log)}), std::nullopt);
  std::optional<std::string> violation = checker.check({observe(2, RoleKind::kLeader, 3, 0, log)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("Election Safety"), std::string::npos) << *violation;
}

TEST(InvariantCheckerTest, DetectsPersistedTermAndVoteRegression) {
  FakeLog log({1});
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 3, 0, log, 2)}), std::nullopt);
  std::optional<std::string> vote_changed =
      checker.check({observe(1, RoleKind::kFollower, 3, 0, log, 3)});
  ASSERT_TRUE(vote_changed.has_value());
  EXPECT_NE(vote_changed->find("vote in term 3 changed 2 -> 3"), std::string::npos)
      << *vote_changed;

  InvariantChecker second;
  ASSERT_EQ(second.check({observe(1, RoleKind::kFollower, 3, 0, log)}), std::nullopt);
  std::optional<std::string> term_went_back =
      second.check({observe(1, RoleKind::kFollower, 2, 0, log)});
  ASSERT_TRUE(term_went_back.has_value());
  EXPECT_NE(term_went_back->find("term 3 -> 2"), std::string::npos) << *term_went_back;
}

TEST(InvariantCheckerTest, DetectsCommitIndexDecreaseWithinAnIncarnation) {
  FakeLog log({1, 1, 1});
  InvariantChecker checker;
  NodeObservation node = observe(1, RoleKind::kFollower, 1, 3, log);
  node.persisted.commit = LogIndex(1);
  ASSERT_EQ(checker.check({node}), std::nullopt);
  node.commit = LogIndex(2);
  std::optional<std::string> violation = checker.check({node});
  ASSERT_TRUE(violation.has_value());
  // After a restart the in-memory commit may restart from the persisted one.
  InvariantChecker restarted;
  node.commit = LogIndex(3);
  ASSERT_EQ(restarted.check({node}), std::nullopt);
  node.commit = LogIndex(1);
  node.incarnation = 1;
  EXPECT_EQ(restarted.check({node}), std::nullopt);
}

TEST(InvariantCheckerTest, DetectsLogMatchingViolation) {
  FakeLog a({1, 2, 3});
  FakeLog b({1, 1, 3});  // same (index 3, term 3) but a different entry before it
  InvariantChecker checker;
  std::optional<std::string> violation = checker.check(
      {observe(1, RoleKind::kFollower, 3, 0, a), observe(2, RoleKind::kFollower, 3, 0, b)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("Log Matching"), std::string::npos) << *violation;
}

TEST(InvariantCheckerTest, DetectsDifferentEntriesCommittedAtOneIndex) {
  FakeLog a({1, 2});
  FakeLog b({1, 3});
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 2, 2, a)}), std::nullopt);
  std::optional<std::string> violation = checker.check({observe(2, RoleKind::kFollower, 3, 2, b)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("State Machine Safety"), std::string::npos) << *violation;
}

TEST(InvariantCheckerTest, DetectsAppliedEntryThatDiffersFromCommittedOne) {
  FakeLog log({1, 1}, {"x", "y"});
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 1, 2, log)}), std::nullopt);
  std::optional<std::string> violation =
      checker.record_applied(NodeId(2), Entry{.term = Term(1), .index = LogIndex(2), .data = "z"});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("different data"), std::string::npos) << *violation;
}

TEST(InvariantCheckerTest, DetectsLeaderMissingACommittedEntry) {
  FakeLog committed_log({1, 1, 2});
  FakeLog leader_log({1, 1, 3});  // lost the committed term-2 entry at index 3
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 2, 3, committed_log)}), std::nullopt);
  std::optional<std::string> violation =
      checker.check({observe(2, RoleKind::kLeader, 4, 2, leader_log)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("Leader Completeness"), std::string::npos) << *violation;
}

// Raft paper Figure 8 (c)-(e): B led term 3 and is cut off, still a leader in its own eyes,
// while A, leader of term 4, commits its term-2 entry at index 2 (together with its own term-4
// entry at index 3). B must lack the entry: it was committed in term 4, after B's term.
TEST(InvariantCheckerTest, DeposedLeaderOfAnEarlierTermMayLackAnEntryCommittedLater) {
  FakeLog a_log({1, 2, 4});
  FakeLog b_log({1, 3});
  InvariantChecker checker;
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 2, 1, a_log),
                           observe(2, RoleKind::kLeader, 3, 1, b_log)}),
            std::nullopt);
  EXPECT_EQ(checker.check({observe(1, RoleKind::kLeader, 4, 3, a_log),
                           observe(2, RoleKind::kLeader, 3, 1, b_log)}),
            std::nullopt);
  // A leader of a later term that lacks it is still a violation, named with both terms.
  std::optional<std::string> violation =
      checker.check({observe(2, RoleKind::kLeader, 5, 1, b_log)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("lacks the entry of term 2 committed at index 2 in term 4"),
            std::string::npos)
      << *violation;
}

// An entry seen only as applied (its commit term unknown) is checked once a check() sees it.
TEST(InvariantCheckerTest, AppliedEntryIsCheckedForCompletenessOnceSeenCommitted) {
  FakeLog committed_log({1, 2});
  FakeLog leader_log({1, 3});
  InvariantChecker checker;
  ASSERT_EQ(checker.record_applied(NodeId(1), *committed_log.entry(LogIndex(2))), std::nullopt);
  ASSERT_EQ(checker.check({observe(2, RoleKind::kLeader, 3, 1, leader_log)}), std::nullopt);
  ASSERT_EQ(checker.check({observe(1, RoleKind::kFollower, 2, 2, committed_log)}), std::nullopt);
  std::optional<std::string> violation =
      checker.check({observe(2, RoleKind::kLeader, 4, 1, leader_log)});
  ASSERT_TRUE(violation.has_value());
  EXPECT_NE(violation->find("Leader Completeness"), std::string::npos) << *violation;
}

}  // namespace
}  // namespace lockstep::raft
