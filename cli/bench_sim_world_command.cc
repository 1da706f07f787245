// `lockstep bench sim-world`: how fast the simulated world runs a busy multi-process
// workload shaped like a loaded Raft cluster — every process sends a message to every peer
// each tick (like a leader's appends and heartbeats), answers every message it receives
// (like acknowledgements), and appends to a log file with an fsync every few ticks (like a
// WAL) — on a lossy, jittery network with disk latency. Prints events per second and
// simulated seconds per wall-clock (and CPU) second. Asserts nothing.
//
// The wall clock is read here, in cli/, never inside the simulation.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "sim/world.h"

namespace lockstep::cli {
namespace {

constexpr uint32_t kMaxBenchProcesses = 64;
constexpr int64_t kMaxBenchDurationMs = 3'600'000;
constexpr uint64_t kLogBytes = 1 << 20;

struct SimBenchOptions {
  uint64_t seed = 1;
  uint32_t processes = 5;
  int64_t duration_ms = 60'000;
  int64_t tick_us = 1'000;
  uint32_t payload_bytes = 256;
  uint32_t ticks_per_fsync = 5;
  uint32_t log_write_bytes = 1024;
  bool record_trace = false;
};

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& value) { return value.tv_sec + value.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// One process of the workload: a ticking sender/logger and a replying receiver.
void busy_process(env::Runtime& runtime, const SimBenchOptions& options) {
  runtime.spawn("receiver", [&runtime] {
    while (auto message = runtime.network().receive(std::nullopt)) {
      // Answer requests ('q'), not answers ('a'), so traffic does not multiply.
      if (!message->payload.empty() && message->payload[0] == 'q') {
        runtime.network().send(message->from, "a" + std::to_string(message->payload.size()));
      }
    }
  });
  auto log = runtime.disk().open("log", env::OpenMode::kCreateReadWrite);
  if (!log.is_ok()) return;
  (void)runtime.disk().sync_directory("");
  const std::string payload = "q" + std::string(options.payload_bytes, 'x');
  const std::string record(options.log_write_bytes, 'r');
  uint64_t offset = 0;
  for (uint64_t tick = 0;; ++tick) {
    runtime.sleep_for(std::chrono::microseconds(options.tick_us));
    for (uint32_t peer = 1; peer <= options.processes; ++peer) {
      if (NodeId(peer) != runtime.self()) runtime.network().send(NodeId(peer), payload);
    }
    // A circular log, as a WAL reuses its segments: the file stays bounded.
    if ((*log)->write(offset, record).is_ok()) offset = (offset + record.size()) % kLogBytes;
    if (tick % options.ticks_per_fsync == 0) (void)(*log)->sync();
  }
}

void run_bench(const SimBenchOptions& options) {
  if (options.processes < 2 || options.processes > kMaxBenchProcesses || options.duration_ms <= 0 ||
      options.duration_ms > kMaxBenchDurationMs || options.tick_us <= 0 ||
      options.ticks_per_fsync == 0) {
    std::fprintf(stderr,
                 "error: need 2..%u processes, 1..%lld ms, positive tick and fsync period\n",
                 kMaxBenchProcesses, static_cast<long long>(kMaxBenchDurationMs));
    set_exit_code(2);
    return;
  }
  sim::WorldOptions world_options = sim::WorldOptions::seeded(options.seed);
  world_options.record_trace = options.record_trace;
  world_options.default_path.latency_min = std::chrono::microseconds(200);
  world_options.default_path.jitter_mean = std::chrono::microseconds(300);
  world_options.default_path.loss_probability = 0.01;
  world_options.default_path.duplicate_probability = 0.01;
  world_options.default_path.reorder_probability = 0.01;
  auto world = std::make_unique<sim::World>(world_options);
  for (uint32_t id = 1; id <= options.processes; ++id) {
    const Status added = world->add_process(
        NodeId(id), "busy", [options](env::Runtime& runtime) { busy_process(runtime, options); });
    if (!added.is_ok()) {
      std::fprintf(stderr, "error: %s\n", added.to_string().c_str());
      set_exit_code(2);
      return;
    }
    sim::DiskFaults& faults = world->disk_faults(NodeId(id));
    faults.latency_min = std::chrono::microseconds(20);
    faults.latency_max = std::chrono::microseconds(200);
    faults.capacity_bytes = uint64_t{64} << 30;
  }

  const double cpu_before = cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  world->run_until(Instant(std::chrono::milliseconds(options.duration_ms)));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double cpu = cpu_seconds() - cpu_before;

  const double simulated = static_cast<double>(options.duration_ms) / 1000;
  const double events = static_cast<double>(world->event_count());
  std::printf(
      "bench sim-world: %u processes, %.1f s simulated, tick %lld us, payload %u B, "
      "fsync every %u ticks, trace %s\n",
      options.processes, simulated, static_cast<long long>(options.tick_us), options.payload_bytes,
      options.ticks_per_fsync, options.record_trace ? "recorded" : "hash only");
  std::printf("events:                 %.0f\n", events);
  std::printf("messages delivered:     %llu (dropped %llu)\n",
              static_cast<unsigned long long>(world->messages_delivered()),
              static_cast<unsigned long long>(world->messages_dropped()));
  std::printf("wall seconds:           %.3f   (cpu seconds %.3f)\n", wall, cpu);
  std::printf("events per wall second: %.0f   (per cpu second %.0f)\n", events / wall,
              cpu > 0 ? events / cpu : 0.0);
  std::printf("simulated s per wall s: %.1f   (per cpu second %.1f)\n", simulated / wall,
              cpu > 0 ? simulated / cpu : 0.0);
  std::printf("trace_hash:             %016llx\n",
              static_cast<unsigned long long>(world->trace_hash()));
}

void add_bench_sim_world_command(CLI::App& parent) {
  auto options = std::make_shared<SimBenchOptions>();
  CLI::App* command = parent.add_subcommand(
      "sim-world", "Events per second and simulated seconds per wall second of a busy world");
  command->footer("Example:\n  lockstep bench sim-world --processes 5 --duration-ms 60000");
  command->add_option("--seed", options->seed, "Seed")->capture_default_str();
  command->add_option("--processes", options->processes, "Processes")->capture_default_str();
  command->add_option("--duration-ms", options->duration_ms, "Simulated milliseconds")
      ->capture_default_str();
  command->add_option("--tick-us", options->tick_us, "Each process sends to every peer per tick")
      ->capture_default_str();
  command->add_option("--payload-bytes", options->payload_bytes, "Bytes per message")
      ->capture_default_str();
  command->add_option("--ticks-per-fsync", options->ticks_per_fsync, "Log fsync period in ticks")
      ->capture_default_str();
  command->add_flag("--record-trace", options->record_trace,
                    "Record every event as text too (what --trace and determinism checks cost)");
  command->callback([options] { run_bench(*options); });
}

const CommandRegistration registration("bench", "sim-world", add_bench_sim_world_command);

}  // namespace
}  // namespace lockstep::cli
