#pragma once

#include <string>
#include <vector>

#include "core/base/error.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario.h"

namespace lockstep::sim::scenario {

// File access for the command-line drivers (cli/ sim run|explore|replay|shrink): reading
// scenario files and writing report directories. Kept here so that every driver reads and
// writes the same way; nothing inside a simulated run calls these.

// Reads and parses a scenario file; errors start with the path ("scenarios/x.json: faults[1]...").
Result<Scenario> load_scenario_file(const std::string& path);

// A file path, or every *.json in a directory except scenario.schema.json, sorted.
Result<std::vector<std::string>> scenario_paths(const std::string& file_or_directory);

Status write_text_file(const std::string& path, const std::string& contents);
Result<std::string> read_text_file(const std::string& path);

// Creates `directory` (and parents) and writes every report file into it.
Status write_report_directory(const std::string& directory, const std::vector<ReportFile>& files);

}  // namespace lockstep::sim::scenario
