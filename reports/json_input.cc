#include "reports/json_input.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace lockstep::reports {

namespace {

Result<std::string> read_whole_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Error(ErrorCode::kFileNotFound, path + ": missing");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIoError, path + ": cannot open");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kIoError, path + ": read failed");
  return contents.str();
}

}  // namespace

Result<nlohmann::json> read_json_file(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text.is_ok()) return text.error();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& problem) {
    return Error(ErrorCode::kInvalidInput, path + ": malformed JSON: " + problem.what());
  }
}

Result<std::vector<nlohmann::json>> read_jsonl_file(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text.is_ok()) return text.error();
  std::vector<nlohmann::json> objects;
  std::istringstream lines(*text);
  std::string line;
  int64_t line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_number);
    try {
      nlohmann::json object = nlohmann::json::parse(line);
      if (!object.is_object()) {
        return Error(ErrorCode::kInvalidInput, where + ": expected a JSON object per line");
      }
      objects.push_back(std::move(object));
    } catch (const nlohmann::json::parse_error& problem) {
      return Error(ErrorCode::kInvalidInput, where + ": malformed JSON: " + problem.what());
    }
  }
  return objects;
}

Status write_text_file(const std::string& path, std::string_view contents) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Status(ErrorCode::kIoError, temporary + ": cannot create");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) return Status(ErrorCode::kIoError, temporary + ": write failed");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return Status(ErrorCode::kIoError, path + ": " + error.message());
  return Status::ok();
}

Result<std::optional<int64_t>> read_time_ns(const nlohmann::json& object, std::string_view base,
                                            std::string_view where) {
  struct Unit {
    std::string_view suffix;
    double nanoseconds;
  };
  constexpr std::array<Unit, 4> kUnits = {{{"_ns", 1}, {"_us", 1e3}, {"_ms", 1e6}, {"", 1}}};
  for (const Unit& unit : kUnits) {
    const std::string name = std::string(base) + std::string(unit.suffix);
    const auto found = object.find(name);
    if (found == object.end() || found->is_null()) continue;
    if (!found->is_number()) {
      return Error(ErrorCode::kInvalidInput,
                   std::string(where) + ": field '" + name + "' must be a number");
    }
    // Integers stay exact (virtual nanoseconds exceed a double's 53 bits after ~104 days).
    if (found->is_number_integer()) {
      return std::optional<int64_t>(found->get<int64_t>() * static_cast<int64_t>(unit.nanoseconds));
    }
    return std::optional<int64_t>(static_cast<int64_t>(found->get<double>() * unit.nanoseconds));
  }
  return std::optional<int64_t>();
}

std::string display_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lockstep::reports
