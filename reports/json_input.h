#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"

namespace lockstep::reports {

// Reading the JSON files of a run directory. Every failure names the file (and line, for
// JSONL) and the JSON problem, because a person fixing a broken run directory needs both.

// Reads one JSON document. A missing file is kFileNotFound, malformed JSON kInvalidInput.
Result<nlohmann::json> read_json_file(const std::string& path);

// Reads one JSON object per non-empty line.
Result<std::vector<nlohmann::json>> read_jsonl_file(const std::string& path);

// Writes `contents` to `path` through a temporary file and a rename, so a reader never
// sees half a report.
Status write_text_file(const std::string& path, std::string_view contents);

// A time field of `object` in nanoseconds. Run files name times with their unit last
// (`t_ns`, `start_ms`, `invoke_us`); this accepts `<base>_ns`, `<base>_us`, `<base>_ms`
// and a bare `<base>` (nanoseconds, as history.jsonl writes). Empty when absent or null;
// an error when present but not a number.
Result<std::optional<int64_t>> read_time_ns(const nlohmann::json& object, std::string_view base,
                                            std::string_view where);

// A JSON value as display text: strings without quotes, everything else compact JSON.
std::string display_text(const nlohmann::json& value);

}  // namespace lockstep::reports
