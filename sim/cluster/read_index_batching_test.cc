// ReadIndex rounds are batched (Raft thesis §6.4, "the leader can amortize the cost ... by
// batching"; etcd's linearizableReadLoop): at most one round is in flight per member, and
// every read or lease query that arrives while it is in flight waits for the next round,
// which serves all of them. A read never joins a round issued before it arrived: that round's
// read index may predate a write the reader already saw acknowledged.
#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "sim/cluster/cluster.h"

namespace lockstep::sim {
namespace {

constexpr int kConcurrentClients = 8;

uint64_t probe_hits(const World& world, std::string_view name) {
  uint64_t hits = 0;
  for (const ProbeHit& probe : world.probes_hit()) {
    if (probe.name == name) hits += probe.hits;
  }
  return hits;
}

// A 3-member cluster on paths without jitter (every message takes the same 500 us), with a
// leader that has committed an entry of its term (thesis §6.4 step 1), and a lease.
struct QuietCluster {
  Cluster cluster;
  NodeId leader;
  LeaseId lease{};

  static ClusterConfig config() {
    ClusterConfig config;
    config.seed = 7;
    config.member_count = 3;
    config.network.jitter_mean = Duration::zero();
    return config;
  }

  QuietCluster() : cluster(config()) {
    EXPECT_TRUE(cluster.boot().is_ok());
    World& world = cluster.world();
    const Instant give_up = world.now() + std::chrono::seconds(20);
    bool granted = false;
    cluster.add_client("setup", ClientOptions{}, [&](ClusterClient& client) {
      // The grant is a write: once it is answered, the leader has committed in its term.
      mvcc::LeaseGrantRequest grant;
      grant.ttl_seconds = 60;
      CallResult result = client.call(grant);
      if (result.ok()) lease = result.as<mvcc::LeaseGrantResponse>().id;
      granted = true;
    });
    world.run_until([&] { return granted; }, give_up);
    EXPECT_NE(lease, LeaseId{}) << "no lease was granted";
    if (cluster.leader()) leader = *cluster.leader();
  }

  // Starts kConcurrentClients clients at the same instant, each sending `request` once to
  // `target`; runs until all are answered. Returns how many were answered ok, and how many
  // ReadIndex rounds the cluster's members issued meanwhile.
  std::pair<int, uint64_t> ask_together(NodeId target, const node::ClientRequestBody& request) {
    World& world = cluster.world();
    const uint64_t rounds_before = probe_hits(world, "member.read_round_issued");
    int answered = 0;
    int ok = 0;
    for (int i = 0; i < kConcurrentClients; ++i) {
      cluster.add_client("reader-" + std::to_string(i), ClientOptions{},
                         [&](ClusterClient& client) {
                           if (client.call_member(target, request).ok()) ++ok;
                           ++answered;
                         });
    }
    world.run_until([&] { return answered == kConcurrentClients; },
                    world.now() + std::chrono::seconds(10));
    EXPECT_EQ(answered, kConcurrentClients) << "a client got no answer";
    return {ok, probe_hits(world, "member.read_round_issued") - rounds_before};
  }
};

mvcc::RangeRequest linearizable_range() {
  mvcc::RangeRequest range;
  range.key = "k";
  return range;
}

// The reads reach the leader at one instant: the first starts a round at once (a lone read
// waits for nothing), the others arrive while it is in flight and share the next one. One
// round per read (8 here) was the cost before batching.
TEST(ReadIndexBatchingTest, ConcurrentReadsOnTheLeaderShareOneRound) {
  QuietCluster quiet;
  ASSERT_NE(quiet.leader, NodeId{});
  const auto [ok, rounds] = quiet.ask_together(quiet.leader, linearizable_range());
  EXPECT_EQ(ok, kConcurrentClients);
  EXPECT_EQ(rounds, 2u);
}

TEST(ReadIndexBatchingTest, ConcurrentKeepAlivesShareOneRound) {
  QuietCluster quiet;
  ASSERT_NE(quiet.leader, NodeId{});
  const auto [ok, rounds] =
      quiet.ask_together(quiet.leader, mvcc::LeaseKeepAliveRequest{quiet.lease});
  EXPECT_EQ(ok, kConcurrentClients);
  EXPECT_EQ(rounds, 2u);
}

// A follower forwards its round to the leader (one ReadIndex message, one answer) and batches
// the same way.
TEST(ReadIndexBatchingTest, ConcurrentReadsOnAFollowerShareOneRound) {
  QuietCluster quiet;
  ASSERT_NE(quiet.leader, NodeId{});
  NodeId follower;
  for (NodeId id : quiet.cluster.member_ids()) {
    if (id != quiet.leader) follower = id;
  }
  const auto [ok, rounds] = quiet.ask_together(follower, linearizable_range());
  EXPECT_EQ(ok, kConcurrentClients);
  EXPECT_EQ(rounds, 2u);
}

// A round whose answer is lost (the follower's forwarded request, here: the path to the
// leader is cut) is issued again after two heartbeat intervals for every read still waiting,
// so they are answered once the path heals rather than failing at their deadline.
TEST(ReadIndexBatchingTest, ALostRoundIsIssuedAgain) {
  QuietCluster quiet;
  ASSERT_NE(quiet.leader, NodeId{});
  Cluster& cluster = quiet.cluster;
  World& world = cluster.world();
  NodeId follower;
  for (NodeId id : cluster.member_ids()) {
    if (id != quiet.leader) follower = id;
  }
  const uint64_t rounds_before = probe_hits(world, "member.read_round_issued");
  const uint64_t retries_before = probe_hits(world, "member.read_round_retried");
  // Cut briefly: shorter than an election timeout, so leadership stays where it is; healed
  // before the follower takes the round as lost, so the round issued then gets through.
  cluster.partition({{follower}, {quiet.leader}});
  bool answered = false;
  CallResult result;
  cluster.add_client("reader", ClientOptions{}, [&](ClusterClient& client) {
    result = client.call_member(follower, linearizable_range());
    answered = true;
  });
  const Duration heartbeat =
      cluster.config().member.tick_interval * cluster.config().member.heartbeat_interval_ticks;
  world.run_until([] { return false; }, world.now() + heartbeat * 3 / 2);
  cluster.heal();
  world.run_until([&] { return answered; }, world.now() + std::chrono::seconds(10));
  ASSERT_TRUE(answered);
  EXPECT_TRUE(result.ok()) << "the read was not answered after the path healed";
  EXPECT_GE(probe_hits(world, "member.read_round_retried") - retries_before, 1u);
  EXPECT_GE(probe_hits(world, "member.read_round_issued") - rounds_before, 2u);
}

}  // namespace
}  // namespace lockstep::sim
