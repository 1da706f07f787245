#include "server/daemon/member_id.h"

#include <gtest/gtest.h>

namespace lockstep::daemon {
namespace {

// etcd 3.4 started with no flags (name "default", peer URL http://localhost:2380, token
// "etcd-cluster") reports member 8e9e05c52164694d in cluster cdf818194e3a8c32.
TEST(MemberIdTest, MatchesEtcdDefaultSingleMember) {
  const NodeId id = compute_member_id({"http://localhost:2380"}, "etcd-cluster");
  EXPECT_EQ(id.value(), 0x8e9e05c52164694dULL);
  EXPECT_EQ(compute_cluster_id({id}), 0xcdf818194e3a8c32ULL);
}

TEST(MemberIdTest, PeerUrlOrderDoesNotMatterButTokenDoes) {
  const NodeId forward = compute_member_id({"http://a:1", "http://b:2"}, "t");
  const NodeId backward = compute_member_id({"http://b:2", "http://a:1"}, "t");
  EXPECT_EQ(forward, backward);
  EXPECT_NE(forward, compute_member_id({"http://a:1", "http://b:2"}, "u"));
}

TEST(MemberIdTest, ClusterIdIgnoresMemberOrder) {
  EXPECT_EQ(compute_cluster_id({NodeId(3), NodeId(1)}), compute_cluster_id({NodeId(1), NodeId(3)}));
  EXPECT_NE(compute_cluster_id({NodeId(1)}), compute_cluster_id({NodeId(1), NodeId(3)}));
}

}  // namespace
}  // namespace lockstep::daemon
