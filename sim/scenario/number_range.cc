#include "sim/scenario/number_range.h"

#include <stdexcept>

namespace lockstep::sim::scenario {
namespace {

// The whole of `text` as a number; throws std::invalid_argument otherwise.
uint64_t whole_number(const std::string& text) {
  size_t used = 0;
  const uint64_t number = std::stoull(text, &used);
  if (used != text.size() || text.front() == '-' || text.front() == '+') {
    throw std::invalid_argument(text);
  }
  return number;
}

}  // namespace

Result<NumberRange> parse_number_range(std::string_view flag, const std::string& text,
                                       BareNumber bare, uint64_t lowest, uint64_t max_count) {
  const std::string name(flag);
  NumberRange range;
  try {
    const size_t dots = text.find("..");
    if (dots == std::string::npos) {
      range.last = whole_number(text);
      range.first = bare == BareNumber::kFirstN ? 1 : range.last;
    } else {
      range.first = whole_number(text.substr(0, dots));
      range.last = whole_number(text.substr(dots + 2));
    }
  } catch (const std::exception&) {
    return Error(ErrorCode::kInvalidInput, name + ": expected A..B or N, got \"" + text + "\"");
  }
  if (range.last < range.first) {
    return Error(ErrorCode::kInvalidInput, name + ": " + text + " is empty");
  }
  if (range.first < lowest) {
    return Error(ErrorCode::kInvalidInput,
                 name + ": numbers start at " + std::to_string(lowest) + ", got " + text);
  }
  if (range.last - range.first >= max_count) {
    return Error(ErrorCode::kInvalidInput,
                 name + ": more than " + std::to_string(max_count) + " numbers");
  }
  return range;
}

}  // namespace lockstep::sim::scenario
