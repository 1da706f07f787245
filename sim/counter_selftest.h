#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/base/time.h"
#include "sim/world.h"

namespace lockstep::sim {

// The simulator's self-test: the replicated counter (core/node/replicated_counter.h) on
// `processes` processes under a seeded storm of faults — partitions (symmetric and one-way),
// loss, duplication, reordering, clogging, pauses, clock jumps, EIO on write and fsync, and
// crashes with every CrashMode including torn writes — followed by a calm phase in which
// everything heals. It then checks what the counter promises:
//  - durability: after every restart a member recovers at least every increment it had
//    acknowledged (made durable) before the crash;
//  - convergence: once calm, every member's total reaches the sum of the targets and all
//    views agree.
struct SelftestOptions {
  uint32_t processes = 3;
  Duration duration = std::chrono::seconds(30);  // virtual time, faults in the first 60%
  uint64_t target_increments = 40;               // per process
  // Planted fault: every disk acknowledges fsync without flushing (DiskFaults::fsync_lies).
  // The durability check must then fail; this proves the check can fail.
  bool lying_fsync = false;
};

// What one self-test run saw.
struct SelftestResult {
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  Instant end_time;
  std::optional<Instant> converged_at;
  uint64_t expected_total = 0;
  std::map<NodeId, uint64_t> totals;       // each member's final view
  std::map<std::string, uint64_t> faults;  // injected faults by kind
  std::vector<std::string> violations;     // broken promises (empty when all held)
  uint64_t messages_delivered = 0;
  uint64_t messages_dropped = 0;

  bool ok() const { return converged_at.has_value() && violations.empty(); }
};

// Runs the self-test in `world` (which must be fresh). Deterministic in the world's seed.
SelftestResult run_counter_selftest(World& world, const SelftestOptions& options);

}  // namespace lockstep::sim
