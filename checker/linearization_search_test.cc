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

Result<CheckResult> check_file(const std::string& name, uint64_t max_steps) {
  Result<History> history = read_history_file(kTestData + name);
  EXPECT_TRUE(history.is_ok()) << history.error().to_string();
  CheckOptions options;
  options.max_steps = max_steps;
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

}  // namespace
}  // namespace lockstep::checker
