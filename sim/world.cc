#include "sim/world.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "core/base/assert.h"
#include "core/base/limits.h"
#include "sim/sim_runtime.h"

namespace lockstep::sim {

std::string_view repository_relative_path(std::string_view path) {
  // The compiler may spell source paths absolute; from the repository's top-level folder on
  // they are the same in every checkout, so traces and reports (and the trace hash) use that.
  size_t start = std::string_view::npos;
  for (std::string_view folder :
       {"/core/", "/sim/", "/store/", "/server/", "/checker/", "/cli/", "/tests/", "/reports/"}) {
    const size_t found = path.rfind(folder);
    if (found != std::string_view::npos && (start == std::string_view::npos || found > start)) {
      start = found;
    }
  }
  return start == std::string_view::npos ? path : path.substr(start + 1);
}

namespace {

// A simulated disk holds every file as an in-memory image that grows by reallocation, and a
// run frees and reallocates such images (SQLite's WAL, Raft WAL segments, snapshots) all the
// time. glibc serves large blocks with fresh mmap()s and returns freed heap tops to the
// kernel, so each regrowth page-faults its memory in again (a third of a SQLite-backed run's
// page faults). Keeping blocks up to glibc's maximum mmap threshold on the heap, and the
// heap's freed top mapped, lets them be reused. Process-wide and idempotent; it changes
// where memory comes from, never what a run does, so traces are unaffected.
void keep_freed_memory_for_reuse() {
  static const bool tuned = [] {
    constexpr int kMaxMmapThresholdBytes = 32 * 1024 * 1024;  // glibc's DEFAULT_MMAP_THRESHOLD_MAX
    constexpr int kTrimThresholdBytes = 256 * 1024 * 1024;
    mallopt(M_MMAP_THRESHOLD, kMaxMmapThresholdBytes);
    mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
    return true;
  }();
  (void)tuned;
}

}  // namespace

World::World(WorldOptions options)
    : options_(options),
      scheduler_random_(Random(options.seed).stream("scheduler")),
      network_random_(Random(options.seed).stream("network")),
      disk_random_(Random(options.seed).stream("disk")),
      workload_random_(Random(options.seed).stream("workload")),
      fault_random_(Random(options.seed).stream("faults")),
      nemesis_random_(Random(options.seed).stream("nemesis")),
      trace_(options.record_trace) {
  keep_freed_memory_for_reuse();
}

World::~World() {
  // Unwind every fiber while the disks and the network they may touch in destructors exist.
  for (auto& each : processes_) {
    each->state = ProcessState::kCrashed;
    kill_all_fibers(*each);
  }
}

// ---------------------------------------------------------------- processes

Process& World::process(NodeId id) {
  Process* found = find_process(id);
  ASSERT(found != nullptr, "no process with this id in the world");
  return *found;
}

const Process& World::process(NodeId id) const {
  auto found = process_index_.find(id);
  ASSERT(found != process_index_.end(), "no process with this id in the world");
  return *processes_[found->second];
}

Process* World::find_process(NodeId id) {
  auto found = process_index_.find(id);
  return found == process_index_.end() ? nullptr : processes_[found->second].get();
}

Status World::add_process(NodeId id, std::string name, ProcessMain main) {
  if (id == kNoNode) return Status(ErrorCode::kInvalidInput, "process id 0 is reserved");
  if (process_index_.contains(id)) {
    return Status(ErrorCode::kInvalidInput, "duplicate process id " + std::to_string(id.value()));
  }
  if (!main) return Status(ErrorCode::kInvalidInput, "process without a main function");
  auto created = std::make_unique<Process>();
  created->id = id;
  created->name = std::move(name);
  created->index = static_cast<uint32_t>(processes_.size());
  created->main = std::move(main);
  created->runtime = std::make_unique<SimRuntime>(*this, *created);
  Process& added = *created;
  process_index_.emplace(id, added.index);
  processes_.push_back(std::move(created));
  fabric_.resize(static_cast<uint32_t>(processes_.size()), options_.default_path);
  start_process(added);
  return Status::ok();
}

void World::start_process(Process& process) {
  process.state = ProcessState::kRunning;
  ++process.incarnation;
  process.random = Random(options_.seed)
                       .stream("process/" + std::to_string(process.id.value()) + "/" +
                               std::to_string(process.incarnation));
  trace_.add(now_, process.id.value(), TraceKind::kProcessStart, process.incarnation);
  Process* started = &process;
  spawn_fiber(process, "main", [started] { started->main(*started->runtime); });
}

void World::kill_all_fibers(Process& process) {
  std::erase_if(ready_,
                [&](const ReadyFiber& ready) { return ready.process_index == process.index; });
  process.paused_ready.clear();
  Process* previous_process = running_process_;
  const uint32_t previous_slot = running_slot_;
  // Slot order is deterministic; each kill runs that fiber's destructors to completion.
  for (uint32_t slot = 0; slot < process.fibers.size(); ++slot) {
    if (!process.fibers[slot].fiber) continue;
    running_process_ = &process;
    running_slot_ = slot;
    process.fibers[slot].fiber->kill();
  }
  running_process_ = previous_process;
  running_slot_ = previous_slot;
  process.fibers.clear();
  process.free_slots.clear();
  process.live_fibers = 0;
}

void World::crash(NodeId id, CrashMode mode) {
  ASSERT(env::Fiber::current() == nullptr, "crash() is for the driver, not for process code");
  Process& victim = process(id);
  if (victim.state == ProcessState::kCrashed) return;
  // Crashed first, so that sends from destructors during unwinding go nowhere.
  victim.state = ProcessState::kCrashed;
  trace_.add(now_, id.value(), TraceKind::kProcessCrash, victim.incarnation,
             static_cast<uint64_t>(mode));
  kill_all_fibers(victim);
  victim.inbox.clear();
  victim.receivers.clear();
  victim.disk.crash(mode, disk_random_);
  victim.random.reset();
}

Status World::restart(NodeId id) {
  ASSERT(env::Fiber::current() == nullptr, "restart() is for the driver, not for process code");
  Process* target = find_process(id);
  if (target == nullptr) return Status(ErrorCode::kInvalidInput, "no such process");
  if (target->state != ProcessState::kCrashed) {
    return Status(ErrorCode::kInvalidInput, "restart of a process that is not crashed");
  }
  start_process(*target);
  return Status::ok();
}

void World::pause(NodeId id) {
  Process& target = process(id);
  if (target.state != ProcessState::kRunning) return;
  target.state = ProcessState::kPaused;
  trace_.add(now_, id.value(), TraceKind::kProcessPause);
  // Its ready fibers wait aside, in order, until resume().
  for (const ReadyFiber& ready : ready_) {
    if (ready.process_index == target.index) target.paused_ready.push_back(ready);
  }
  std::erase_if(ready_,
                [&](const ReadyFiber& ready) { return ready.process_index == target.index; });
}

void World::resume(NodeId id) {
  Process& target = process(id);
  if (target.state != ProcessState::kPaused) return;
  target.state = ProcessState::kRunning;
  trace_.add(now_, id.value(), TraceKind::kProcessResume);
  ready_.insert(ready_.end(), target.paused_ready.begin(), target.paused_ready.end());
  target.paused_ready.clear();
}

ProcessState World::state(NodeId id) const {
  return process(id).state;
}

std::vector<NodeId> World::process_ids() const {
  std::vector<NodeId> ids;
  for (const auto& [id, index] : process_index_) ids.push_back(id);
  return ids;
}

// ---------------------------------------------------------------- fibers

env::FiberId World::spawn_fiber(Process& process, std::string name, std::function<void()> body) {
  ASSERT(process.state != ProcessState::kCrashed, "spawn in a crashed process");
  ASSERT(process.live_fibers < limits::kMaxFibersPerProcess,
         "more than kMaxFibersPerProcess fibers in one process");
  uint32_t slot;
  if (!process.free_slots.empty()) {
    slot = process.free_slots.back();
    process.free_slots.pop_back();
  } else {
    slot = static_cast<uint32_t>(process.fibers.size());
    process.fibers.emplace_back();
  }
  FiberSlot& fiber = process.fibers[slot];
  ++fiber.generation;
  fiber.fiber = std::make_unique<env::Fiber>(std::move(name), std::move(body));
  fiber.wait_token = 0;
  fiber.local_deadline.reset();
  fiber.carrier_token = 0;
  fiber.deferred_timer.reset();
  ++process.live_fibers;
  const env::FiberId id = make_fiber_id(slot, fiber.generation);
  trace_.add(now_, process.id.value(), TraceKind::kFiberSpawn, id.value());
  make_ready(process, slot);
  return id;
}

void World::make_ready(Process& process, uint32_t slot) {
  if (process.state == ProcessState::kCrashed) return;  // e.g. a wake() from a destructor
  FiberSlot& fiber = process.fibers[slot];
  fiber.state = FiberState::kReady;
  const ReadyFiber ready{process.index, slot, fiber.generation};
  if (process.state == ProcessState::kPaused) {
    process.paused_ready.push_back(ready);
  } else {
    ready_.push_back(ready);
  }
}

void World::check_running_fiber_of(const Process& process) const {
  ASSERT(running_process_ == &process, "blocking call outside a fiber of this process");
  ASSERT(env::Fiber::current() == process.fibers[running_slot_].fiber.get(),
         "blocking call from a fiber the scheduler did not resume");
}

env::FiberId World::current_fiber_id() const {
  ASSERT(running_process_ != nullptr, "current_fiber() outside a simulated fiber");
  return make_fiber_id(running_slot_, running_process_->fibers[running_slot_].generation);
}

bool World::block_current_fiber(Process& process, FiberState state,
                                std::optional<Instant> deadline) {
  check_running_fiber_of(process);
  // A destructor running while a crash unwinds this fiber (say, a file flushed on close)
  // must not block: the fiber is dying. Its wait ends at once, as a timeout.
  if (process.state == ProcessState::kCrashed) return false;
  const uint32_t slot = running_slot_;
  FiberSlot& fiber = process.fibers[slot];
  fiber.state = state;
  fiber.woken = false;
  fiber.wait_token = next_wait_token_++;
  fiber.local_deadline = deadline;
  if (deadline) schedule_wait_timer(process, slot);
  fiber.fiber->suspend();
  return process.fibers[slot].woken;
}

void World::schedule_wait_timer(Process& process, uint32_t slot) {
  FiberSlot& fiber = process.fibers[slot];
  Instant at = process.clock.virtual_when_local_reaches(*fiber.local_deadline, now_);
  if (at < now_) at = now_;
  // The sequence number is taken now either way, so every other event keeps its own.
  const uint64_t sequence = next_sequence_++;
  // The carrier pops first (at or before `at`, and with a smaller sequence) and queues this
  // timer then (see FiberSlot).
  if (fiber.carrier_token != 0 && fiber.carrier_time <= at) {
    fiber.deferred_timer = DeferredTimer{at, sequence, fiber.wait_token};
    return;
  }
  fiber.deferred_timer.reset();
  queue_.push(
      ScheduledEvent{at, sequence, EventKind::kFiberTimer, process.index, slot, fiber.wait_token});
  // The earlier event carries from now on; a later one still queued is left to turn stale.
  fiber.carrier_token = fiber.wait_token;
  fiber.carrier_time = at;
}

void World::reschedule_wait_timers(Process& process) {
  // A clock change moves every local deadline on the virtual time line; the old timers turn
  // stale through their tokens.
  for (uint32_t slot = 0; slot < process.fibers.size(); ++slot) {
    FiberSlot& fiber = process.fibers[slot];
    const bool waiting = fiber.state == FiberState::kParked || fiber.state == FiberState::kSleeping;
    if (!waiting || !fiber.local_deadline) continue;
    fiber.wait_token = next_wait_token_++;
    schedule_wait_timer(process, slot);
  }
}

bool World::wake_fiber(Process& process, env::FiberId id) {
  const uint32_t slot = fiber_id_slot(id);
  if (slot >= process.fibers.size()) return false;
  FiberSlot& fiber = process.fibers[slot];
  if (fiber.generation != fiber_id_generation(id)) return false;
  if (fiber.state != FiberState::kParked) return false;
  fiber.woken = true;
  fiber.wait_token = 0;  // its timer, if any, is now stale
  make_ready(process, slot);
  return true;
}

void World::yield_current_fiber(Process& process) {
  check_running_fiber_of(process);
  if (process.state == ProcessState::kCrashed) return;  // unwinding: see block_current_fiber
  const uint32_t slot = running_slot_;
  make_ready(process, slot);
  process.fibers[slot].fiber->suspend();
}

void World::fire_timer(const ScheduledEvent& event) {
  Process& owner = *processes_[event.process_index];
  if (event.slot >= owner.fibers.size()) return;
  FiberSlot& fiber = owner.fibers[event.slot];
  if (fiber.carrier_token == event.token) {
    fiber.carrier_token = 0;
    if (fiber.wait_token != event.token) {
      queue_deferred_timer(owner, event.slot);
      return;
    }
  }
  if (fiber.wait_token != event.token) return;  // woken earlier or rescheduled: stale
  if (fiber.state != FiberState::kParked && fiber.state != FiberState::kSleeping) return;
  fiber.woken = false;
  fiber.wait_token = 0;
  trace_.add(now_, owner.id.value(), TraceKind::kFiberTimeout,
             make_fiber_id(event.slot, fiber.generation).value());
  make_ready(owner, event.slot);
}

void World::queue_deferred_timer(Process& process, uint32_t slot) {
  FiberSlot& fiber = process.fibers[slot];
  if (!fiber.deferred_timer) return;
  const DeferredTimer deferred = *fiber.deferred_timer;
  fiber.deferred_timer.reset();
  // A deferred timer of a wait that has ended (woken, rescheduled, fiber gone) would only
  // have turned stale in the queue.
  if (deferred.wait_token == 0 || deferred.wait_token != fiber.wait_token) return;
  ASSERT(deferred.time >= now_, "a deferred timer is due no earlier than its carrier");
  queue_.push(ScheduledEvent{deferred.time, deferred.sequence, EventKind::kFiberTimer,
                             process.index, slot, deferred.wait_token});
  fiber.carrier_token = deferred.wait_token;
  fiber.carrier_time = deferred.time;
}

// ---------------------------------------------------------------- scheduler

void World::push_event(ScheduledEvent event) {
  if (event.time < now_) event.time = now_;
  event.sequence = next_sequence_++;
  queue_.push(event);
}

void World::run_one_ready_fiber() {
  const size_t pick = ready_.size() > 1 ? scheduler_random_.below(ready_.size()) : 0;
  const ReadyFiber ready = ready_[pick];
  ready_[pick] = ready_.back();
  ready_.pop_back();
  Process& owner = *processes_[ready.process_index];
  ASSERT(ready.slot < owner.fibers.size(), "ready fiber outside its process's slots");
  FiberSlot& fiber = owner.fibers[ready.slot];
  ASSERT(fiber.generation == ready.generation, "ready set holds a dead fiber");
  ASSERT(fiber.state == FiberState::kReady, "ready set holds a fiber that is not ready");
  fiber.state = FiberState::kRunning;
  const uint64_t id = make_fiber_id(ready.slot, fiber.generation).value();
  trace_.add(now_, owner.id.value(), TraceKind::kFiberRun, id);
  running_process_ = &owner;
  running_slot_ = ready.slot;
  env::Fiber* running = fiber.fiber.get();
  running->resume();
  running_process_ = nullptr;
  if (!running->finished()) return;
  // The body returned: free the slot (the vector may have grown while it ran).
  FiberSlot& finished = owner.fibers[ready.slot];
  trace_.add(now_, owner.id.value(), TraceKind::kFiberEnd, id);
  finished.fiber.reset();
  finished.state = FiberState::kFree;
  finished.wait_token = 0;
  owner.free_slots.push_back(ready.slot);
  --owner.live_fibers;
}

void World::process_event(const ScheduledEvent& event) {
  switch (event.kind) {
    case EventKind::kFiberTimer:
      fire_timer(event);
      return;
    case EventKind::kDeliver:
      deliver(event);
      return;
    case EventKind::kCallback: {
      std::function<void()> callback = std::move(callbacks_[event.token]);
      callbacks_[event.token] = nullptr;
      free_callbacks_.push_back(static_cast<uint32_t>(event.token));
      // The slab slot is an implementation detail; what the callback does is traced itself.
      trace_.add(now_, 0, TraceKind::kCallback);
      callback();
      return;
    }
  }
  UNREACHABLE("unknown event kind");
}

bool World::step(Instant deadline) {
  // Events due now first: they make fibers ready, so the random pick sees all of them.
  if (!queue_.empty() && queue_.top().time <= now_) {
    process_event(queue_.pop());
    return true;
  }
  if (!ready_.empty()) {
    run_one_ready_fiber();
    return true;
  }
  if (queue_.empty() || queue_.top().time > deadline) return false;
  now_ = queue_.top().time;
  return true;
}

void World::run_until(Instant deadline) {
  ASSERT(env::Fiber::current() == nullptr, "run_until() from inside a simulated fiber");
  while (step(deadline)) {
  }
  if (now_ < deadline) now_ = deadline;
}

bool World::run_until(const std::function<bool()>& predicate, Instant deadline) {
  ASSERT(env::Fiber::current() == nullptr, "run_until() from inside a simulated fiber");
  if (predicate()) return true;
  while (step(deadline)) {
    if (predicate()) return true;
  }
  if (now_ < deadline) now_ = deadline;
  return false;
}

void World::schedule_at(Instant at, std::function<void()> callback) {
  ASSERT(callback != nullptr, "schedule_at() needs a callback");
  uint32_t index;
  if (!free_callbacks_.empty()) {
    index = free_callbacks_.back();
    free_callbacks_.pop_back();
    callbacks_[index] = std::move(callback);
  } else {
    index = static_cast<uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(callback));
  }
  push_event(ScheduledEvent{at, 0, EventKind::kCallback, 0, 0, index});
}

