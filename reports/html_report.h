#pragma once

#include <string>

#include "core/base/error.h"

namespace lockstep::reports {

inline constexpr const char* kReportFile = "report.html";

// Reads the run directory's files (summary.json, history.jsonl, timeline.json, checks.json,
// and trace.jsonl / scenario.json when present; scenarios/README.md) and writes
// run_directory/report.html, one self-contained page. A missing or malformed input file
// fails with an error naming the file and the problem; nothing is written then.
Status write_html_report(const std::string& run_directory);

}  // namespace lockstep::reports
