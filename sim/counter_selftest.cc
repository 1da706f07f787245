#include "sim/counter_selftest.h"

#include <algorithm>
#include <memory>

#include "core/base/assert.h"
#include "core/node/replicated_counter.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;

// The share of the run with faults; the rest is calm, for convergence.
constexpr int64_t kFaultPhasePercent = 60;
// Gaps between faults and how long a temporary fault lasts.
constexpr int64_t kFaultGapMinMs = 100;
constexpr int64_t kFaultGapMaxMs = 700;
constexpr int64_t kFaultLengthMinMs = 100;
constexpr int64_t kFaultLengthMaxMs = 1500;
constexpr Duration kMinIncrementInterval = std::chrono::milliseconds(5);
constexpr Duration kDiskLatencyMin = std::chrono::microseconds(100);
constexpr Duration kDiskLatencyMax = std::chrono::milliseconds(10);

// Shared by the observer callbacks and the fault schedule; lives as long as the run.
struct SelftestState : std::enable_shared_from_this<SelftestState> {
  World& world;
  SelftestOptions options;
  std::vector<NodeId> members;
  std::map<NodeId, uint64_t> acknowledged;  // highest own count a member reported durable
  std::map<NodeId, node::CounterSnapshot> latest;
  SelftestResult result;
  Instant calm_from;

  explicit SelftestState(World& world_in, const SelftestOptions& options_in)
      : world(world_in), options(options_in) {}

  void observe(const node::CounterSnapshot& snapshot) {
    uint64_t& acked = acknowledged[snapshot.self];
    if (snapshot.reason == node::CounterSnapshot::Reason::kRecovered &&
        snapshot.own_durable < acked) {
      result.violations.push_back("node " + std::to_string(snapshot.self.value()) +
                                  " recovered own count " + std::to_string(snapshot.own_durable) +
                                  " < acknowledged " + std::to_string(acked) +
                                  " at t=" + std::to_string(world.now().nanoseconds()) + "ns");
    }
    acked = std::max(acked, snapshot.own_durable);
    latest[snapshot.self] = snapshot;
  }

  bool converged() const {
    if (latest.size() != members.size()) return false;
    const node::CounterSnapshot& first = latest.begin()->second;
    for (const auto& [id, snapshot] : latest) {
      if (world.state(id) != ProcessState::kRunning) return false;
      if (snapshot.total() != result.expected_total) return false;
      if (snapshot.counts != first.counts) return false;
    }
    return true;
  }

  NodeId random_member() { return members[world.nemesis_random().below(members.size())]; }
  Duration random_length() {
    return milliseconds(world.nemesis_random().between(kFaultLengthMinMs, kFaultLengthMaxMs));
  }

  void count(const std::string& kind) { ++result.faults[kind]; }
  void schedule_next_fault();
  void inject_fault();
  void calm_down();
};

void SelftestState::schedule_next_fault() {
  const Instant at =
      world.now() + milliseconds(world.nemesis_random().between(kFaultGapMinMs, kFaultGapMaxMs));
  if (at >= calm_from) return;
  world.schedule_at(at, [self = shared_from_this()] {
    self->inject_fault();
    self->schedule_next_fault();
  });
}

void SelftestState::inject_fault() {
  Random& random = world.nemesis_random();
  const Instant until = world.now() + random_length();
  switch (random.below(8)) {
    case 0: {  // a random split into two sides
      std::vector<NodeId> one;
      std::vector<NodeId> other;
      for (NodeId id : members) (random.chance(0.5) ? one : other).push_back(id);
      world.partition({one, other});
      world.schedule_at(until, [self = shared_from_this()] { self->world.heal(); });
      count("partition");
      return;
    }
    case 1: {
      const NodeId from = random_member();
      const NodeId to = random_member();
      if (from == to) return;
      world.partition_one_way(from, to);
      world.schedule_at(until, [self = shared_from_this()] { self->world.heal(); });
      count("one_way_partition");
      return;
    }
    case 2:
    case 3: {  // crashes twice as often: they are what tests the disk
      const NodeId victim = random_member();
      if (world.state(victim) == ProcessState::kCrashed) return;
      constexpr CrashMode kModes[] = {CrashMode::kDropAll, CrashMode::kKeepAll, CrashMode::kTorn,
                                      CrashMode::kRandom};
      const CrashMode mode = kModes[random.below(4)];
      world.crash(victim, mode);
      world.schedule_at(until, [self = shared_from_this(), victim] {
        if (self->world.state(victim) == ProcessState::kCrashed) {
          const Status restarted = self->world.restart(victim);
          ASSERT(restarted.is_ok(), "restart of a crashed process must succeed");
        }
      });
      count("crash_" + std::string(crash_mode_name(mode)));
      return;
    }
    case 4: {
      const NodeId victim = random_member();
      DiskFaults& faults = world.disk_faults(victim);
      faults.write_error_probability = 0.3;
      faults.sync_error_probability = 0.3;
      world.schedule_at(until, [self = shared_from_this(), victim] {
        self->world.disk_faults(victim).write_error_probability = 0;
        self->world.disk_faults(victim).sync_error_probability = 0;
      });
      count("disk_eio");
      return;
    }
    case 5: {
      const NodeId victim = random_member();
      if (world.state(victim) != ProcessState::kRunning) return;
      world.pause(victim);
      world.schedule_at(until, [self = shared_from_this(), victim] { self->world.resume(victim); });
      count("pause");
      return;
    }
    case 6: {
      world.clog(random_member(), random_member(), until);
      count("clog");
      return;
    }
    default: {
      world.jump_clock(random_member(), milliseconds(random.between(-2000, 2000)));
      count("clock_jump");
      return;
    }
  }
}

