#pragma once

#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>

#include "core/base/ids.h"
#include "core/base/random.h"
#include "core/base/strong_id.h"
#include "core/base/time.h"
#include "core/env/disk.h"
#include "core/env/network.h"

namespace lockstep::env {

using FiberId = StrongId<struct FiberIdTag>;

// Thrown inside a fiber's stack when its process is crashed or stopped, so the stack unwinds
// and destructors run. Code must let it propagate: never swallow it in a catch (...).
struct FiberKilled {};

// What a process's code sees of the world it runs in. A node's host code is straight-line
// code on fibers: it sleeps, parks and wakes, sends and receives, reads and writes files.
// The simulated runtime (sim/) runs every fiber of every process on one thread in virtual
// time; the real runtime (server/) runs them over an event loop on real sockets and files.
// The same node code runs under both (DESIGN.md: Runtime).
class Runtime {
 public:
  virtual ~Runtime() = default;

  // This process's id in the world.
  virtual NodeId self() const = 0;
  // This process's clock. In simulation it carries the process's offset, drift and jumps.
  virtual Instant now() const = 0;

  // Starts a new fiber of this process. It first runs when the scheduler picks it.
  virtual FiberId spawn(std::string name, std::function<void()> body) = 0;
  virtual void sleep_for(Duration duration) = 0;
  virtual void sleep_until(Instant deadline) = 0;
  // Lets other ready fibers run.
  virtual void yield() = 0;
  // Parks the calling fiber until wake() names it (returns true) or `deadline` on this
  // process's clock passes (returns false). Building block for Event and Channel.
  virtual bool park(std::optional<Instant> deadline) = 0;
  // Makes a parked fiber of this process ready. Waking a fiber that is not parked is a no-op.
  virtual void wake(FiberId fiber) = 0;
  virtual FiberId current_fiber() const = 0;

  virtual Network& network() = 0;
  virtual Disk& disk() = 0;
  // This process's own random stream (derived from the run's seed in simulation).
  virtual Random& random() = 0;

  // Fault-injection point keyed by source location (FoundationDB's BUGGIFY): may return true
  // only in simulation, and then only at sites the run enabled. Always false in the daemon.
  virtual bool buggify(std::source_location site) = 0;
  // Coverage probe keyed by source location (FoundationDB's CODE_PROBE): records that this
  // code ran, so reports can list probes a whole exploration never hit.
  virtual void probe(std::source_location site, std::string_view name) = 0;
  // An event for the run's trace (simulation) or log (daemon).
  virtual void trace(std::string_view kind, std::string_view detail) = 0;
};

}  // namespace lockstep::env

// BUGGIFY(runtime): true at an enabled fault site in simulation, false otherwise.
#define BUGGIFY(runtime) ((runtime).buggify(std::source_location::current()))
#define PROBE(runtime, name) ((runtime).probe(std::source_location::current(), (name)))
