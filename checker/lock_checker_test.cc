#include "checker/lock_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lockstep::checker {
namespace {

LockHold hold(int64_t client, int64_t acquired, std::optional<int64_t> released, int64_t revision) {
  return LockHold{client, "L", acquired - 2, acquired, revision, released, std::nullopt};
}
FencedWrite write(int64_t client, int64_t at, int64_t revision, bool accepted = true) {
  return FencedWrite{client, "L", at, at + 1, revision, accepted, false};
}

void expect_first(const LockCheckResult& result, LockGuarantee guarantee,
                  const std::string& message_part) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.violations.front().guarantee, guarantee) << result.violations.front().message;
  EXPECT_NE(result.violations.front().message.find(message_part), std::string::npos)
      << result.violations.front().message;
}

// Client 1 holds 10..20, client 2 waits and holds 20..30 (a release and an acquire at the
// same instant do not overlap), client 3 holds from 40 to the end of the history.
TEST(LockCheckerTest, SuccessiveFencedHoldersPass) {
  const std::vector<LockHold> holds = {hold(1, 10, 20, 5), hold(2, 20, 30, 6),
                                       hold(3, 40, std::nullopt, 9)};
  const std::vector<FencedWrite> writes = {write(1, 12, 5), write(2, 25, 6), write(3, 41, 9),
                                           write(1, 45, 5, /*accepted=*/false)};
  const auto result = check_locks(holds, writes);
  EXPECT_TRUE(result.ok()) << result.violations.front().message;
}

TEST(LockCheckerTest, TwoHoldersAtOnceAreCaught) {
  const auto result = check_locks({hold(1, 10, 20, 5), hold(2, 15, 30, 6)}, {});
  expect_first(result, LockGuarantee::kMutualExclusion,
               "client 2 (key revision 6, held 15..30) acquired while client 1 (key revision 5, "
               "held 10..20) still held it");
}

TEST(LockCheckerTest, AnIndeterminateReleaseStillEndsTheHoldAtItsInvoke) {
  // Client 1's release at 20 timed out; it stopped using the lock then. Client 2 acquiring
  // at 25 is fine (etcd expired the key or applied the delete).
  EXPECT_TRUE(check_locks({hold(1, 10, 20, 5), hold(2, 25, 30, 6)}, {}).ok());
}

TEST(LockCheckerTest, ALostLeaseExcusesTheOverlapButNotAStaleWrite) {
  LockHold paused = hold(1, 10, 50, 5);
  paused.lease_lost_time = 18;  // the client learned at 18 that its session had expired
  const LockHold next = hold(2, 20, 40, 7);
  EXPECT_TRUE(check_locks({paused, next}, {write(1, 15, 5), write(2, 22, 7)}).ok());

  // Without the lost lease, the same two holds overlap.
  expect_first(check_locks({hold(1, 10, 50, 5), next}, {}), LockGuarantee::kMutualExclusion,
               "still held it");

  // The paused client's write with token 5 lands after client 2 acquired with token 7.
  expect_first(check_locks({paused, next}, {write(1, 30, 5)}), LockGuarantee::kFencing,
               "write by client 1 at 30 fenced with revision 5 was accepted after client 2 (key "
               "revision 7");
}

TEST(LockCheckerTest, AWriteMustCarryItsHoldersRevision) {
  expect_first(check_locks({hold(1, 10, 20, 5)}, {write(1, 12, 4)}), LockGuarantee::kFencing,
               "uses a revision that client had not acquired");
}

TEST(LockCheckerTest, HoldersMustBeServedInRevisionOrder) {
  expect_first(check_locks({hold(1, 10, 20, 8), hold(2, 25, 30, 6)}, {}),
               LockGuarantee::kGrantOrder, "with an ownership key that is not newer");
}

}  // namespace
}  // namespace lockstep::checker
