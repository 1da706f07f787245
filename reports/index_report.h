#pragma once

#include <string>

#include "core/base/error.h"

namespace lockstep::reports {

inline constexpr const char* kIndexInputFile = "index.json";
inline constexpr const char* kIndexReportFile = "index.html";

// Turns explore_directory/index.json (one row per run, plus the coverage probes no run
// hit) into explore_directory/index.html: one table row per run with its scenario, seed,
// verdict, trace hash, simulated time and a link to the run's report.html, failures
// first, then the probes never hit. Errors name the file and the problem.
Status write_html_index(const std::string& explore_directory);

}  // namespace lockstep::reports