// ---------------------------------------------------------------- network

uint32_t World::store_message(InFlightMessage message) {
  if (!free_messages_.empty()) {
    const uint32_t index = free_messages_.back();
    free_messages_.pop_back();
    messages_[index] = std::move(message);
    return index;
  }
  messages_.push_back(std::move(message));
  return static_cast<uint32_t>(messages_.size() - 1);
}

void World::drop(uint32_t from_index, uint32_t to_index, NodeId from, NodeId to,
                 DropReason reason) {
  ++messages_dropped_;
  trace_.add(now_, to.value(), TraceKind::kDrop, from.value(), to.value(),
             static_cast<uint64_t>(reason));
}

void World::send_message(Process& from, NodeId to, std::string payload) {
  ASSERT(payload.size() <= limits::kMaxMessageBytes, "message larger than kMaxMessageBytes");
  if (from.state == ProcessState::kCrashed) return;  // a dying process's destructors
  const uint64_t payload_hash = hash_bytes(payload);
  trace_.add(now_, from.id.value(), TraceKind::kSend, to.value(), payload.size(), payload_hash);
  auto destination = process_index_.find(to);
  if (destination == process_index_.end()) {
    drop(from.index, 0, from.id, to, DropReason::kUnknownDestination);
    return;
  }
  const uint32_t to_index = destination->second;
  if (fabric_.path(from.index, to_index).cut) {
    drop(from.index, to_index, from.id, to, DropReason::kPartitioned);
    return;
  }
  const std::optional<Instant> delivery =
      fabric_.plan_delivery(from.index, to_index, now_, network_random_);
  std::optional<Instant> duplicate_delivery;
  if (fabric_.draw_duplicate(from.index, to_index, network_random_)) {
    duplicate_delivery = fabric_.plan_delivery(from.index, to_index, now_, network_random_);
    if (duplicate_delivery) trace_.add(now_, from.id.value(), TraceKind::kDuplicate, to.value());
  }
  if (!delivery && !duplicate_delivery) {
    drop(from.index, to_index, from.id, to, DropReason::kLoss);
    return;
  }
  if (duplicate_delivery) {
    const uint32_t copy = store_message(
        InFlightMessage{env::Message{from.id, to, delivery ? payload : std::move(payload)},
                        from.index, to_index, payload_hash});
    push_event(ScheduledEvent{*duplicate_delivery, 0, EventKind::kDeliver, 0, 0, copy});
  }
  if (delivery) {
    const uint32_t original = store_message(InFlightMessage{
        env::Message{from.id, to, std::move(payload)}, from.index, to_index, payload_hash});
    push_event(ScheduledEvent{*delivery, 0, EventKind::kDeliver, 0, 0, original});
  }
}

