// Built only with -DLOCKSTEP_KNOWN_BUGS=ON: "the framework finds bugs" is itself tested.
// With a planted bug switched on, the same cluster property that holds on correct code
// (cluster_property_test.cc) must fail, RapidCheck must shrink it to a counterexample, and
// the counterexample as printed (a scenario file with its seed) must replay: parsed back
// and run by the scenario runner, as `lockstep sim hunt --bug NAME --scenario FILE` does,
// it fails the same checks with the same trace hash.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "core/base/known_bugs.h"
#include "sim/scenario/scenario_parser.h"
#include "tests/property/cluster_case.h"

namespace lockstep::property {

void showValue(const ClusterCase& run_case, std::ostream& out) {
  out << describe_case(run_case);
}

namespace {

namespace scenario = sim::scenario;

struct Counterexample {
  ClusterCase run_case;
  std::string failed;  // failed_checks() of its run
  uint64_t trace_hash = 0;
};

// Runs the cluster property over cases drawn by `generator` with `bug` switched on. Returns
// the shrunk counterexample, or nullopt when every case passed (the bug escaped). Shrinking
// keeps a candidate only if it fails too, so the last failing run is the one RapidCheck
// reports.
std::optional<Counterexample> shrunk_counterexample(KnownBug bug,
                                                    const rc::Gen<ClusterCase>& generator) {
  set_active_known_bug(bug);
  std::optional<Counterexample> last_failure;
  const bool held = rc::check(known_bug_name(bug).data(), [&] {
    const ClusterCase run_case = *generator;
    Result<scenario::ScenarioResult> result = run_cluster_case(run_case);
    RC_ASSERT(result.is_ok());
    const std::string failed = failed_checks(*result);
    if (failed.empty()) return;
    last_failure = Counterexample{run_case, failed, result->trace_hash};
    RC_FAIL("checks failed: " + failed);
  });
  if (held) last_failure.reset();
  return last_failure;
}

// The printed counterexample replays: the scenario file in it parses back to the scenario
// that failed, and running it with the printed seed fails the same checks, event for event.
void expect_replays(KnownBug bug, const Counterexample& counterexample) {
  const std::string printed = describe_case(counterexample.run_case);
  const std::string seed = std::to_string(counterexample.run_case.seed);
  EXPECT_NE(printed.find("sim hunt --bug " + std::string(known_bug_name(bug)) +
                         " --scenario counterexample.json --seeds " + seed + ".." + seed),
            std::string::npos)
      << printed;
  Result<scenario::Scenario> parsed = printed_scenario(printed);
  ASSERT_TRUE(parsed.is_ok()) << parsed.error().to_string() << "\n" << printed;
  EXPECT_EQ(*parsed, counterexample.run_case.scenario);
  // counterexample_replay_test.sh replays the saved file through the command line.
  if (const char* directory = std::getenv("LOCKSTEP_COUNTEREXAMPLE_DIR")) {
    std::ofstream(std::string(directory) + "/counterexample.json")
        << scenario::scenario_to_json(*parsed);
    std::ofstream(std::string(directory) + "/seed") << seed << "\n";
  }
  Result<scenario::ScenarioResult> replay =
      run_cluster_case(ClusterCase{counterexample.run_case.seed, *parsed});
  ASSERT_TRUE(replay.is_ok());
  EXPECT_EQ(failed_checks(*replay), counterexample.failed) << printed;
  EXPECT_EQ(replay->trace_hash, counterexample.trace_hash);
  // Without the bug the same file and seed pass: the failure is the bug's.
  set_active_known_bug(std::nullopt);
  Result<scenario::ScenarioResult> clean =
      run_cluster_case(ClusterCase{counterexample.run_case.seed, *parsed});
  ASSERT_TRUE(clean.is_ok());
  EXPECT_EQ(failed_checks(*clean), "") << printed;
}

// A follower that expires leases on its own clock proposes revokes for leases the leader
// keeps alive: the lease workload sees a lease gone before its TTL.
TEST(KnownBugsCaught, property_catches_lease_expiry_on_follower_clock_and_replays) {
  rc::Gen<ClusterCase> leasing =
      rc::gen::map(rc::gen::arbitrary<ClusterCase>(), [](ClusterCase run_case) {
        run_case.scenario.workloads = {scenario::WorkloadSpec{"lease", 2}};
        return run_case;
      });
  std::optional<Counterexample> counterexample =
      shrunk_counterexample(KnownBug::kLeaseExpiryOnFollowerClock, leasing);
  ASSERT_TRUE(counterexample.has_value()) << "the planted bug escaped the property";
  expect_replays(KnownBug::kLeaseExpiryOnFollowerClock, *counterexample);
  set_active_known_bug(std::nullopt);
}

}  // namespace
}  // namespace lockstep::property
