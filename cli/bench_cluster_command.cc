// `lockstep bench cluster`: how fast the simulated world runs a loaded 5-member store
// cluster, including checking. Prints simulated seconds per wall second and events per wall
// second, for the simulation alone and with the checks. The wall clock is read here, in the
// CLI, never inside sim/ or checker/.
//
//   lockstep bench cluster --seed 1 --duration-ms 20000 --workload kv,txn
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>

#include "cli/command_registry.h"
#include "sim/cluster/cluster_run.h"

namespace lockstep::cli {
namespace {

struct BenchFlags {
  uint64_t seed = 1;
  int members = 5;
  int64_t duration_ms = 20'000;
  std::string workloads = "kv,txn";
  int clients = 5;
  int runs = 3;
};

void run(const BenchFlags& flags) {
  if (flags.members < 1 || flags.members > 15 || flags.duration_ms < 1000 ||
      flags.duration_ms > 3'600'000 || flags.runs < 1 || flags.runs > 100 || flags.clients < 1 ||
      flags.clients > 64) {
    std::fprintf(stderr, "lockstep bench cluster: flag out of range\n");
    set_exit_code(2);
    return;
  }
  sim::RunOptions options;
  options.cluster.member_count = flags.members;
  std::stringstream names(flags.workloads);
  for (std::string name; std::getline(names, name, ',');) {
    if (!name.empty()) options.workloads.push_back(name);
  }
  options.clients_per_workload = flags.clients;
  options.duration = std::chrono::milliseconds(flags.duration_ms);
  options.settle = std::chrono::seconds(5);
  options.faults = sim::FaultPlan::standard();
  double total_sim_seconds = 0;
  double total_wall_seconds = 0;
  uint64_t total_events = 0;
  uint64_t total_operations = 0;
  for (int run_index = 0; run_index < flags.runs; ++run_index) {
    options.cluster.seed = flags.seed + static_cast<uint64_t>(run_index);
    const auto started = std::chrono::steady_clock::now();
    Result<sim::RunResult> result = sim::run_workloads(options);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!result.is_ok()) {
      std::fprintf(stderr, "lockstep bench cluster: %s\n", result.error().to_string().c_str());
      set_exit_code(2);
      return;
    }
    const double simulated = std::chrono::duration<double>(result->simulated_time).count();
    std::printf(
        "run seed=%llu sim_s=%.1f wall_s=%.3f sim_per_wall=%.1fx events=%llu events_per_s=%.0f "
        "ops=%llu verdict=%s\n",
        static_cast<unsigned long long>(options.cluster.seed), simulated, wall, simulated / wall,
        static_cast<unsigned long long>(result->events), static_cast<double>(result->events) / wall,
        static_cast<unsigned long long>(result->operations_ok), result->passed() ? "pass" : "FAIL");
    total_sim_seconds += simulated;
    total_wall_seconds += wall;
    total_events += result->events;
    total_operations += result->operations_ok;
  }
  std::printf(
      "total: %d runs, %d members, workloads %s, %d clients each, standard faults, checks "
      "included\n  simulated seconds per wall second: %.1f\n  events per wall second: %.0f\n"
      "  client operations per wall second: %.0f\n",
      flags.runs, flags.members, flags.workloads.c_str(), flags.clients,
      total_sim_seconds / total_wall_seconds,
      static_cast<double>(total_events) / total_wall_seconds,
      static_cast<double>(total_operations) / total_wall_seconds);
}

void add_bench_cluster_command(CLI::App& parent) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* command = parent.add_subcommand(
      "cluster",
      "Simulated seconds per wall second of a loaded 5-member cluster, checks included\n"
      "  example: lockstep bench cluster --duration-ms 20000 --runs 3");
  command->add_option("--seed", flags->seed, "First seed");
  command->add_option("--members", flags->members, "Members (1-15)");
  command->add_option("--duration-ms", flags->duration_ms, "Virtual milliseconds of load per run");
  command->add_option("--workload", flags->workloads, "Comma-separated workloads");
  command->add_option("--clients", flags->clients, "Clients per workload");
  command->add_option("--runs", flags->runs, "Runs (seeds seed, seed+1, ...)");
  command->callback([flags] { run(*flags); });
}

const CommandRegistration registration("bench", "cluster", add_bench_cluster_command);

}  // namespace
}  // namespace lockstep::cli
