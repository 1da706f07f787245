#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "sim/trace.h"
#include "sim/world.h"

namespace lockstep::sim {

struct DeterminismReport {
  bool deterministic = false;
  uint64_t first_trace_hash = 0;
  uint64_t second_trace_hash = 0;
  uint64_t first_event_count = 0;
  uint64_t second_event_count = 0;
  std::optional<TraceDivergence> divergence;  // set when not deterministic
};

// FoundationDB re-runs seeds to catch nondeterminism; this does it for one seed: builds two
// fresh worlds from `options` (with full trace recording), runs `scenario` on each, and
// compares the traces event by event. A mismatch names the first divergent event with both
// runs' versions of it.
DeterminismReport check_determinism(WorldOptions options,
                                    const std::function<void(World&)>& scenario);

}  // namespace lockstep::sim
