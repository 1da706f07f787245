#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario/scenario_runner.h"

namespace lockstep::sim::scenario {

// The one-line JSON summary `lockstep sim run` ends with (and the explorer's index rows):
// scenario, seed, verdict (pass|fail), checks, trace_hash (16 hex digits), sim_time_ms,
// wall_ms, ops, events. wall_ms is measured by cli/ (sim/ never reads the clock).
std::string summary_json(const ScenarioResult& result, int64_t wall_ms);

// 16 lowercase hex digits, the form every command prints and accepts.
std::string format_trace_hash(uint64_t hash);

// A few human-readable lines: faults applied, checks with details, counts.
std::string human_summary(const ScenarioResult& result);

// The command that replays `result` (scenario path as given by the user).
std::string replay_command(const std::string& scenario_path, const ScenarioResult& result);

struct ReportFile {
  std::string name;
  std::string contents;
};

// The files of a report directory (the contract with reports/, scenarios/README.md):
// summary.json, history.jsonl, trace.jsonl (empty unless the trace was recorded),
// timeline.json, checks.json, scenario.json. cli/ writes them (sim/ touches no files).
std::vector<ReportFile> report_files(const ScenarioResult& result, int64_t wall_ms);

}  // namespace lockstep::sim::scenario
