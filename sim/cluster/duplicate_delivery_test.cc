#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/cluster/cluster.h"

namespace lockstep::sim {
namespace {

constexpr int kPuts = 20;

struct Outcome {
  int puts_ok = 0;
  std::optional<mvcc::RangeResponse> final_read;
};

// Every message on every path is delivered twice (found by loss_duplication_storm: a put
// duplicated on its way to the leader was applied at two revisions). `via_follower` sends
// the writes to a follower, so they also reach the leader as a forwarded Raft proposal,
// which the network duplicates as well.
Outcome write_through_a_duplicating_network(bool via_follower) {
  ClusterConfig config;
  config.seed = 17;
  config.member_count = 3;
  config.network.duplicate_probability = 1.0;
  Cluster cluster(config);
  EXPECT_TRUE(cluster.boot().is_ok());
  World& world = cluster.world();
  const Instant give_up = world.now() + std::chrono::seconds(10);
  world.run_until([&] { return cluster.leader().has_value(); }, give_up);
  if (!cluster.leader()) {
    ADD_FAILURE() << "no leader was elected";
    return {};
  }
  const NodeId leader = *cluster.leader();
  NodeId target = leader;
  if (via_follower) {
    for (NodeId member : cluster.member_ids()) {
      if (member != leader) target = member;
    }
  }

  Outcome outcome;
  bool done = false;
  cluster.add_client("writer", ClientOptions{}, [&](ClusterClient& client) {
    for (int i = 0; i < kPuts; ++i) {
      mvcc::PutRequest put;
      put.key = "k";
      put.value = "v" + std::to_string(i);
      if (client.call_member(target, put).ok()) ++outcome.puts_ok;
    }
    mvcc::RangeRequest read;
    read.key = "k";
    CallResult answer = client.call_member(target, read);
    if (answer.ok()) outcome.final_read = answer.as<mvcc::RangeResponse>();
    done = true;
  });
  world.run_until([&] { return done; }, give_up);
  EXPECT_TRUE(done) << "the client did not finish";
  return outcome;
}

void expect_each_put_applied_once(const Outcome& outcome) {
  ASSERT_EQ(outcome.puts_ok, kPuts) << "no fault but duplication: every put is answered";
  ASSERT_TRUE(outcome.final_read.has_value());
  ASSERT_EQ(outcome.final_read->kvs.size(), 1u);
  const mvcc::KeyValue& kv = outcome.final_read->kvs.front();
  EXPECT_EQ(kv.value, "v" + std::to_string(kPuts - 1));
  // etcd: version counts the puts since creation, and each write is one revision after the
  // empty store's revision 1. A put applied twice shows up in both.
  EXPECT_EQ(kv.version, kPuts);
  EXPECT_EQ(kv.mod_revision.value(), 1 + kPuts);
  EXPECT_EQ(outcome.final_read->header.revision.value(), 1 + kPuts);
}

TEST(DuplicateDeliveryTest, AClientRequestDeliveredTwiceIsAppliedOnce) {
  expect_each_put_applied_once(write_through_a_duplicating_network(/*via_follower=*/false));
}

TEST(DuplicateDeliveryTest, AForwardedProposalDeliveredTwiceIsAppliedOnce) {
  expect_each_put_applied_once(write_through_a_duplicating_network(/*via_follower=*/true));
}

}  // namespace
}  // namespace lockstep::sim
