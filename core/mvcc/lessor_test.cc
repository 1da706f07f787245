#include "core/mvcc/lessor.h"

#include <gtest/gtest.h>

#include "core/mvcc/test_harness.h"

namespace lockstep::mvcc {
namespace {

using namespace std::chrono_literals;
using testing::Harness;

Instant at_seconds(int64_t seconds) {
  return Instant(std::chrono::seconds(seconds));
}

TEST(LessorTest, GrantRaisesTtlToMinimumAndRefusesBadIds) {
  Harness h(StateMachineOptions{.lessor = {.min_ttl_seconds = 5}});
  auto granted =
      h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 1, .id = LeaseId(1)});
  EXPECT_EQ(granted.ttl_seconds, 5);  // etcd: TTL below the minimum is raised
  EXPECT_EQ(granted.id, LeaseId(1));
  EXPECT_EQ(h.apply_error(LeaseGrantRequest{.ttl_seconds = 10, .id = LeaseId(1)}),
            ErrorCode::kLeaseExists);
  EXPECT_EQ(h.apply_error(LeaseGrantRequest{.ttl_seconds = 10, .id = kNoLease}),
            ErrorCode::kLeaseNotFound);
  EXPECT_EQ(h.apply_error(LeaseGrantRequest{.ttl_seconds = limits::kMaxLeaseTtlSeconds + 1,
                                            .id = LeaseId(2)}),
            ErrorCode::kLeaseTtlTooLarge);
}

TEST(LessorTest, RevokeDeletesAllAttachedKeysInOneRevision) {
  Harness h;
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(3)});
  h.put("b", "1", LeaseId(3));  // 2
  h.put("a", "1", LeaseId(3));  // 3
  h.put("c", "1");              // 4
  auto revoked = h.apply_ok<LeaseRevokeResponse>(LeaseRevokeRequest{.id = LeaseId(3)});
  EXPECT_EQ(revoked.header.revision, Revision(5));
  EXPECT_TRUE(h.get("a").kvs.empty());
  EXPECT_TRUE(h.get("b").kvs.empty());
  EXPECT_EQ(h.get("c").kvs.size(), 1u);
  EXPECT_FALSE(h.machine().lessor().exists(LeaseId(3)));
  EXPECT_EQ(h.apply_error(LeaseRevokeRequest{.id = LeaseId(3)}), ErrorCode::kLeaseNotFound);
}

TEST(LessorTest, RevokeWithoutKeysDoesNotBumpTheRevision) {
  Harness h;
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(3)});
  h.apply_ok<LeaseRevokeResponse>(LeaseRevokeRequest{.id = LeaseId(3)});
  EXPECT_EQ(h.machine().current_revision(), Revision(1));
}

TEST(LessorTest, PutMovesAKeyBetweenLeasesAndDeleteDetaches) {
  Harness h;
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(1)});
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(2)});
  h.put("k", "v", LeaseId(1));
  h.put("k", "v", LeaseId(2));
  EXPECT_TRUE(h.machine().lessor().keys_of(LeaseId(1)).empty());
  EXPECT_EQ(h.machine().lessor().keys_of(LeaseId(2)), std::vector<std::string>({"k"}));
  h.put("k", "v");  // a put without a lease detaches (etcd storeTxnWrite.put)
  EXPECT_TRUE(h.machine().lessor().keys_of(LeaseId(2)).empty());
  h.put("j", "v", LeaseId(1));
  h.del("j");
  EXPECT_TRUE(h.machine().lessor().keys_of(LeaseId(1)).empty());
  // Revoking lease 1 now deletes nothing.
  h.apply_ok<LeaseRevokeResponse>(LeaseRevokeRequest{.id = LeaseId(1)});
  EXPECT_EQ(h.get("k").kvs.size(), 1u);
}

TEST(LessorTest, FollowersNeverExpireLeases) {
  Lessor lessor;
  WriteBatch batch;
  ASSERT_TRUE(lessor.grant(LeaseId(1), 5, batch).is_ok());
  EXPECT_TRUE(lessor.take_expired(at_seconds(1'000'000), 10).empty());
  EXPECT_EQ(lessor.renew(LeaseId(1), at_seconds(0)).code(), ErrorCode::kNotLeader);
}

TEST(LessorTest, PrimaryReportsExpiryFromTheCallersClockOnly) {
  Lessor lessor;
  WriteBatch batch;
  lessor.promote(at_seconds(100), 0s);
  ASSERT_TRUE(lessor.grant(LeaseId(1), 10, batch).is_ok());  // expires at 110
  ASSERT_TRUE(lessor.grant(LeaseId(2), 5, batch).is_ok());   // expires at 105
  EXPECT_TRUE(lessor.take_expired(at_seconds(104), 10).empty());
  EXPECT_EQ(lessor.take_expired(at_seconds(110), 10),
            std::vector<LeaseId>({LeaseId(2), LeaseId(1)}));  // earliest deadline first
  // Reported leases are not reported again until the retry interval passed (etcd
  // expiredLeaseRetryInterval), so the leader does not flood Raft with revokes.
  EXPECT_TRUE(lessor.take_expired(at_seconds(111), 10).empty());
  EXPECT_EQ(lessor.take_expired(at_seconds(113), 1).size(), 1u);
}

