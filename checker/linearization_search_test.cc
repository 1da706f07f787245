// Regression tests for the search's candidate order, on histories our own simulator produced
// (trimmed to their first operations, which still hold the hard part). Step budgets, never
// times: a budget the search used to exhaust and now meets with a wide margin.
#include "checker/linearization_search.h"

#include <gtest/gtest.h>

#include <string>

#include "checker/etcd_model.h"
#include "checker/history_format.h"
#include "checker/linearizability.h"

namespace lockstep::checker {
namespace {

const std::string kTestData = std::string(CHECKER_TESTDATA_DIR) + "/";

Result<CheckResult> check_file(const std::string& name, uint64_t max_steps, bool partition = true) {
  Result<History> history = read_history_file(kTestData + name);
  EXPECT_TRUE(history.is_ok()) << history.error().to_string();
  CheckOptions options;
  options.max_steps = max_steps;
  options.partition = partition;
  return check_linearizability(*history, EtcdModel(), options);
}

// `lockstep sim run scenarios/paused_leader_gc_stall.json --seed 1`, first 1399 operations:
// eight puts time out while the leader is paused and do take effect (later deletes count
// their keys), though no read ever returns their values. Trying the pending indeterminate
// operations after the determinate candidates, the search reached dead ends far past where
// those puts belong and refuted each by visiting every order of the eight puts (each order
// another set of mod revisions): on the whole run it answered `unknown` after 8.8 M steps,
// where the search before the candidate-order change needed 35,752. Now: about 7,600.
TEST(LinearizationSearchTest, TimedOutPutsOfAPausedLeaderAreFoundWithinAModestBudget) {
  Result<CheckResult> result = check_file("paused_leader_gc_stall_seed1.jsonl", 50'000);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
  EXPECT_LT(result->steps, 50'000u);
}

// `lockstep sim run scenarios/flapping_partitions.json --seed 3`, first 1469 operations
// (responses without their kvs and default `succeeded`, to keep the file small; every
// operation still reports its revision): nine writes time out across the partitions. Where
// pending timed-out writes pushed the revision past what a pending operation reports, the
// search refuted the configuration only after trying every order of the remaining ones:
// 904,400 steps for this prefix, and the whole run answered `unknown` after 15.6 M. The model
// now says such a configuration is dead (revisions never go back): about 7,400 steps.
TEST(LinearizationSearchTest, WritesTimedOutAcrossFlappingPartitionsAreFoundWithinAModestBudget) {
  Result<CheckResult> result = check_file("flapping_partitions_seed3.jsonl", 50'000);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
  EXPECT_LT(result->steps, 50'000u);
}

// The cluster property's soak (LOCKSTEP_PROPERTY_SOAK=400, RC_PARAMS seed
// 12444116525050895127) drew this case: 4 members, txn + lease + kv workloads with 3 clients
// each, 0.6% loss and no faults; the whole run's history.jsonl, 901 operations, eleven of them
// timed-out writes (puts, deletes and txns on nine keys). With the lease workload running the
// simulator records values only (expiry deletes keys under revisions nobody asked for), but
// the txn workload creates its keys with `if version == 0`, and that compare made the model
// keep every revision: each order of the pending timed-out writes left other mod revisions,
// and the search answered `unknown` after 12.6 M steps (the memo's 1 GiB was spent). Now the
// model keeps versions only (3,581 steps unsplit), and with no revision observed the keys are
// checked apart (14 parts, 1,346 steps in all).
TEST(LinearizationSearchTest, TimedOutWritesOfATxnAndLeaseRunAreFoundWithinAModestBudget) {
  for (const bool partition : {true, false}) {
    Result<CheckResult> result =
        check_file("property_txn_lease_kv_seed138236.jsonl", 50'000, partition);
    ASSERT_TRUE(result.is_ok()) << result.error().to_string();
    EXPECT_EQ(result->verdict, Verdict::kLinearizable) << partition;
    EXPECT_LT(result->steps, 50'000u) << partition;
    EXPECT_EQ(result->partitions.size(), partition ? 14u : 1u);
  }
}

// A swarm run with every revision observed: scenarios/swarm_mixed_faults.json with 8 kv and 6
// txn clients and "duration_ms": 5000, seed 13 (the whole history.jsonl, without the default
// `"succeeded":true` fields, to keep the file small). Nineteen writes time out; a determinate
// write reports every revision from 2 to 592 but 155, 580 and 586, so only three of them can
// have taken effect, there. The search used to try each timed-out write in every gap between
// reads, each placement refuted only by the next write's revision: 68,175 steps. An
// indeterminate write may no longer create a revision a determinate write reports: 3,698. (The same
// run at 20 s, 29,439 operations, spent the 1 GiB memo after 852 k steps and answered `unknown`;
// now 100 k steps.)
TEST(LinearizationSearchTest, TimedOutWritesThatNeverTookEffectAreDroppedEarly) {
  Result<CheckResult> result = check_file("swarm_kv_txn_seed13.jsonl", 20'000);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
  EXPECT_LT(result->steps, 20'000u);
}

}  // namespace
}  // namespace lockstep::checker
