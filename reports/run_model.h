#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/error.h"

namespace lockstep::reports {

// What a report page draws at most. A run can record millions of operations and trace
// events; the page draws a bounded slice (always including the counterexample) and says
// so, instead of growing into a file no browser opens.
inline constexpr size_t kMaxDrawnOperations = 20'000;
inline constexpr size_t kMaxDrawnRoleSegments = 20'000;
inline constexpr size_t kMaxDrawnFaults = 5'000;
inline constexpr size_t kMaxDrawnMarks = 5'000;

// The files of a run directory (scenarios/README.md).
inline constexpr const char* kSummaryFile = "summary.json";
inline constexpr const char* kHistoryFile = "history.jsonl";
inline constexpr const char* kTimelineFile = "timeline.json";
inline constexpr const char* kChecksFile = "checks.json";
inline constexpr const char* kTraceFile = "trace.jsonl";
inline constexpr const char* kScenarioFile = "scenario.json";
inline constexpr const char* kProbesFile = "probes.json";

// Reads a run directory and normalises it into the one JSON document the report page
// embeds: times in nanoseconds, role changes turned into per-member segments, operations
// classified ok / failed / indeterminate, counterexample operations flagged. summary.json,
// history.jsonl, timeline.json and checks.json are required; trace.jsonl,
// scenario.json and probes.json are shown when present. Errors name the file and the problem.
Result<nlohmann::json> build_run_model(const std::string& run_directory);

}  // namespace lockstep::reports