TEST(LessorTest, KeepAliveRenewsToFullTtl) {
  Lessor lessor;
  WriteBatch batch;
  lessor.promote(at_seconds(0), 0s);
  ASSERT_TRUE(lessor.grant(LeaseId(1), 10, batch).is_ok());
  auto renewal = lessor.renew(LeaseId(1), at_seconds(8));
  ASSERT_TRUE(renewal.is_ok());
  EXPECT_EQ(renewal->ttl_seconds, 10);
  EXPECT_TRUE(lessor.take_expired(at_seconds(17), 10).empty());
  EXPECT_EQ(lessor.time_to_live(LeaseId(1), false, at_seconds(15))->ttl_seconds, 3);
  EXPECT_EQ(lessor.take_expired(at_seconds(18), 10).size(), 1u);
  // An expired lease cannot be kept alive: its revoke is on its way (etcd Renew).
  EXPECT_EQ(lessor.renew(LeaseId(1), at_seconds(18)).code(), ErrorCode::kLeaseNotFound);
  EXPECT_EQ(lessor.time_to_live(LeaseId(1), false, at_seconds(18))->ttl_seconds, -1);
  EXPECT_EQ(lessor.renew(LeaseId(9), at_seconds(1)).code(), ErrorCode::kLeaseNotFound);
}

TEST(LessorTest, PromoteExtendsEveryDeadline) {
  Lessor lessor;
  WriteBatch batch;
  ASSERT_TRUE(lessor.grant(LeaseId(1), 10, batch).is_ok());
  // A new leader at t=1000 with a 2 s extension (etcd Promote(extend)): full TTL again.
  lessor.promote(at_seconds(1000), 2s);
  EXPECT_TRUE(lessor.take_expired(at_seconds(1011), 10).empty());
  EXPECT_EQ(lessor.take_expired(at_seconds(1012), 10).size(), 1u);
  lessor.demote();
  EXPECT_TRUE(lessor.take_expired(at_seconds(5000), 10).empty());
}

TEST(LessorTest, CheckpointedRemainingTtlSurvivesFailover) {
  Harness h;
  h.machine().lessor().promote(at_seconds(0), 0s);
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 100, .id = LeaseId(1)});
  h.apply_ok<LeaseCheckpointResponse>(LeaseCheckpointRequest{
      .checkpoints = {LeaseCheckpoint{.id = LeaseId(1), .remaining_ttl_seconds = 20}}});
  h.reboot();  // the checkpoint is persisted with the lease
  h.machine().lessor().promote(at_seconds(500), 1s);
  EXPECT_TRUE(h.machine().lessor().take_expired(at_seconds(520), 10).empty());
  EXPECT_EQ(h.machine().lessor().take_expired(at_seconds(521), 10).size(), 1u);
  auto ttl = h.machine().lessor().time_to_live(LeaseId(1), false, at_seconds(500));
  EXPECT_EQ(ttl->granted_ttl_seconds, 100);
}

TEST(LessorTest, LeaderThatRebuildsKeepsExpiringLeases) {
  MemoryBackend backend;
  Lessor lessor;
  lessor.promote(at_seconds(0), 0s);
  WriteBatch batch;
  batch.consistent_index = LogIndex(1);
  ASSERT_TRUE(lessor.grant(LeaseId(1), 10, batch).is_ok());
  ASSERT_TRUE(backend.commit(batch).is_ok());
  lessor.advance_clock(at_seconds(5));
  ASSERT_TRUE(lessor.restore(backend).is_ok());
  EXPECT_TRUE(lessor.is_primary());
  EXPECT_TRUE(lessor.take_expired(at_seconds(14), 10).empty());  // fresh deadline: 5 + 10
  EXPECT_EQ(lessor.take_expired(at_seconds(15), 10), std::vector<LeaseId>({LeaseId(1)}));
}

TEST(LessorTest, TimeToLiveListsKeysAndLeasesListsIds) {
  Harness h;
  h.machine().lessor().promote(at_seconds(0), 0s);
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 30, .id = LeaseId(4)});
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 30, .id = LeaseId(2)});
  h.put("y", "1", LeaseId(4));
  h.put("x", "1", LeaseId(4));
  auto ttl = h.machine().lessor().time_to_live(LeaseId(4), true, at_seconds(10));
  ASSERT_TRUE(ttl.is_ok());
  EXPECT_EQ(ttl->ttl_seconds, 20);
  EXPECT_EQ(ttl->granted_ttl_seconds, 30);
  EXPECT_EQ(ttl->keys, std::vector<std::string>({"x", "y"}));
  EXPECT_EQ(h.machine().lessor().time_to_live(LeaseId(99), false, at_seconds(1)).code(),
            ErrorCode::kLeaseNotFound);
  LeaseLeasesResponse leases = h.machine().leases();
  ASSERT_EQ(leases.leases.size(), 2u);
  EXPECT_EQ(leases.leases[0].id, LeaseId(2));
}

TEST(LessorTest, TakeCheckpointsReportsRemainingTtlPeriodically) {
  Lessor lessor(LessorOptions{.checkpoint_interval = 60s});
  WriteBatch batch;
  lessor.promote(at_seconds(0), 0s);
  ASSERT_TRUE(lessor.grant(LeaseId(1), 300, batch).is_ok());
  EXPECT_TRUE(lessor.take_checkpoints(at_seconds(59), 10).empty());
  auto checkpoints = lessor.take_checkpoints(at_seconds(60), 10);
  ASSERT_EQ(checkpoints.size(), 1u);
  EXPECT_EQ(checkpoints[0].remaining_ttl_seconds, 240);
  EXPECT_TRUE(lessor.take_checkpoints(at_seconds(61), 10).empty());
}

}  // namespace
}  // namespace lockstep::mvcc
