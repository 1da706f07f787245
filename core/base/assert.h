#pragma once

#include <source_location>
#include <string_view>

namespace lockstep {

// Prints the failed condition, the reason and the location, then aborts. Bugs crash loudly;
// expected failures travel as Status values instead (see error.h).
[[noreturn]] void assertion_failed(std::string_view condition, std::string_view reason,
                                   std::source_location location);

}  // namespace lockstep

// ASSERT(condition, "why it must hold"): always on, in every build type. Split compound
// conditions into separate ASSERTs so a failure names the part that broke.
#define ASSERT(condition, reason)                                                        \
  do {                                                                                   \
    if (!(condition)) [[unlikely]] {                                                     \
      ::lockstep::assertion_failed(#condition, (reason), std::source_location::current()); \
    }                                                                                    \
  } while (false)

#define UNREACHABLE(reason) \
  ::lockstep::assertion_failed("unreachable", (reason), std::source_location::current())
