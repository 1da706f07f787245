#include "sim/scenario/scenario_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/scenario/scenario_parser.h"

namespace lockstep::sim::scenario {

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalidInput, path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kInvalidInput, path + ": read failed");
  return text.str();
}

Status write_text_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.flush();
  if (!out) return Status(ErrorCode::kInvalidInput, path + ": cannot write");
  return Status::ok();
}

Result<Scenario> load_scenario_file(const std::string& path) {
  Result<std::string> text = read_text_file(path);
  if (!text.is_ok()) return text.error();
  Result<Scenario> scenario = parse_scenario(*text);
  if (!scenario.is_ok()) {
    return Error(ErrorCode::kInvalidInput, path + ": " + scenario.error().detail());
  }
  return scenario;
}

Result<std::vector<std::string>> scenario_paths(const std::string& file_or_directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(file_or_directory, error)) {
    if (!std::filesystem::exists(file_or_directory, error)) {
      return Error(ErrorCode::kInvalidInput, file_or_directory + ": no such file or directory");
    }
    return std::vector<std::string>{file_or_directory};
  }
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(file_or_directory, error)) {
    if (entry.path().extension() == ".json" && entry.path().filename() != "scenario.schema.json") {
      paths.push_back(entry.path().string());
    }
  }
  if (error) return Error(ErrorCode::kInvalidInput, file_or_directory + ": " + error.message());
  std::ranges::sort(paths);
  if (paths.empty()) {
    return Error(ErrorCode::kInvalidInput, file_or_directory + ": no *.json scenario files");
  }
  return paths;
}

Status write_report_directory(const std::string& directory, const std::vector<ReportFile>& files) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return Status(ErrorCode::kInvalidInput, directory + ": " + error.message());
  for (const ReportFile& file : files) {
    RETURN_IF_ERROR(
        write_text_file((std::filesystem::path(directory) / file.name).string(), file.contents));
  }
  return Status::ok();
}

}  // namespace lockstep::sim::scenario
