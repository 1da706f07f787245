#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/base/random.h"
#include "core/base/time.h"
#include "sim/crash_mode.h"
#include "sim/disk_state.h"
#include "sim/event_queue.h"
#include "sim/network_fabric.h"
#include "sim/path_model.h"
#include "sim/process.h"
#include "sim/trace.h"

namespace lockstep::sim {

// FoundationDB's BUGGIFY odds: a site is enabled for a whole run with this probability when
// first reached, and an enabled site then fires on each pass with the second one.
inline constexpr double kBuggifySiteEnabledProbability = 0.25;
inline constexpr double kBuggifyFireProbability = 0.25;

struct WorldOptions {
  uint64_t seed = 1;
  // Keep every event as a formatted TraceRecord (for divergence reports and --trace). Off,
  // only the rolling trace hash is kept, which is what long runs want.
  bool record_trace = false;
  // World-level switch: false makes every buggify() site return false.
  bool buggify_enabled = true;
  PathModel default_path;

  static WorldOptions seeded(uint64_t seed) {
    WorldOptions options;
    options.seed = seed;
    return options;
  }
};

// "/home/me/lockstep/core/node/member.cc" → "core/node/member.cc".
std::string_view repository_relative_path(std::string_view path);

struct ProbeHit {
  std::string site;  // "file:line"
  std::string name;
  uint64_t hits = 0;
};

// The simulated world: one thread, virtual time, one seed.
//
// Scheduling: timed events (fiber deadlines, message deliveries, scheduled callbacks) live in
// a priority queue ordered by (virtual time, sequence number) (sim/event_queue.h). Events due now
// move fibers into the ready set; when several fibers are ready, the "scheduler" stream picks which
// runs next, so a seed explores one interleaving and another seed a different one. A fiber runs
// until it blocks (sleep, park, receive, disk latency) or yields.
//
// Randomness: one seed, split into named streams — "scheduler", "network", "disk",
// "workload", "faults" (buggify), "nemesis", and "process/<id>/<incarnation>" for each
// process's Runtime::random()
// — so that adding a draw in one place does not reshuffle the others.
//
// All World methods are called from outside the simulated processes: by the test or
// scenario driver, or by callbacks it scheduled with schedule_at(). Methods taking a NodeId
// require a process that was added (anything else is a bug in the driver and ASSERTs); the
// scenario layer validates names from files before calling in. Messages already in flight
// when their destination crashes and restarts reach the new incarnation if they arrive after
// the restart (datagram semantics: Raft and the gossip above must cope, and do).
class World {
 public:
  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // --- processes ---
  // Adds a process and starts it: `main` runs on its first fiber. Ids must be unique and
  // non-zero (kInvalidInput otherwise).
  Status add_process(NodeId id, std::string name, ProcessMain main);
  // Power loss: every fiber dies with its stack unwound, the inbox is dropped, and the disk
  // resolves unsynced state by `mode`. Crashing a crashed process is a no-op.
  void crash(NodeId id, CrashMode mode);
  // Starts a crashed process again, from what its disk kept.
  Status restart(NodeId id);
  // A paused process's fibers and timers do not run; messages to it queue in its inbox.
  void pause(NodeId id);
  void resume(NodeId id);
  ProcessState state(NodeId id) const;
  std::vector<NodeId> process_ids() const;

  // --- network ---
  // Cuts every path between processes in different groups (both directions). Processes in
  // no group keep their paths. Adds to earlier cuts; heal() removes them all.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  // Cuts only from → to.
  void partition_one_way(NodeId from, NodeId to);
  // Removes every cut and every clog.
  void heal();
  // Holds every message on from → to until virtual time `until`.
  void clog(NodeId from, NodeId to, Instant until);
  void set_path_model(NodeId from, NodeId to, const PathModel& model);
  // Replaces the model of every path (including ones set by set_path_model) and of paths to
  // processes added later.
  void set_default_path_model(const PathModel& model);

  // --- clocks (virtual-time instants and local-clock durations) ---
  void set_clock_offset(NodeId id, Duration offset);
  void jump_clock(NodeId id, Duration delta);
  Status set_clock_drift_ppm(NodeId id, int64_t drift_ppm);
  Instant local_time(NodeId id) const;

  // --- disks ---
  DiskFaults& disk_faults(NodeId id);
  DiskState& disk(NodeId id);
  Status flip_random_bit(NodeId id, std::string_view path);

