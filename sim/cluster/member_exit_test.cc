// Members that stop on their own: a storage failure ends the member's process (etcd exits on a
// failed WAL fsync or backend commit), a restart recovers it from its disk, and clients move
// on from a member that no longer answers (it died, or was removed from the cluster).
#include <gtest/gtest.h>

#include <optional>

#include "sim/cluster/cluster.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

ClusterConfig config_for(uint64_t seed, int members) {
  ClusterConfig config;
  config.seed = seed;
  config.member_count = members;
  return config;
}

std::optional<NodeId> wait_for_leader(Cluster& cluster, Duration within) {
  World& world = cluster.world();
  world.run_until([&] { return cluster.leader().has_value(); }, world.now() + within);
  return cluster.leader();
}

// A client that puts keys one after another until the run ends, counting the acknowledged
// ones and the virtual time of the last.
struct Writer {
  int acknowledged = 0;
  Instant last_acknowledged;

  void start(Cluster& cluster, const std::string& name) {
    ClientOptions options;
    cluster.add_client(name, options, [this, &cluster](ClusterClient& client) {
      for (int i = 0;; ++i) {
        mvcc::PutRequest put;
        put.key = "k" + std::to_string(i % 16);
        put.value = std::to_string(i);
        if (client.call(put).ok()) {
          ++acknowledged;
          last_acknowledged = cluster.world().now();
        }
      }
    });
  }
};

bool revisions_agree(const Cluster& cluster) {
  std::optional<Revision> revision;
  for (NodeId id : cluster.member_ids()) {
    const node::Member* member = cluster.member(id);
    if (member == nullptr) return false;
    if (revision && member->current_revision() != *revision) return false;
    revision = member->current_revision();
  }
  return true;
}

// fsyncgate: after a failed fsync the member cannot know what its disk holds, so it must not
// go on (nor retry the fsync, which would report success for pages the kernel dropped). Its
// process dies, and a restart recovers it from what is durable.
TEST(MemberExitTest, AFailedFsyncEndsTheMembersProcessAndARestartRecoversIt) {
  Writer writer;  // outlives the cluster, whose client fibers use it
  Cluster cluster(config_for(3, 3));
  ASSERT_TRUE(cluster.boot().is_ok());
  World& world = cluster.world();
  const std::optional<NodeId> leader = wait_for_leader(cluster, seconds(2));
  ASSERT_TRUE(leader.has_value());
  writer.start(cluster, "writer");
  world.run_for(milliseconds(300));
  ASSERT_GT(writer.acknowledged, 0);

  world.disk_faults(*leader).fail_next_syncs = 1;
  world.run_for(milliseconds(500));
  EXPECT_EQ(world.state(*leader), ProcessState::kCrashed) << "the member went on after EIO";
  EXPECT_TRUE(cluster.failed(*leader));
  ASSERT_FALSE(cluster.member_exits().empty());

  // The others elect a leader and keep acknowledging writes meanwhile.
  const int before = writer.acknowledged;
  world.run_for(seconds(2));
  EXPECT_GT(writer.acknowledged, before);

  ASSERT_TRUE(cluster.restart(*leader).is_ok());
  EXPECT_FALSE(cluster.failed(*leader));
  world.run_for(seconds(2));
  EXPECT_EQ(world.state(*leader), ProcessState::kRunning);
  ASSERT_NE(cluster.member(*leader), nullptr) << "the restarted member did not boot";
  EXPECT_TRUE(world.run_until([&] { return revisions_agree(cluster); }, world.now() + seconds(5)))
      << "the restarted member did not catch up";
  EXPECT_TRUE(cluster.safety().ok());
}

// A full disk (ENOSPC) ends the member the same way; once space is free again it restarts
// and catches up, and nothing it had acknowledged is lost or corrupt.
TEST(MemberExitTest, AFullDiskEndsTheMemberAndItCatchesUpOnceSpaceIsFree) {
  Writer writer;  // outlives the cluster, whose client fibers use it
  Cluster cluster(config_for(5, 3));
  ASSERT_TRUE(cluster.boot().is_ok());
  World& world = cluster.world();
  const std::optional<NodeId> leader = wait_for_leader(cluster, seconds(2));
  ASSERT_TRUE(leader.has_value());
  writer.start(cluster, "writer");
  world.run_for(milliseconds(300));

  world.disk_faults(*leader).capacity_bytes = world.disk(*leader).used_bytes() + 1024;
  world.run_for(seconds(1));
  EXPECT_EQ(world.state(*leader), ProcessState::kCrashed);
  EXPECT_TRUE(cluster.failed(*leader));

  world.disk_faults(*leader).capacity_bytes = kDefaultDiskCapacityBytes;
  ASSERT_TRUE(cluster.restart(*leader).is_ok());
  world.run_for(seconds(2));
  ASSERT_NE(cluster.member(*leader), nullptr) << "the member did not boot from its disk";
  EXPECT_TRUE(world.run_until([&] { return revisions_agree(cluster); }, world.now() + seconds(5)));
  EXPECT_TRUE(cluster.safety().ok());
}

// etcd's MemberRemove of the leader: it steps down and stops once its removal applies. A
// client that was talking to it must find the new leader; one that kept sending to the
// silent member would never write again.
TEST(MemberExitTest, WritesGoOnAfterTheLeaderIsRemoved) {
  Writer writer;  // outlives the cluster, whose client fibers use it
  bool removed = false;
  Cluster cluster(config_for(11, 5));
  ASSERT_TRUE(cluster.boot().is_ok());
  World& world = cluster.world();
  const std::optional<NodeId> leader = wait_for_leader(cluster, seconds(2));
  ASSERT_TRUE(leader.has_value());
  writer.start(cluster, "writer");
  world.run_for(milliseconds(300));

  cluster.add_client("operator", ClientOptions{}, [&](ClusterClient& client) {
    node::MemberRemoveRequest remove;
    remove.id = *leader;
    removed = client.call(remove).ok();
  });
  world.run_for(seconds(2));
  ASSERT_TRUE(removed);
  EXPECT_EQ(cluster.member(*leader), nullptr) << "the removed leader did not stop";
  EXPECT_FALSE(cluster.failed(*leader)) << "a removal is not a failure";

  const int before = writer.acknowledged;
  world.run_for(seconds(4));
  EXPECT_GT(writer.acknowledged, before + 10) << "the writer is stuck on the removed member";
  const std::optional<NodeId> new_leader = cluster.leader();
  ASSERT_TRUE(new_leader.has_value());
  EXPECT_NE(*new_leader, *leader);
  EXPECT_TRUE(cluster.safety().ok());
}

}  // namespace
}  // namespace lockstep::sim
