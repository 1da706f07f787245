// LockSession records how long a lock client may rely on its hold. Each case records a
// client's session the way the lock workload does and hands the holds to the lock checker:
// a holder that never got to release must not look like it held the lock forever, yet a
// successor inside the holder's lease window must still be caught.
#include "sim/cluster/lock_session.h"

#include <gtest/gtest.h>

#include "checker/lock_checker.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kTtl = seconds(2);

Instant at_ms(int64_t ms) {
  return Instant(milliseconds(ms));
}

checker::LockCheckResult check(const HistoryRecorder& recorder) {
  return checker::check_locks(recorder.lock_holds(), recorder.fenced_writes());
}

bool mutual_exclusion_violated(const checker::LockCheckResult& result) {
  for (const checker::LockViolation& violation : result.violations) {
    if (violation.guarantee == checker::LockGuarantee::kMutualExclusion) return true;
  }
  return false;
}

// Client 2 acquires at `successor_ms` with a newer ownership key and releases 100 ms later.
void successor_acquires(HistoryRecorder& recorder, int64_t successor_ms) {
  LockSession successor(recorder, 2, kTtl);
  successor.granting(at_ms(successor_ms - 50));
  successor.acquired("lock/", at_ms(successor_ms - 40), at_ms(successor_ms), 20);
  successor.releasing(at_ms(successor_ms + 100));
}

// Client 1 grants at 1000 ms, acquires at 1100 ms, renews at 1500 ms, then the run ends while
// it waits on its next call: no release, no known loss. Its lease cannot outlive 3500 ms.
void holder_never_releases(HistoryRecorder& recorder) {
  LockSession holder(recorder, 1, kTtl);
  holder.granting(at_ms(1000));
  holder.acquired("lock/", at_ms(1010), at_ms(1100), 10);
  holder.renewed(at_ms(1500));
  EXPECT_EQ(holder.valid_until(), at_ms(3500));
}

TEST(LockSessionTest, AnUnreleasedHoldEndsWhenItsLeaseMayHaveExpired) {
  HistoryRecorder recorder(RevisionRecording::kValuesOnly);
  holder_never_releases(recorder);
  ASSERT_EQ(recorder.lock_holds().size(), 1U);
  EXPECT_FALSE(recorder.lock_holds()[0].release_invoke.has_value());
  EXPECT_EQ(recorder.lock_holds()[0].lease_lost_time, at_ms(3500).nanoseconds());
  successor_acquires(recorder, 3600);
  const checker::LockCheckResult result = check(recorder);
  EXPECT_TRUE(result.ok()) << result.violations.front().message;
}

TEST(LockSessionTest, ASuccessorInsideTheLeaseWindowStillViolatesMutualExclusion) {
  HistoryRecorder recorder(RevisionRecording::kValuesOnly);
  holder_never_releases(recorder);
  // After the grant's window (3000 ms) but inside the renewal's (3500 ms).
  successor_acquires(recorder, 3200);
  EXPECT_TRUE(mutual_exclusion_violated(check(recorder)));
}

TEST(LockSessionTest, AReleaseEndsTheHoldBeforeTheLeaseDeadline) {
  HistoryRecorder recorder(RevisionRecording::kValuesOnly);
  LockSession holder(recorder, 1, kTtl);
  holder.granting(at_ms(1000));
  holder.acquired("lock/", at_ms(1010), at_ms(1100), 10);
  holder.releasing(at_ms(1200));
  successor_acquires(recorder, 1300);
  EXPECT_TRUE(check(recorder).ok());
  // A renewal of the next session does not reopen the released hold.
  holder.granting(at_ms(1400));
  holder.renewed(at_ms(1800));
  EXPECT_EQ(recorder.lock_holds()[0].lease_lost_time, at_ms(3000).nanoseconds());
}

TEST(LockSessionTest, AKnownLossIsNotUndoneByALaterRenewal) {
  HistoryRecorder recorder(RevisionRecording::kValuesOnly);
  LockSession holder(recorder, 1, kTtl);
  holder.granting(at_ms(1000));
  holder.acquired("lock/", at_ms(1010), at_ms(1100), 10);
  holder.lost(at_ms(1200));  // a fenced write was refused: the key is gone
  holder.renewed(at_ms(1250));
  EXPECT_EQ(recorder.lock_holds()[0].lease_lost_time, at_ms(1200).nanoseconds());
  successor_acquires(recorder, 1300);
  EXPECT_TRUE(check(recorder).ok());
}

}  // namespace
}  // namespace lockstep::sim
