#include "core/base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace lockstep {

void assertion_failed(std::string_view condition, std::string_view reason,
                      std::source_location location) {
  std::fprintf(stderr, "%s:%u: assertion failed: %.*s (%.*s) in %s\n", location.file_name(),
               static_cast<unsigned>(location.line()), static_cast<int>(condition.size()),
               condition.data(), static_cast<int>(reason.size()), reason.data(),
               location.function_name());
  std::fflush(stderr);
  std::abort();
}

}  // namespace lockstep
