// `lockstep bench sim [--scenarios DIR] [--seeds N]`: for each scenario file, the simulated
// seconds per wall second and the world events per wall second of a whole scenario run —
// cluster, clients, faults and every check (linearizability included). Numbers are recorded
// in docs/benchmarks/scenarios.md.
//
//   lockstep bench sim --scenarios scenarios --seeds 3
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/command_registry.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::cli {
namespace {

struct BenchSimFlags {
  std::string scenarios =
#ifdef LOCKSTEP_SOURCE_ROOT
      LOCKSTEP_SOURCE_ROOT "/scenarios";
#else
      "scenarios";
#endif
  int seeds = 2;
};

void bench(const BenchSimFlags& flags) {
  Result<std::vector<std::string>> paths = sim::scenario::scenario_paths(flags.scenarios);
  if (!paths.is_ok()) {
    std::fprintf(stderr, "lockstep bench sim: %s\n", paths.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  std::printf("%-34s %3s %6s %8s %9s %11s %10s %8s %6s\n", "scenario", "N", "seeds", "sim_s",
              "wall_s", "events/s", "ops/wall_s", "sim/wall", "pass");
  double total_sim = 0;
  double total_wall = 0;
  for (const std::string& path : *paths) {
    Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(path);
    if (!scenario.is_ok()) {
      std::fprintf(stderr, "lockstep bench sim: %s\n", scenario.error().detail().c_str());
      set_exit_code(2);
      return;
    }
    double sim_s = 0;
    double wall_s = 0;
    uint64_t events = 0;
    uint64_t ops = 0;
    int passed = 0;
    for (int seed = 1; seed <= flags.seeds; ++seed) {
      const auto start = std::chrono::steady_clock::now();
      Result<sim::scenario::ScenarioResult> result =
          sim::scenario::run_scenario(*scenario, static_cast<uint64_t>(seed));
      wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!result.is_ok()) continue;
      sim_s += static_cast<double>(result->sim_time_ms) / 1000.0;
      events += result->events;
      ops += result->operations();
      passed += result->passed();
    }
    total_sim += sim_s;
    total_wall += wall_s;
    std::printf("%-34s %3d %6d %8.1f %9.2f %11.0f %10.0f %7.1fx %3d/%d\n",
                std::filesystem::path(path).stem().string().c_str(), scenario->cluster.members,
                flags.seeds, sim_s, wall_s, static_cast<double>(events) / wall_s,
                static_cast<double>(ops) / wall_s, sim_s / wall_s, passed, flags.seeds);
    std::fflush(stdout);
  }
  std::printf("total: %.1f simulated s in %.1f wall s = %.1fx real time\n", total_sim, total_wall,
              total_sim / total_wall);
}

void add_bench_sim_command(CLI::App& parent) {
  auto flags = std::make_shared<BenchSimFlags>();
  CLI::App* command = parent.add_subcommand(
      "sim",
      "Simulated seconds per wall second and events/s of each scenario, checks included\n"
      "  example: lockstep bench sim --scenarios scenarios --seeds 3");
  command->add_option("--scenarios", flags->scenarios, "Scenario file or directory");
  command->add_option("--seeds", flags->seeds, "Seeds per scenario (1..N)")
      ->check(CLI::Range(1, 1000));
  command->callback([flags] { bench(*flags); });
}

const CommandRegistration registration("bench", "sim", add_bench_sim_command);

}  // namespace
}  // namespace lockstep::cli
