// `lockstep bench sim [--scenarios DIR] [--seeds N]`: for each scenario file, how fast whole
// scenario runs go — cluster boot, clients, faults, the liveness phase, convergence and every
// check (linearizability included) — as simulated seconds per wall second and per CPU second
// (user + system, steadier than wall time on a shared machine), world events per second, and
// the same two rates for the simulation alone (up to the end of the convergence check), so a
// slow row says whether the simulator or the checkers took the time. Numbers are recorded in
// docs/benchmarks/scenarios.md. The wall and CPU clocks are read here, never inside sim/.
//
//   lockstep bench sim --scenarios scenarios --seeds 3

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/command_registry.h"
#include "cli/process_cpu_time.h"
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

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Sums over the seeds of one scenario.
struct Totals {
  double sim_s = 0;
  double wall_s = 0;
  double cpu_s = 0;
  double simulation_wall_s = 0;  // up to RunScenarioOptions::on_simulation_end
  double simulation_cpu_s = 0;
  uint64_t events = 0;
  uint64_t ops = 0;
  int passed = 0;

  void add(const Totals& other) {
    sim_s += other.sim_s;
    wall_s += other.wall_s;
    cpu_s += other.cpu_s;
    simulation_wall_s += other.simulation_wall_s;
    simulation_cpu_s += other.simulation_cpu_s;
    events += other.events;
    ops += other.ops;
    passed += other.passed;
  }
};

Totals run_seeds(const sim::scenario::Scenario& scenario, int seeds) {
  Totals totals;
  for (int seed = 1; seed <= seeds; ++seed) {
    const double wall_start = wall_seconds();
    const double cpu_start = process_cpu_seconds();
    double simulation_wall_end = 0;
    double simulation_cpu_end = 0;
    sim::scenario::RunScenarioOptions options;
    options.on_simulation_end = [&] {
      simulation_wall_end = wall_seconds();
      simulation_cpu_end = process_cpu_seconds();
    };
    Result<sim::scenario::ScenarioResult> result =
        sim::scenario::run_scenario(scenario, static_cast<uint64_t>(seed), options);
    const double wall_end = wall_seconds();
    const double cpu_end = process_cpu_seconds();
    if (simulation_wall_end == 0) {  // the run stopped early: all of it was simulation
      simulation_wall_end = wall_end;
      simulation_cpu_end = cpu_end;
    }
    totals.wall_s += wall_end - wall_start;
    totals.cpu_s += cpu_end - cpu_start;
    totals.simulation_wall_s += simulation_wall_end - wall_start;
    totals.simulation_cpu_s += simulation_cpu_end - cpu_start;
    if (!result.is_ok()) continue;
    totals.sim_s += static_cast<double>(result->sim_time_ms) / 1000.0;
    totals.events += result->events;
    totals.ops += result->operations();
    totals.passed += result->passed();
  }
  return totals;
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;
}

void print_header() {
  std::printf("%-30s %2s %5s %6s %7s %6s %9s %8s %8s | %9s %8s %9s | %5s\n", "scenario", "N",
              "seeds", "sim_s", "wall_s", "cpu_s", "events/s", "sim/wall", "sim/cpu", "sim_only",
              "sim/cpu", "events/s", "pass");
  std::printf("%-30s %2s %5s %6s %7s %6s %9s %8s %8s | %9s %8s %9s |\n", "", "", "", "", "", "",
              "(whole)", "(whole)", "(whole)", "sim/wall", "", "(cpu)");
}

void print_row(const std::string& name, int members, int seeds, const Totals& totals) {
  std::printf(
      "%-30s %2d %5d %6.1f %7.2f %6.2f %9.0f %7.1fx %7.1fx | %8.1fx %7.1fx %9.0f | %2d/%d\n",
      name.c_str(), members, seeds, totals.sim_s, totals.wall_s, totals.cpu_s,
      ratio(static_cast<double>(totals.events), totals.wall_s), ratio(totals.sim_s, totals.wall_s),
      ratio(totals.sim_s, totals.cpu_s), ratio(totals.sim_s, totals.simulation_wall_s),
      ratio(totals.sim_s, totals.simulation_cpu_s),
      ratio(static_cast<double>(totals.events), totals.simulation_cpu_s), totals.passed, seeds);
  std::fflush(stdout);
}

void bench(const BenchSimFlags& flags) {
  Result<std::vector<std::string>> paths = sim::scenario::scenario_paths(flags.scenarios);
  if (!paths.is_ok()) {
    std::fprintf(stderr, "lockstep bench sim: %s\n", paths.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  print_header();
  Totals all;
  for (const std::string& path : *paths) {
    Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(path);
    if (!scenario.is_ok()) {
      std::fprintf(stderr, "lockstep bench sim: %s\n", scenario.error().detail().c_str());
      set_exit_code(2);
      return;
    }
    const Totals totals = run_seeds(*scenario, flags.seeds);
    all.add(totals);
    print_row(std::filesystem::path(path).stem().string(), scenario->cluster.members, flags.seeds,
              totals);
  }
  std::printf(
      "total: %.1f simulated s in %.1f wall s (%.1f cpu s) = %.1fx real time per wall s, "
      "%.1fx per cpu s; simulation alone %.1fx per cpu s\n",
      all.sim_s, all.wall_s, all.cpu_s, ratio(all.sim_s, all.wall_s), ratio(all.sim_s, all.cpu_s),
      ratio(all.sim_s, all.simulation_cpu_s));
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
