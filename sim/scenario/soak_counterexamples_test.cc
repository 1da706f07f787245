// Counterexamples the cluster property soak found (LOCKSTEP_PROPERTY_SOAK, tests/property),
// replayed with their seeds. Each failed before the fix named with it and must pass now; the
// unit tests beside each fix pin the behaviour itself, these keep the whole run honest.
// (A code change may move a run off the exact interleaving that failed, so a pass here is
// necessary, not sufficient: see sim/cluster/lock_session_test.cc and watch_stream_test.cc.)
#include <gtest/gtest.h>

#include <string>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/scenario/scenario_test_support.h"

namespace lockstep::sim::scenario {
namespace {

using test_support::failures;

void expect_passes(const std::string& text, uint64_t seed) {
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
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":17,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":5,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1541,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.025,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":3,
    "type":"txn"},{"clients":3,
    "type":"watch"},{"clients":3,
    "type":"lock"}]})json",
                600556);
  // Three members, one watcher client and one lock client: watcher 0 created its watch on
  // the leader just as the leader crashed (watch and member gone), while a stray watch on
  // another member kept streaming: it stopped at revision 10 of 291.
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":5,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":3,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1329,
    "faults":[{"action":"network",
    "at_ms":101,
    "duration_ms":200,
    "loss":0.2,
    "target":"leader"},{"action":"crash",
    "at_ms":825,
    "duration_ms":200,
    "target":"leader"}],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.001,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"lock"},{"clients":1,
    "type":"watch"}]})json",
                176);
}

// No faults, 2.4% loss. A lock holder was still inside its hold (waiting on a call) when the
// run ended, so its hold had no end and a successor that acquired after the holder's lease had
// expired was reported as a mutual-exclusion violation. Fixed by sim/cluster/lock_session.
TEST(SoakCounterexamples, UnreleasedLockHoldEndsWithItsLease) {
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":6,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":4,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1675,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.024,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":2,
    "type":"kv"},{"clients":2,
    "type":"lock"},{"clients":2,
    "type":"txn"}]})json",
                435118);
  // The same, 0.7% loss, three lock clients.
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":8,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":5,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1749,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.007,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":3,
    "type":"kv"},{"clients":3,
    "type":"lock"}]})json",
                793375);
}

// One lock client, short runs (1.2-1.6 s before the heal, load until 3 s after), no
// faults, 1.4-2.2% loss: lost messages cost the lock client's calls a whole attempt timeout each
// (in the first case three of its first five calls: two grants and the key's create), its sessions
// were abandoned, load ended before one acquired, and the lock checks had nothing to judge
// ("nobody acquired the lock", unknown). Fixed in sim/cluster/lock_workload.cc: while nobody
// has acquired, sessions keep starting through the liveness phase.
TEST(SoakCounterexamples, ALockRunAcquiresAtLeastOnce) {
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":9,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":3,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1301,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.014,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"watch"},{"clients":1,
    "type":"kv"},{"clients":1,
    "type":"lock"}]})json",
                133681);
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":9,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":3,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1170,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.018,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"txn"},{"clients":1,
    "type":"lease"},{"clients":1,
    "type":"lock"}]})json",
                695433);
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":17,
    "heartbeat_interval_ticks":2,
    "max_append_bytes":1048576,
    "members":3,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1645,
    "faults":[],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.022,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"lease"},{"clients":1,
    "type":"kv"},{"clients":1,
    "type":"lock"}]})json",
                21327);
  // With a leader pause and a 20% loss window on the leader as well.
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":7,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":3,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":2098,
    "faults":[{"action":"pause",
    "at_ms":213,
    "duration_ms":200,
    "target":"leader"},{"action":"network",
    "at_ms":1141,
    "duration_ms":871,
    "loss":0.2,
    "target":"leader"}],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.023,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"lock"},{"clients":1,
    "type":"watch"},{"clients":1,
    "type":"lease"}]})json",
                344266);
}

// A follower paused 81-755 ms, 0.1% loss: the lease client's grant was answered about 670 ms
// after its send (by the timing, through the paused follower), while the leader's 1 s TTL
// ran from its apply. The workload counted the TTL from the answer, so the lease's expiry on
// time looked "gone 333 ms after a keep-alive". Fixed in sim/cluster/lease_workload.cc: the
// TTL is known only from the grant's send.
TEST(SoakCounterexamples, LeaseTtlCountsFromTheGrantsSend) {
  expect_passes(R"json({"cluster":{"backend":"sqlite",
    "election_timeout_ticks":5,
    "heartbeat_interval_ticks":1,
    "max_append_bytes":1048576,
    "members":4,
    "request_timeout_ms":1000,
    "snapshot_catch_up_entries":100,
    "snapshot_count":500,
    "tick_ms":10},
    "description":"A case of the RapidCheck cluster property (tests/property).",
    "disk":{"crash_mode":"torn",
    "latency_max_us":0,
    "latency_min_us":0},
    "duration_ms":1066,
    "faults":[{"action":"pause",
    "at_ms":81,
    "duration_ms":674,
    "target":"follower"}],
    "heal_ms":6000,
    "liveness_bound_ms":6000,
    "name":"property-counterexample",
    "network":{"duplicate":0.0,
    "jitter_mean_us":500,
    "latency_min_us":500,
    "loss":0.001,
    "reorder":0.0,
    "reorder_delay_max_us":5000},
    "workloads":[{"clients":1,
    "type":"kv"},{"clients":1,
    "type":"lease"},{"clients":1,
    "type":"lock"}]})json",
                261571);
}

// The leader partitioned 141-401 ms and paused 151-751 ms, then the new leader crashed
// 407-671 ms. A lease granted by the new leader was answered "not found" to a keep-alive:
// the old leader woke at 751 ms still believing it led and answered from its own lessor,
// which never saw the grant. Fixed in core/node/member.cc: keep-alive and time-to-live wait
// for a ReadIndex round (sim/cluster/deposed_leader_lease_test.cc pins the behaviour).
TEST(SoakCounterexamples, DeposedLeaderDoesNotAnswerKeepAlives) {
  expect_passes(
      R"json({"cluster":{"backend":"sqlite","election_timeout_ticks":5,"heartbeat_interval_ticks":1,"max_append_bytes":1048576,"members":3,"request_timeout_ms":1000,"snapshot_catch_up_entries":100,"snapshot_count":500,"tick_ms":10},"description":"A case of the RapidCheck cluster property (tests/property).","disk":{"crash_mode":"torn","latency_max_us":0,"latency_min_us":0},"duration_ms":1245,"faults":[{"action":"partition","at_ms":141,"duration_ms":260,"target":"leader"},{"action":"pause","at_ms":151,"duration_ms":600,"target":"leader"},{"action":"crash","at_ms":407,"duration_ms":264,"target":"leader"}],"heal_ms":6000,"liveness_bound_ms":6000,"name":"property-counterexample","network":{"duplicate":0.0,"jitter_mean_us":500,"latency_min_us":500,"loss":0.0,"reorder":0.0,"reorder_delay_max_us":5000},"workloads":[{"clients":1,"type":"watch"},{"clients":1,"type":"kv"},{"clients":1,"type":"lease"}]})json",
      99968);
}

}  // namespace
}  // namespace lockstep::sim::scenario
