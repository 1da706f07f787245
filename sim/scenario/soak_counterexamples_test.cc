// Counterexamples the cluster property soak found (LOCKSTEP_PROPERTY_SOAK, tests/property),
// replayed with their seeds. Each failed before the fix named with it and must pass now; the
// unit tests beside each fix pin the behaviour itself, these keep the whole run honest.
// (A code change may move a run off the exact interleaving that failed, so a pass here is
// necessary, not sufficient: see sim/cluster/lock_session_test.cc and watch_stream_test.cc.)
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/scenario/scenario_test_support.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;

// Each counterexample is the scenario file the property printed, kept under testdata/soak.
void expect_passes(const std::string& file_name, uint64_t seed) {
  std::ifstream file(std::string(LOCKSTEP_SOAK_COUNTEREXAMPLES_DIR) + "/" + file_name);
  ASSERT_TRUE(file) << "cannot open " << file_name;
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  Result<Scenario> scenario = parse_scenario(text);
  ASSERT_TRUE(scenario.is_ok()) << scenario.error().to_string();
  Result<ScenarioResult> result = run_scenario(*scenario, seed);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_TRUE(result->passed()) << "seed " << seed << "\n" << failures(*result);
}

// No faults, 2.5% loss. Watcher 0's cancel of a broken watch was lost, so the member kept
// streaming that watch; the first message of the watch created next was lost too, and the
// member never sent that watch anything again (a compaction cancel by every sign: it was
// gone). The stray's messages counted as life, so the watcher never re-created its watch:
// "watch: no gaps, caught up" failed (stopped at revision 48 of 90). Fixed by
// sim/cluster/watch_stream.
TEST(SoakCounterexamples, WatcherIsNotKeptAliveByAStrayWatch) {
  expect_passes("seed600556.json", 600556);
  // Three members, one watcher client and one lock client: watcher 0 created its watch on
  // the leader just as the leader crashed (watch and member gone), while a stray watch on
  // another member kept streaming: it stopped at revision 10 of 291.
  expect_passes("seed176.json", 176);
}

// No faults, 2.4% loss. A lock holder was still inside its hold (waiting on a call) when the
// run ended, so its hold had no end and a successor that acquired after the holder's lease had
// expired was reported as a mutual-exclusion violation. Fixed by sim/cluster/lock_session.
TEST(SoakCounterexamples, UnreleasedLockHoldEndsWithItsLease) {
  expect_passes("seed435118.json", 435118);
  // The same, 0.7% loss, three lock clients.
  expect_passes("seed793375.json", 793375);
}

// One lock client, short runs (1.2-1.6 s before the heal, load until 3 s after), no
// faults, 1.4-2.2% loss: lost messages cost the lock client's calls a whole attempt timeout each
// (in the first case three of its first five calls: two grants and the key's create), its sessions
// were abandoned, load ended before one acquired, and the lock checks had nothing to judge
// ("nobody acquired the lock", unknown). Fixed in sim/cluster/lock_workload.cc: while nobody
// has acquired, sessions keep starting through the liveness phase.
TEST(SoakCounterexamples, ALockRunAcquiresAtLeastOnce) {
  expect_passes("seed133681.json", 133681);
  expect_passes("seed695433.json", 695433);
  expect_passes("seed21327.json", 21327);
  // With a leader pause and a 20% loss window on the leader as well.
  expect_passes("seed344266.json", 344266);
}

// A follower paused 81-755 ms, 0.1% loss: the lease client's grant was answered about 670 ms
// after its send (by the timing, through the paused follower), while the leader's 1 s TTL
// ran from its apply. The workload counted the TTL from the answer, so the lease's expiry on
// time looked "gone 333 ms after a keep-alive". Fixed in sim/cluster/lease_workload.cc: the
// TTL is known only from the grant's send.
TEST(SoakCounterexamples, LeaseTtlCountsFromTheGrantsSend) {
  expect_passes("seed261571.json", 261571);
}

// The leader partitioned 141-401 ms and paused 151-751 ms, then the new leader crashed
// 407-671 ms. A lease granted by the new leader was answered "not found" to a keep-alive:
// the old leader woke at 751 ms still believing it led and answered from its own lessor,
// which never saw the grant. Fixed in core/node/member.cc: keep-alive and time-to-live wait
// for a ReadIndex round (sim/cluster/deposed_leader_lease_test.cc pins the behaviour).
TEST(SoakCounterexamples, DeposedLeaderDoesNotAnswerKeepAlives) {
  expect_passes("seed99968.json", 99968);
}

// Found with member request timeouts of 150-1000 ms (tests/property): the leader crashed with
// the put watch/2=w2 in flight (indeterminate), which committed at revision 3; a compaction at
// 9 then cancelled both watchers' resumed watches, so no watcher saw revision 3. The recorder
// took the unseen put as not committed, and the delete at 11, whose prev_kv named w2, failed
// "watch: prev_kv: given, but the key did not exist before". Not a store bug: the recorder now
// settles a put from a later event's prev_kv (sim/cluster/history_recorder.cc;
// WatchGuaranteeChecks.APutOnlyNamedByALaterPrevKvWasCommitted pins it).
TEST(SoakCounterexamples, APutHiddenByCompactionIsSettledByPrevKv) {
  expect_passes("seed343464.json", 343464);
}

}  // namespace
}  // namespace lockstep::sim::scenario
