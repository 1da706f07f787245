#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::property {

// One generated simulated run: a scenario (cluster size and Raft knobs, network, workloads,
// an explicit fault schedule) and the seed it runs with. The case is an ordinary scenario
// file, so a failure replays with `lockstep sim run FILE --seed N` as well as with
// RapidCheck's reproduce string. Shrinking drops faults, turns event-triggered faults back
// into timed ones (or toward the first event, occurrence 1, no delay), lowers the knobs and
// the duration toward the smallest run that still fails.
struct ClusterCase {
  uint64_t seed = 1;
  sim::scenario::Scenario scenario;
};

// A property run must end in pass or fail: a bounded search that gives up is unknown, which
// fails the property too (never a silent pass).
inline constexpr uint64_t kPropertyCheckSteps = 20'000'000;

Result<sim::scenario::ScenarioResult> run_cluster_case(const ClusterCase& run_case);

// The case as a scenario file with its seed, and the commands that replay it.
std::string describe_case(const ClusterCase& run_case);

// The scenario file in describe_case()'s text, parsed back (as `lockstep sim run` would).
Result<sim::scenario::Scenario> printed_scenario(const std::string& printed);

// The checks that did not pass, with their details ("" when all did).
std::string failed_checks(const sim::scenario::ScenarioResult& result);

// Case `number` (from 1) of a numbered search with `seed` (lockstep_property_hunt): drawn by
// the generator below from its own random stream, at size (number - 1) mod 101, the sizes
// RapidCheck gives the cases of a long run (0..100, then again), so any case replays alone.
rc::Shrinkable<ClusterCase> numbered_case_shrinkable(uint64_t seed, uint64_t number);
ClusterCase numbered_case(uint64_t seed, uint64_t number);

}  // namespace lockstep::property

namespace rc {

template <>
struct Arbitrary<lockstep::property::ClusterCase> {
  static Gen<lockstep::property::ClusterCase> arbitrary();
};

}  // namespace rc
