// Helpers shared by the scenario tests: load a standard scenario, and say why a run failed.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::sim::scenario::test_support {

// scenarios/<name>.json, parsed (LOCKSTEP_SCENARIOS_DIR is set by the test target).
inline Scenario standard(const std::string& name) {
  std::ifstream in(std::string(LOCKSTEP_SCENARIOS_DIR) + "/" + name + ".json");
  std::stringstream text;
  text << in.rdbuf();
  Result<Scenario> scenario = parse_scenario(text.str());
  EXPECT_TRUE(scenario.is_ok()) << name << ": " << scenario.error().to_string();
  return scenario.is_ok() ? *scenario : Scenario{};
}

// The checks that did not pass and the members that exited, one per line, for a test's
// failure message.
inline std::string failures(const ScenarioResult& result) {
  std::string text;
  for (const CheckReport& check : result.checks) {
    if (check.verdict != CheckOutcome::Verdict::kPass) {
      text += check.name + ": " + check.detail + "\n";
    }
  }
  for (const std::string& exit : result.member_exits) text += "exit " + exit + "\n";
  return text;
}

}  // namespace lockstep::sim::scenario::test_support