void World::deliver(const ScheduledEvent& event) {
  const uint32_t index = static_cast<uint32_t>(event.token);
  InFlightMessage& in_flight = messages_[index];
  const NetworkFabric::Path& route = fabric_.path(in_flight.from_index, in_flight.to_index);
  if (route.clogged_until > now_) {
    // Held on a clogged path; re-queued in arrival order, so FIFO paths stay FIFO.
    ScheduledEvent later = event;
    later.time = route.clogged_until;
    push_event(later);
    return;
  }
  Process& destination = *processes_[in_flight.to_index];
  const NodeId from = in_flight.message.from;
  std::optional<DropReason> reason;
  if (route.cut) {
    reason = DropReason::kPartitioned;
  } else if (destination.state == ProcessState::kCrashed) {
    reason = DropReason::kDestinationDown;
  } else if (destination.inbox.size() >= kInboxCapacityMessages) {
    reason = DropReason::kInboxFull;
  }
  if (reason) {
    drop(in_flight.from_index, in_flight.to_index, from, destination.id, *reason);
  } else {
    ++messages_delivered_;
    trace_.add(now_, destination.id.value(), TraceKind::kDeliver, from.value(),
               in_flight.message.payload.size(), in_flight.payload_hash);
    destination.inbox.push_back(std::move(in_flight.message));
    while (!destination.receivers.empty()) {
      const env::FiberId receiver = destination.receivers.front();
      destination.receivers.pop_front();
      if (wake_fiber(destination, receiver)) break;
    }
  }
  in_flight.message = env::Message{};
  free_messages_.push_back(index);
}

