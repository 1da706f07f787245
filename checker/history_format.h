#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "checker/history.h"
#include "core/base/error.h"

namespace lockstep::checker {

// The history formats the checker reads (docs/HISTORY_FORMAT.md describes each).
enum class HistoryFormat {
  kJepsen,       // Jepsen's etcd register log: "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]"
  kPorcupineKv,  // Porcupine's kv test data: {:process 0, :type :invoke, :f :get, ...}
  kJsonl,        // lockstep's own: one JSON object per operation
};

std::string_view history_format_name(HistoryFormat format);
std::optional<HistoryFormat> history_format_from_name(std::string_view name);

// Guesses the format from the first non-empty line, then from the file name's extension
// (an empty file has no content to look at). nullopt when neither says.
std::optional<HistoryFormat> detect_history_format(std::string_view text,
                                                   std::string_view file_name);

// Parses a whole history. Bad input is an ErrorCode::kInvalidInput whose detail names the
// source, the line and the problem ("h.jsonl:7: response.revision must be an integer").
Result<History> parse_history(std::string_view text, HistoryFormat format,
                              std::string_view source_name);

// Reads and parses a file; the format is detected when not given.
Result<History> read_history_file(const std::string& path,
                                  std::optional<HistoryFormat> format = std::nullopt);

// lockstep's JSONL form of a history (the first line is a header naming the model when
// `model` is not empty); parse_history(to_jsonl(h), kJsonl, ...) gives h back.
std::string to_jsonl(const History& history, std::string_view model = {});

}  // namespace lockstep::checker
