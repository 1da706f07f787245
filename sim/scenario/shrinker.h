#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::sim::scenario {

struct ShrinkOptions {
  // Runs the shrinker may spend (each is a whole simulated run).
  int max_runs = 200;
  // The check that must keep failing; "" = the first check the original run failed.
  std::string check;
  // How a candidate is run; defaults to run_scenario. Tests and the CLI may wrap it.
  std::function<Result<ScenarioResult>(const Scenario&, uint64_t)> run;
};

struct ShrinkResult {
  Scenario original;  // as run (a swarm draw materialised)
  Scenario shrunk;
  std::string check;  // the check that fails in both
  int runs = 0;
  std::vector<std::string> steps;  // each accepted reduction, in order
};

// Reduces a failing (scenario, seed) to a smaller scenario that fails the same check with the
// same seed, greedily and to a fixed point: drop faults (halves first, then one at a time, as
// delta debugging does), shorten the safety and liveness phases, drop workloads, fewer clients,
// fewer members. The seed stays: a different seed would be a different run, not a smaller one.
// Fails with kInvalidInput when the original run passes.
Result<ShrinkResult> shrink_scenario(const Scenario& scenario, uint64_t seed,
                                     ShrinkOptions options = {});

}  // namespace lockstep::sim::scenario
