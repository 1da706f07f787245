#include "core/raft/membership.h"

#include <gtest/gtest.h>

namespace lockstep::raft {
namespace {

std::set<NodeId> ids(std::initializer_list<uint64_t> values) {
  std::set<NodeId> result;
  for (uint64_t value : values) result.emplace(value);
  return result;
}

ConfChange change(std::initializer_list<ConfChangeSingle> changes,
                  ConfChangeTransition transition = ConfChangeTransition::kAuto) {
  return ConfChange{.transition = transition, .changes = changes};
}

TEST(MembershipTest, MajorityCommittedIndexIsTheQuorumthLargest) {
  std::map<NodeId, LogIndex> acked = {{NodeId(1), LogIndex(5)},
                                      {NodeId(2), LogIndex(3)},
                                      {NodeId(3), LogIndex(9)},
                                      {NodeId(4), LogIndex(1)},
                                      {NodeId(5), LogIndex(4)}};
  auto lookup = [&](NodeId id) { return acked.at(id); };
  EXPECT_EQ(majority_committed_index(ids({1, 2, 3, 4, 5}), lookup), LogIndex(4));
  EXPECT_EQ(majority_committed_index(ids({1, 2, 3}), lookup), LogIndex(5));
  EXPECT_EQ(majority_committed_index(ids({1, 4}), lookup), LogIndex(1));
  EXPECT_EQ(majority_committed_index(ids({3}), lookup), LogIndex(9));
}

// Thesis §4.3: in the joint configuration "agreement (for elections and entry commitment)
// requires separate majorities from both the old and new configurations".
TEST(MembershipTest, JointConfigurationNeedsBothMajorities) {
  Membership joint{.incoming = ids({1, 2, 3}), .outgoing = ids({3, 4, 5})};
  std::map<NodeId, LogIndex> acked = {{NodeId(1), LogIndex(9)},
                                      {NodeId(2), LogIndex(9)},
                                      {NodeId(3), LogIndex(2)},
                                      {NodeId(4), LogIndex(5)},
                                      {NodeId(5), LogIndex(7)}};
  EXPECT_EQ(committed_index(joint, [&](NodeId id) { return acked.at(id); }), LogIndex(5));

  std::map<NodeId, bool> votes = {{NodeId(1), true}, {NodeId(2), true}};
  EXPECT_EQ(vote_result(joint, votes), VoteResult::kPending);
  votes[NodeId(4)] = false;
  votes[NodeId(5)] = false;
  EXPECT_EQ(vote_result(joint, votes), VoteResult::kLost) << "the outgoing half lost";
  votes = {{NodeId(1), true}, {NodeId(2), true}, {NodeId(4), true}, {NodeId(5), true}};
  EXPECT_EQ(vote_result(joint, votes), VoteResult::kWon);
}

TEST(MembershipTest, SingleVoterChangeAppliesDirectly) {
  Membership current{.incoming = ids({1, 2, 3})};
  Result<Membership> next =
      apply_conf_change(current, change({{ConfChangeType::kAddNode, NodeId(4)}}));
  ASSERT_TRUE(next.is_ok()) << next.error();
  EXPECT_EQ(next->incoming, ids({1, 2, 3, 4}));
  EXPECT_FALSE(next->joint());
}

// etcd's member update (new peer URLs) is a ConfChangeUpdateNode: committed like any change,
// but the configuration stays as it was, learners included.
TEST(MembershipTest, UpdateNodeLeavesTheConfigurationAsItWas) {
  Membership current{.incoming = ids({1, 2, 3}), .learners = ids({4})};
  for (uint64_t node : {2, 4}) {
    Result<Membership> next =
        apply_conf_change(current, change({{ConfChangeType::kUpdateNode, NodeId(node)}}));
    ASSERT_TRUE(next.is_ok()) << next.error();
    EXPECT_EQ(next->to_conf_state(), current.to_conf_state());
  }
}

// Thesis §4.1: adding or removing one server at a time keeps every majority of the old
// configuration overlapping every majority of the new; more needs joint consensus.
TEST(MembershipTest, TwoVoterChangesWithoutJointConsensusAreRefused) {
  Membership current{.incoming = ids({1, 2, 3})};
  ConfChange two =
      change({{ConfChangeType::kAddNode, NodeId(4)}, {ConfChangeType::kAddNode, NodeId(5)}},
             ConfChangeTransition::kAuto);
  // kAuto with several changes enters joint consensus instead.
  Result<Membership> joint = apply_conf_change(current, two);
  ASSERT_TRUE(joint.is_ok());
  EXPECT_TRUE(joint->joint());
  EXPECT_EQ(joint->outgoing, ids({1, 2, 3}));
  EXPECT_EQ(joint->incoming, ids({1, 2, 3, 4, 5}));
  EXPECT_TRUE(joint->auto_leave);
}

TEST(MembershipTest, JointLifecycleAndDemotionViaLearnersNext) {
  Membership current{.incoming = ids({1, 2, 3})};
  Result<Membership> joint = apply_conf_change(
      current,
      change({{ConfChangeType::kAddLearnerNode, NodeId(3)}, {ConfChangeType::kAddNode, NodeId(4)}},
             ConfChangeTransition::kJointExplicit));
  ASSERT_TRUE(joint.is_ok()) << joint.error();
  EXPECT_EQ(joint->incoming, ids({1, 2, 4}));
  EXPECT_EQ(joint->outgoing, ids({1, 2, 3}));
  EXPECT_EQ(joint->learners_next, ids({3})) << "3 still votes in the outgoing half";
  EXPECT_TRUE(joint->learners.empty());
  EXPECT_FALSE(joint->auto_leave);
  EXPECT_FALSE(apply_conf_change(*joint, change({{ConfChangeType::kAddNode, NodeId(5)}})).is_ok())
      << "no new change while joint";
  Result<Membership> left = apply_conf_change(*joint, ConfChange{});
  ASSERT_TRUE(left.is_ok());
  EXPECT_FALSE(left->joint());
  EXPECT_EQ(left->learners, ids({3}));
  EXPECT_TRUE(left->learners_next.empty());
  EXPECT_FALSE(apply_conf_change(*left, ConfChange{}).is_ok()) << "leaving when not joint";
}

TEST(MembershipTest, RefusesRemovingTheLastVoterAndNodeZero) {
  Membership single{.incoming = ids({1})};
  EXPECT_FALSE(
      apply_conf_change(single, change({{ConfChangeType::kRemoveNode, NodeId(1)}})).is_ok());
  EXPECT_FALSE(apply_conf_change(single, change({{ConfChangeType::kAddNode, NodeId(0)}})).is_ok());
}

TEST(MembershipTest, ConfStateRoundTrip) {
  Membership membership{.incoming = ids({1, 2}),
                        .outgoing = ids({1, 3}),
                        .learners = ids({5}),
                        .learners_next = ids({3}),
                        .auto_leave = true};
  EXPECT_EQ(Membership::from_conf_state(membership.to_conf_state()), membership);
  EXPECT_EQ(membership.to_string(), "voters=(1,2)&&(1,3) learners=(5) learners_next=(3) autoleave");
}

}  // namespace
}  // namespace lockstep::raft
