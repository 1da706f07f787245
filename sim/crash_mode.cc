#include "sim/crash_mode.h"

#include "core/base/assert.h"

namespace lockstep::sim {

std::string_view crash_mode_name(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropAll:
      return "drop_all";
    case CrashMode::kKeepAll:
      return "keep_all";
    case CrashMode::kTorn:
      return "torn";
    case CrashMode::kRandom:
      return "random";
  }
  UNREACHABLE("unknown CrashMode");
}

std::optional<CrashMode> parse_crash_mode(std::string_view name) {
  for (CrashMode mode :
       {CrashMode::kDropAll, CrashMode::kKeepAll, CrashMode::kTorn, CrashMode::kRandom}) {
    if (crash_mode_name(mode) == name) return mode;
  }
  return std::nullopt;
}

}  // namespace lockstep::sim
