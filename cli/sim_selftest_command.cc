// `lockstep sim selftest`: runs the replicated counter (core/node) in the simulated world
// under a seeded storm of network, disk, clock and process faults, then checks durability
// and convergence. Prints a summary ending in `trace_hash`; the same seed always prints the
// same hash. Exit codes: 0 all promises held (and, with --check-determinism, the seed
// replayed identically), 1 a promise broke or the replay diverged, 2 bad input.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "sim/counter_selftest.h"
#include "sim/determinism_check.h"
#include "sim/world.h"

namespace lockstep::cli {
namespace {

// Bounds on the flags, so a typo cannot ask for a week of simulated time.
constexpr uint32_t kMaxSelftestProcesses = 32;
constexpr int64_t kMaxSelftestDurationMs = 3'600'000;

struct SelftestFlags {
  uint64_t seed = 1;
  uint32_t processes = 3;
  int64_t duration_ms = 30'000;
  uint64_t increments = 40;
  bool check_determinism = false;
  bool no_buggify = false;
  bool perturb_second_run = false;
  std::string trace_path;
};

void print_summary(const SelftestFlags& flags, const sim::SelftestResult& result,
                   const std::vector<sim::ProbeHit>& probes) {
  std::printf("sim selftest: replicated counter, seed %llu, %u processes, %lld ms virtual\n",
              static_cast<unsigned long long>(flags.seed), flags.processes,
              static_cast<long long>(flags.duration_ms));
  std::printf("faults injected:");
  for (const auto& [kind, count] : result.faults) {
    std::printf(" %s=%llu", kind.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("\nmessages: delivered=%llu dropped=%llu\n",
              static_cast<unsigned long long>(result.messages_delivered),
              static_cast<unsigned long long>(result.messages_dropped));
  std::printf("totals (expected %llu):", static_cast<unsigned long long>(result.expected_total));
  for (const auto& [id, total] : result.totals) {
    std::printf(" %llu:%llu", static_cast<unsigned long long>(id.value()),
                static_cast<unsigned long long>(total));
  }
  std::printf("\n");
  if (result.converged_at) {
    std::printf("converged: yes, at %.3f s virtual\n",
                static_cast<double>(result.converged_at->nanoseconds()) / 1e9);
  } else {
    std::printf("converged: NO by the end of the run\n");
  }
  std::printf("durability violations: %zu\n", result.violations.size());
  for (const std::string& violation : result.violations) std::printf("  %s\n", violation.c_str());
  std::printf("probes hit: %zu\n", probes.size());
  for (const sim::ProbeHit& probe : probes) {
    std::printf("  %-50s %8llu  (%s)\n", probe.name.c_str(),
                static_cast<unsigned long long>(probe.hits), probe.site.c_str());
  }
  std::printf("events: %llu\n", static_cast<unsigned long long>(result.events));
  std::printf("verdict: %s\n", result.ok() ? "ok" : "FAILED");
  std::printf("trace_hash: %016llx\n", static_cast<unsigned long long>(result.trace_hash));
}

bool write_trace(const std::string& path, const sim::Trace& trace) {
  std::ofstream out(path);
  if (!out) return false;
  for (const sim::TraceRecord& record : trace.records()) out << record.to_string() << '\n';
  return static_cast<bool>(out);
}

void run_selftest(const SelftestFlags& flags) {
  if (flags.processes == 0 || flags.processes > kMaxSelftestProcesses) {
    std::fprintf(stderr, "error: --processes must be in 1..%u\n", kMaxSelftestProcesses);
    set_exit_code(2);
    return;
  }
  if (flags.duration_ms <= 0 || flags.duration_ms > kMaxSelftestDurationMs) {
    std::fprintf(stderr, "error: --duration-ms must be in 1..%lld\n",
                 static_cast<long long>(kMaxSelftestDurationMs));
    set_exit_code(2);
    return;
  }
  sim::SelftestOptions options;
  options.processes = flags.processes;
  options.duration = std::chrono::milliseconds(flags.duration_ms);
  options.target_increments = flags.increments;
  sim::WorldOptions world_options = sim::WorldOptions::seeded(flags.seed);
  world_options.buggify_enabled = !flags.no_buggify;
  world_options.record_trace = !flags.trace_path.empty();

  auto world = std::make_unique<sim::World>(world_options);
  const sim::SelftestResult result = sim::run_counter_selftest(*world, options);
  print_summary(flags, result, world->probes_hit());
  int exit_code = result.ok() ? 0 : 1;
  if (!flags.trace_path.empty()) {
    if (!write_trace(flags.trace_path, world->trace())) {
      std::fprintf(stderr, "error: cannot write trace to %s\n", flags.trace_path.c_str());
      set_exit_code(2);
      return;
    }
    std::printf("trace: %zu events written to %s\n", world->trace().records().size(),
                flags.trace_path.c_str());
  }
  if (flags.check_determinism) {
    int runs = 0;
    const sim::DeterminismReport report =
        sim::check_determinism(world_options, [&](sim::World& fresh) {
          // --perturb-second-run: a deliberate nondeterminism (a 1 ns clock step on node 1
          // halfway through the second run only), to show what a divergence report looks like.
          if (++runs == 2 && flags.perturb_second_run) {
            fresh.schedule_at(Instant(options.duration / 2),
                              [&fresh] { fresh.jump_clock(NodeId(1), Duration(1)); });
          }
          sim::run_counter_selftest(fresh, options);
        });
    if (report.deterministic) {
      std::printf("determinism: ok (two more runs, %llu events each, hash %016llx)\n",
                  static_cast<unsigned long long>(report.first_event_count),
                  static_cast<unsigned long long>(report.first_trace_hash));
    } else {
      std::printf("determinism: DIVERGED (hashes %016llx vs %016llx)\n",
                  static_cast<unsigned long long>(report.first_trace_hash),
                  static_cast<unsigned long long>(report.second_trace_hash));
      if (report.divergence) std::printf("%s\n", report.divergence->to_string().c_str());
      exit_code = 1;
    }
  }
  set_exit_code(exit_code);
}

void add_sim_selftest_command(CLI::App& parent) {
  auto flags = std::make_shared<SelftestFlags>();
  CLI::App* command = parent.add_subcommand(
      "selftest",
      "Run the replicated counter under seeded network, disk, clock and crash faults; check "
      "durability and convergence; print the trace hash");
  command->footer(
      "Example:\n"
      "  lockstep sim selftest --seed 42 --processes 5 --duration-ms 20000 --check-determinism\n"
      "Exit codes: 0 ok, 1 a check failed or the replay diverged, 2 bad input.");
  command->add_option("--seed", flags->seed,
                      "Seed of the run (every random choice derives from it)");
  command->add_option("--processes", flags->processes, "Number of counter processes")
      ->capture_default_str();
  command
      ->add_option("--duration-ms", flags->duration_ms,
                   "Virtual duration in ms (faults in the first 60%)")
      ->capture_default_str();
  command->add_option("--increments", flags->increments, "Increments each process makes")
      ->capture_default_str();
  command->add_flag("--check-determinism", flags->check_determinism,
                    "Run the seed twice more in-process and compare traces event by event");
  command->add_flag("--no-buggify", flags->no_buggify, "Disable buggify() fault sites");
  command->add_flag("--perturb-second-run", flags->perturb_second_run,
                    "With --check-determinism: make the second run differ on purpose, to "
                    "demonstrate the divergence report (exits 1)");
  command->add_option("--trace", flags->trace_path, "Write every event of the run to FILE");
  command->callback([flags] { run_selftest(*flags); });
}

const CommandRegistration registration("sim", "selftest", add_sim_selftest_command);

}  // namespace
}  // namespace lockstep::cli
