#pragma once

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "sim/scenario/scenario.h"

namespace lockstep::sim::scenario {

// Bounds that keep a scenario file from asking for a run that cannot finish.
inline constexpr int kMaxMembers = 15;
inline constexpr int kMaxClientsPerWorkload = 64;
inline constexpr int64_t kMaxDurationMs = 3'600'000;
inline constexpr size_t kMaxFaults = 1000;

// Parses a scenario file's text. Errors are kInvalidInput with the JSON path of the field at
// fault first, e.g. `faults[3].target: unknown target "nod:3"`. Unknown fields are errors
// (a misspelt field silently ignored is a scenario that tests less than its author thinks).
Result<Scenario> parse_scenario(std::string_view text);

// The scenario as a file (every field written, so the file is self-describing);
// parse_scenario(scenario_to_json(s)) == s.
std::string scenario_to_json(const Scenario& scenario);

}  // namespace lockstep::sim::scenario
