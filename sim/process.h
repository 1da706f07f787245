#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/base/random.h"
#include "core/base/time.h"
#include "core/env/fiber.h"
#include "core/env/network.h"
#include "core/env/runtime.h"
#include "sim/disk_state.h"
#include "sim/sim_clock.h"

namespace lockstep::sim {

class SimRuntime;

// A process's code: runs on the process's first fiber, again after every restart.
using ProcessMain = std::function<void(env::Runtime&)>;

// A message beyond this many waiting in one inbox is dropped, as a real socket buffer would
// overflow; Raft and the gossip protocols above retry.
inline constexpr size_t kInboxCapacityMessages = 4096;

enum class ProcessState : uint8_t { kRunning, kPaused, kCrashed };

enum class FiberState : uint8_t {
  kFree,      // slot unused
  kReady,     // in the world's ready set (or the process's paused list)
  kRunning,   // on the CPU
  kParked,    // in park(): wake() or the deadline ends it
  kSleeping,  // in sleep_until(): only the deadline ends it
};

// One fiber of a process. Slots are reused; `generation` tells a FiberId for an earlier
// occupant apart, and `wait_token` tells the current wait's timer from stale ones.
//
// Timers: a fiber woken before its deadline leaves its timer event in the world's queue, where
// it turns stale (its token no longer matches). A member's receive loop waits with a deadline
// one tick away and is woken by nearly every message, so stale timers used to be about half of
// all queued events. Instead, while an event this slot queued is still in the queue (the
// "carrier"), a wait whose deadline falls at or after it queues nothing: its timer is kept
// aside in `deferred_timer`, with the sequence number it would have been queued with, and the
// carrier queues it when it comes due. The queue then pops every live event at the same
// (time, sequence) position as if it had been queued at once, so runs and traces are unchanged.
struct DeferredTimer {
  Instant time;           // virtual time the wait's deadline maps to
  uint64_t sequence = 0;  // reserved when the wait began
  uint64_t wait_token = 0;
};

struct FiberSlot {
  std::unique_ptr<env::Fiber> fiber;
  uint32_t generation = 0;
  FiberState state = FiberState::kFree;
  uint64_t wait_token = 0;
  bool woken = false;                     // how the last park() ended
  std::optional<Instant> local_deadline;  // of the current wait, on the process's clock
  uint64_t carrier_token = 0;             // 0: no event of this slot is known to be queued
  Instant carrier_time;
  std::optional<DeferredTimer> deferred_timer;
};

// A fiber that is ready to run, as the scheduler's ready set holds it.
struct ReadyFiber {
  uint32_t process_index = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;
};

// Everything the world knows about one process. The disk and the clock belong to the
// machine and outlive crashes; fibers, inbox and random stream belong to one incarnation.
struct Process {
  NodeId id;
  std::string name;
  uint32_t index = 0;
  ProcessState state = ProcessState::kCrashed;
  uint64_t incarnation = 0;
  ProcessMain main;
  SimClock clock;
  DiskState disk;
  std::optional<Random> random;
  std::vector<FiberSlot> fibers;
  std::vector<uint32_t> free_slots;
  uint32_t live_fibers = 0;
  std::deque<env::Message> inbox;
  std::deque<env::FiberId> receivers;    // fibers blocked in Network::receive, FIFO
  std::vector<ReadyFiber> paused_ready;  // became ready while the process was paused
  std::unique_ptr<SimRuntime> runtime;
};

// FiberId packing: generation in the high half, slot + 1 in the low half (0 stays invalid).
inline env::FiberId make_fiber_id(uint32_t slot, uint32_t generation) {
  return env::FiberId((static_cast<uint64_t>(generation) << 32) | (slot + 1));
}
inline uint32_t fiber_id_slot(env::FiberId id) {
  return static_cast<uint32_t>(id.value() & 0xffffffffu) - 1;
}
inline uint32_t fiber_id_generation(env::FiberId id) {
  return static_cast<uint32_t>(id.value() >> 32);
}

}  // namespace lockstep::sim
