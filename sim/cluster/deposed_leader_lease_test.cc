// A member that was leader, then paused and cut off from the others while they elected a
// new leader, still believes it leads when it wakes. Its lessor lacks the leases granted
// since, so answering a keep-alive or a time-to-live from it is a stale answer: "lease not
// found" for a live lease (found by the cluster property soak, seed 99968). It must confirm
// its leadership first (a ReadIndex round, thesis §6.4), which a deposed leader cannot.
#include <gtest/gtest.h>

#include <optional>

#include "sim/cluster/cluster.h"

namespace lockstep::sim {
namespace {

struct StaleAnswer {
  bool done = false;
  CallResult granted;
  CallResult from_deposed;
  CallResult from_new_leader;
};

template <typename Query>
StaleAnswer ask_a_deposed_leader(Query make_query) {
  ClusterConfig config;
  config.seed = 99968;
  config.member_count = 3;
  Cluster cluster(config);
  EXPECT_TRUE(cluster.boot().is_ok());
  World& world = cluster.world();
  const Instant give_up = world.now() + std::chrono::seconds(20);
  world.run_until([&] { return cluster.leader().has_value(); }, give_up);
  StaleAnswer answer;
  if (!cluster.leader()) {
    ADD_FAILURE() << "no leader was elected";
    return answer;
  }
  const NodeId old_leader = *cluster.leader();
  // Paused, it neither ticks nor hears the others, so it never learns it was deposed.
  cluster.pause(old_leader);
  cluster.isolate(old_leader);
  std::optional<NodeId> new_leader;
  world.run_until(
      [&] {
        for (NodeId id : cluster.member_ids()) {
          const node::Member* member = cluster.member(id);
          if (id != old_leader && member != nullptr && member->is_leader()) new_leader = id;
        }
        return new_leader.has_value();
      },
      give_up);
  if (!new_leader) {
    ADD_FAILURE() << "the other two members elected no leader";
    return answer;
  }

  bool asked_deposed = false;
  cluster.add_client("lease-client", ClientOptions{}, [&](ClusterClient& client) {
    mvcc::LeaseGrantRequest grant;
    grant.ttl_seconds = 30;
    answer.granted = client.call_member(*new_leader, grant);
    if (!answer.granted.ok()) {
      answer.done = true;
      return;
    }
    const LeaseId lease = answer.granted.as<mvcc::LeaseGrantResponse>().id;
    asked_deposed = true;
    answer.from_deposed = client.call_member(old_leader, make_query(lease));
    answer.from_new_leader = client.call_member(*new_leader, make_query(lease));
    answer.done = true;
  });
  world.run_until([&] { return asked_deposed; }, give_up);
  // Let the request reach the paused member, then wake it, still cut off from the others.
  world.run_until([] { return false; }, world.now() + std::chrono::milliseconds(50));
  cluster.resume(old_leader);
  world.run_until([&] { return answer.done; }, give_up);
  EXPECT_TRUE(answer.done) << "the client did not finish";
  return answer;
}

void expect_no_stale_answer(const StaleAnswer& answer) {
  ASSERT_TRUE(answer.granted.ok()) << "the new leader granted no lease";
  EXPECT_FALSE(answer.from_deposed.ok()) << "a deposed leader answered from its own lessor";
  EXPECT_NE(answer.from_deposed.error, ErrorCode::kLeaseNotFound)
      << "a deposed leader said a live lease does not exist";
  EXPECT_TRUE(answer.from_new_leader.ok()) << "the new leader lost the lease";
}

TEST(DeposedLeaderLeaseTest, KeepAliveIsNotAnsweredFromAStaleLessor) {
  expect_no_stale_answer(
      ask_a_deposed_leader([](LeaseId lease) { return mvcc::LeaseKeepAliveRequest{lease}; }));
}

TEST(DeposedLeaderLeaseTest, TimeToLiveIsNotAnsweredFromAStaleLessor) {
  expect_no_stale_answer(ask_a_deposed_leader([](LeaseId lease) {
    mvcc::LeaseTimeToLiveRequest query;
    query.id = lease;
    return query;
  }));
}

}  // namespace
}  // namespace lockstep::sim