void World::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::string description = "partition";
  for (size_t group = 0; group < groups.size(); ++group) {
    description += group == 0 ? " " : " | ";
    for (NodeId id : groups[group]) description += std::to_string(id.value()) + ",";
    for (size_t other = 0; other < groups.size(); ++other) {
      if (other == group) continue;
      for (NodeId from : groups[group]) {
        for (NodeId to : groups[other]) {
          fabric_.path(process(from).index, process(to).index).cut = true;
        }
      }
    }
  }
  trace_.add(now_, 0, TraceKind::kNetworkChange, 0, 0, 0, description);
}

void World::partition_one_way(NodeId from, NodeId to) {
  fabric_.path(process(from).index, process(to).index).cut = true;
  trace_.add(now_, 0, TraceKind::kNetworkChange, from.value(), to.value(), 0, "one_way_cut");
}

void World::heal() {
  fabric_.heal();
  trace_.add(now_, 0, TraceKind::kNetworkChange, 0, 0, 0, "heal");
}

void World::clog(NodeId from, NodeId to, Instant until) {
  fabric_.path(process(from).index, process(to).index).clogged_until = until;
  trace_.add(now_, 0, TraceKind::kNetworkChange, from.value(), to.value(),
             static_cast<uint64_t>(until.nanoseconds()), "clog");
}

