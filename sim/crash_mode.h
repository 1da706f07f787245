#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lockstep::sim {

// What a crash (power loss) does to writes and directory operations that were not yet
// synced. Synced state always survives; only the unsynced tail is at stake. The outcomes are
// drawn from the world's "disk" stream, so a seed replays the same damage.
enum class CrashMode : uint8_t {
  // Every unsynced write and directory operation is lost (nothing reached the platter).
  kDropAll,
  // Every unsynced write survives whole (the cache was flushed just before the power cut).
  kKeepAll,
  // Writes reached the disk in order and the power cut landed in the middle: a random prefix
  // of each file's unsynced writes survives, and the last of them may be torn, keeping only
  // a sector-aligned prefix. Unsynced directory operations each survive with probability ½.
  kTorn,
  // The disk cache reordered writes: each unsynced write independently is lost, survives or
  // is torn at a sector boundary. Directory operations each survive with probability ½.
  kRandom,
};

std::string_view crash_mode_name(CrashMode mode);
std::optional<CrashMode> parse_crash_mode(std::string_view name);

}  // namespace lockstep::sim
