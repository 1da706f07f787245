#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.h"

namespace lockstep::sim::scenario {

// An inclusive range of seeds or case numbers, as `sim explore --seeds`, `sim hunt --seeds`
// and `lockstep_property_hunt --cases` take them.
struct NumberRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

enum class BareNumber : uint8_t {
  kOnlyThat,  // "7" is 7..7 (explore: one seed)
  kFirstN,    // "7" is 1..7 (the hunts: the first seven)
};

// Parses "A..B" or a bare "N" for the flag named `flag` (used in the error messages). Refuses
// trailing text, an empty range, a first number below `lowest` and more than `max_count`
// numbers.
Result<NumberRange> parse_number_range(std::string_view flag, const std::string& text,
                                       BareNumber bare, uint64_t lowest, uint64_t max_count);

}  // namespace lockstep::sim::scenario