void World::set_path_model(NodeId from, NodeId to, const PathModel& model) {
  fabric_.path(process(from).index, process(to).index).model = model;
  trace_.add(now_, 0, TraceKind::kNetworkChange, from.value(), to.value(), 0, "path_model");
}

void World::set_default_path_model(const PathModel& model) {
  options_.default_path = model;
  fabric_.set_default_model(model);
  trace_.add(now_, 0, TraceKind::kNetworkChange, 0, 0, 0, "default_path_model");
}

// ---------------------------------------------------------------- clocks and disks

void World::set_clock_offset(NodeId id, Duration offset) {
  Process& target = process(id);
  target.clock.set_offset(now_, offset);
  trace_.add(now_, id.value(), TraceKind::kClockChange,
             static_cast<uint64_t>(target.clock.local_at(now_).nanoseconds()), 0, 0, "offset");
  reschedule_wait_timers(target);
}

void World::jump_clock(NodeId id, Duration delta) {
  Process& target = process(id);
  target.clock.jump(now_, delta);
  trace_.add(now_, id.value(), TraceKind::kClockChange,
             static_cast<uint64_t>(target.clock.local_at(now_).nanoseconds()), 0, 0, "jump");
  reschedule_wait_timers(target);
}

Status World::set_clock_drift_ppm(NodeId id, int64_t drift_ppm) {
  if (drift_ppm > kMaxClockDriftPpm || drift_ppm < -kMaxClockDriftPpm) {
    return Status(ErrorCode::kInvalidInput,
                  "clock drift must be within ±" + std::to_string(kMaxClockDriftPpm) + " ppm");
  }
  Process& target = process(id);
  target.clock.set_drift_ppm(now_, drift_ppm);
  trace_.add(now_, id.value(), TraceKind::kClockChange,
             static_cast<uint64_t>(target.clock.local_at(now_).nanoseconds()),
             static_cast<uint64_t>(drift_ppm), 0, "drift");
  reschedule_wait_timers(target);
  return Status::ok();
}

