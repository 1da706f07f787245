#include "sim/counter_selftest.h"

#include <gtest/gtest.h>

#include "sim/determinism_check.h"

namespace lockstep::sim {
namespace {

using std::chrono::seconds;

SelftestOptions small_run() {
  SelftestOptions options;
  options.processes = 3;
  options.duration = seconds(20);
  options.target_increments = 25;
  return options;
}

SelftestResult run_seed(uint64_t seed, const SelftestOptions& options) {
  World world(WorldOptions::seeded(seed));
  return run_counter_selftest(world, options);
}

uint64_t injected(const SelftestResult& result, const std::string& prefix) {
  uint64_t total = 0;
  for (const auto& [kind, count] : result.faults) {
    if (kind.starts_with(prefix)) total += count;
  }
  return total;
}

TEST(CounterSelftest, CounterStaysDurableAndConvergesUnderFaults) {
  uint64_t crashes = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const SelftestResult result = run_seed(seed, small_run());
    EXPECT_TRUE(result.violations.empty()) << "seed " << seed << ": " << result.violations[0];
    ASSERT_TRUE(result.converged_at.has_value()) << "seed " << seed;
    EXPECT_EQ(result.expected_total, 75u);
    ASSERT_EQ(result.totals.size(), 3u);
    for (const auto& [id, total] : result.totals) EXPECT_EQ(total, 75u) << "seed " << seed;
    EXPECT_GT(result.messages_dropped, 0u);
    crashes += injected(result, "crash_");
    EXPECT_GT(result.faults.size(), 3u) << "a mix of faults, not just one kind";
  }
  EXPECT_GT(crashes, 4u);
}

TEST(CounterSelftest, ADiskThatLiesAboutFsyncIsCaught) {
  SelftestOptions options = small_run();
  options.lying_fsync = true;
  int runs_caught = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    runs_caught += run_seed(seed, options).violations.empty() ? 0 : 1;
  }
  EXPECT_GE(runs_caught, 2) << "acknowledged increments lost in crashes must be reported";
}

TEST(CounterSelftest, SameSeedSameHashDifferentSeedDifferentHash) {
  const SelftestResult first = run_seed(7, small_run());
  const SelftestResult again = run_seed(7, small_run());
  const SelftestResult other = run_seed(8, small_run());
  EXPECT_EQ(first.trace_hash, again.trace_hash);
  EXPECT_EQ(first.events, again.events);
  EXPECT_NE(first.trace_hash, other.trace_hash);
}

TEST(CounterSelftest, DeterminismCheckPassesOnTheSelftest) {
  const DeterminismReport report = check_determinism(
      WorldOptions::seeded(3), [](World& world) { run_counter_selftest(world, small_run()); });
  EXPECT_TRUE(report.deterministic) << report.divergence->to_string();
}

}  // namespace
}  // namespace lockstep::sim