void SelftestState::calm_down() {
  world.heal();
  for (NodeId id : members) {
    world.disk_faults(id).write_error_probability = 0;
    world.disk_faults(id).sync_error_probability = 0;
    if (world.state(id) == ProcessState::kPaused) world.resume(id);
    if (world.state(id) == ProcessState::kCrashed) {
      const Status restarted = world.restart(id);
      ASSERT(restarted.is_ok(), "restart of a crashed process must succeed");
    }
  }
}

}  // namespace

SelftestResult run_counter_selftest(World& world, const SelftestOptions& options) {
  ASSERT(options.processes > 0, "the self-test needs processes");
  // Shared with the processes' observers and the scheduled faults, which may outlive this
  // call if the caller keeps running the world.
  auto state = std::make_shared<SelftestState>(world, options);
  const Instant start = world.now();
  state->calm_from = start + options.duration * kFaultPhasePercent / 100;
  state->result.expected_total = options.target_increments * options.processes;

  PathModel lossy;
  lossy.latency_min = milliseconds(1);
  lossy.jitter_mean = milliseconds(2);
  lossy.loss_probability = 0.05;
  lossy.duplicate_probability = 0.03;
  lossy.reorder_probability = 0.05;
  world.set_default_path_model(lossy);

  node::CounterConfig config;
  for (uint32_t index = 1; index <= options.processes; ++index) {
    config.members.push_back(NodeId(index));
  }
  config.target_increments = options.target_increments;
  // Spread the increments over the fault phase, so crashes and disk errors land among them.
  const Duration fault_phase = state->calm_from - start;
  config.increment_interval = std::max<Duration>(
      kMinIncrementInterval,
      fault_phase / static_cast<int64_t>(2 * std::max<uint64_t>(options.target_increments, 1)));
  state->members = config.members;
  std::shared_ptr<SelftestState> observed = state;
  for (NodeId id : config.members) {
    const Status added =
        world.add_process(id, "counter", [config, observed](env::Runtime& runtime) {
          node::run_replicated_counter(
              runtime, config,
              [observed](const node::CounterSnapshot& snapshot) { observed->observe(snapshot); });
        });
    ASSERT(added.is_ok(), "fresh ids must be accepted");
    DiskFaults& faults = world.disk_faults(id);
    faults.fsync_lies = options.lying_fsync;
    // Disk operations take time, so a crash can land between a write and its fsync.
    faults.latency_min = kDiskLatencyMin;
    faults.latency_max = kDiskLatencyMax;
  }

  state->schedule_next_fault();
  world.schedule_at(state->calm_from, [observed] { observed->calm_down(); });
  const Instant end = start + options.duration;
  world.run_until(state->calm_from);
  if (world.run_until([observed] { return observed->converged(); }, end)) {
    state->result.converged_at = world.now();
  }

  SelftestResult result = state->result;
  for (const auto& [id, snapshot] : state->latest) result.totals[id] = snapshot.total();
  result.trace_hash = world.trace_hash();
  result.events = world.event_count();
  result.end_time = world.now();
  result.messages_delivered = world.messages_delivered();
  result.messages_dropped = world.messages_dropped();
  return result;
}

}  // namespace lockstep::sim