  // --- running ---
  Instant now() const { return now_; }
  // Runs every event due at or before `deadline`, then sets the time to `deadline`.
  void run_until(Instant deadline);
  void run_for(Duration duration) { run_until(now_ + duration); }
  // Runs until `predicate` holds (checked after every step; returns true) or until
  // `deadline` passes or nothing is left to run (returns false).
  bool run_until(const std::function<bool()>& predicate, Instant deadline);
  // Runs `callback` at virtual time `at` (not before now), outside any process.
  void schedule_at(Instant at, std::function<void()> callback);

  // --- observing ---
  uint64_t trace_hash() const { return trace_.hash(); }
  uint64_t event_count() const { return trace_.count(); }
  const Trace& trace() const { return trace_; }
  std::vector<ProbeHit> probes_hit() const;
  uint64_t messages_delivered() const { return messages_delivered_; }
  uint64_t messages_dropped() const { return messages_dropped_; }
  uint64_t seed() const { return options_.seed; }
  // Streams for the layers above: workload generators and fault (nemesis) schedules. The
  // "faults" stream itself belongs to buggify(), so new sites do not reshuffle schedules.
  Random& workload_random() { return workload_random_; }
  Random& nemesis_random() { return nemesis_random_; }

 private:
  friend class SimRuntime;
  friend class SimNetwork;
  friend class SimDisk;
  friend class SimFile;

  struct InFlightMessage {
    env::Message message;
    uint32_t from_index = 0;
    uint32_t to_index = 0;
    uint64_t payload_hash = 0;
  };
  struct SiteKey {
    std::string_view file;
    uint32_t line = 0;
    uint32_t column = 0;
    auto operator<=>(const SiteKey&) const = default;
  };

  // Scheduler.
  void push_event(ScheduledEvent event);
  bool step(Instant deadline);
  void process_event(const ScheduledEvent& event);
  void run_one_ready_fiber();
  void make_ready(Process& process, uint32_t slot);
  void fire_timer(const ScheduledEvent& event);

  // Fibers (used by SimRuntime).
  env::FiberId spawn_fiber(Process& process, std::string name, std::function<void()> body);
  bool block_current_fiber(Process& process, FiberState state, std::optional<Instant> deadline);
  void schedule_wait_timer(Process& process, uint32_t slot);
  void queue_deferred_timer(Process& process, uint32_t slot);
  void reschedule_wait_timers(Process& process);
  bool wake_fiber(Process& process, env::FiberId fiber);
  void yield_current_fiber(Process& process);
  env::FiberId current_fiber_id() const;
  void check_running_fiber_of(const Process& process) const;
  void kill_all_fibers(Process& process);
  void start_process(Process& process);

  // Network (used by SimNetwork).
  void send_message(Process& from, NodeId to, std::string payload);
  void deliver(const ScheduledEvent& event);
  void drop(uint32_t from_index, uint32_t to_index, NodeId from, NodeId to, DropReason reason);
  uint32_t store_message(InFlightMessage message);

  // Faults and coverage (used by SimRuntime).
  bool buggify(Process& process, std::source_location site);
  void probe(std::source_location site, std::string_view name);

  Process& process(NodeId id);
  const Process& process(NodeId id) const;
  Process* find_process(NodeId id);

  WorldOptions options_;
  Instant now_;
  uint64_t next_sequence_ = 0;
  uint64_t next_wait_token_ = 1;
  EventQueue queue_;
  std::vector<ReadyFiber> ready_;
  std::vector<std::unique_ptr<Process>> processes_;  // by index, in the order added
  std::map<NodeId, uint32_t> process_index_;
  Process* running_process_ = nullptr;
  uint32_t running_slot_ = 0;

  NetworkFabric fabric_;
  std::vector<InFlightMessage> messages_;  // slab, reused through free_messages_
  std::vector<uint32_t> free_messages_;
  std::vector<std::function<void()>> callbacks_;
  std::vector<uint32_t> free_callbacks_;

  Random scheduler_random_;
  Random network_random_;
  Random disk_random_;
  Random workload_random_;
  Random fault_random_;
  Random nemesis_random_;

  std::map<SiteKey, bool> buggify_sites_;  // site → enabled for this run
  std::map<std::tuple<std::string_view, uint32_t, std::string>, uint64_t, std::less<>> probes_;
  Trace trace_;
  uint64_t messages_delivered_ = 0;
  uint64_t messages_dropped_ = 0;
};

}  // namespace lockstep::sim