Instant World::local_time(NodeId id) const {
  return process(id).clock.local_at(now_);
}

DiskFaults& World::disk_faults(NodeId id) {
  return process(id).disk.faults();
}

DiskState& World::disk(NodeId id) {
  return process(id).disk;
}

Status World::flip_random_bit(NodeId id, std::string_view path) {
  Status flipped = process(id).disk.flip_random_bit(path, disk_random_);
  if (flipped.is_ok()) {
    trace_.add(now_, id.value(), TraceKind::kDiskFault, 0, 0, 0, "bit_flip " + std::string(path));
  }
  return flipped;
}

// ---------------------------------------------------------------- buggify and probes

bool World::buggify(Process& process, std::source_location site) {
  if (!options_.buggify_enabled) return false;
  const SiteKey key{repository_relative_path(site.file_name()), site.line(), site.column()};
  auto found = buggify_sites_.find(key);
  if (found == buggify_sites_.end()) {
    found = buggify_sites_.emplace(key, fault_random_.chance(kBuggifySiteEnabledProbability)).first;
  }
  if (!found->second) return false;
  if (!fault_random_.chance(kBuggifyFireProbability)) return false;
  trace_.add(now_, process.id.value(), TraceKind::kBuggifyFired, site.line(), 0, 0, key.file);
  return true;
}

void World::probe(std::source_location site, std::string_view name) {
  const std::string_view file = repository_relative_path(site.file_name());
  const auto key = std::make_tuple(file, site.line(), name);
  auto found = probes_.find(key);
  if (found == probes_.end()) {
    probes_.emplace(std::make_tuple(file, site.line(), std::string(name)), 1);
    return;
  }
  ++found->second;
}

std::vector<ProbeHit> World::probes_hit() const {
  std::vector<ProbeHit> hits;
  for (const auto& [key, count] : probes_) {
    const auto& [file, line, name] = key;
    hits.push_back(ProbeHit{std::string(file) + ":" + std::to_string(line), name, count});
  }
  return hits;
}

}  // namespace lockstep::sim
