// `lockstep sim cluster`: boots a simulated cluster of store members, runs workloads against
// it under a seeded fault plan, and judges the run (linearizability, Raft safety, liveness,
// convergence, and each workload's own checks). Prints a summary ending in `trace_hash` and
// the verdict; the same seed always prints the same hash.
// Exit codes: 0 every check passed, 1 a check failed or was unknown, 2 bad input.
//
//   lockstep sim cluster --members 5 --seed 7 --duration-ms 10000 --workload kv,txn --faults
//   standard
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "checker/history_format.h"
#include "cli/command_registry.h"
#include "sim/cluster/cluster_run.h"

namespace lockstep::cli {
namespace {

constexpr int kMaxMembers = 15;
constexpr int kMaxClientsPerWorkload = 64;
constexpr int64_t kMaxDurationMs = 3'600'000;

struct ClusterFlags {
  uint64_t seed = 1;
  int members = 5;
  int64_t duration_ms = 10'000;
  int64_t settle_ms = 5'000;
  std::string workloads = "kv";
  std::string faults = "standard";
  int clients = 3;
  std::string history_path;
  bool check_determinism = false;
};

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Result<sim::FaultPlan> parse_faults(const std::string& name) {
  if (name == "none") return sim::FaultPlan::none();
  if (name == "standard") return sim::FaultPlan::standard();
  if (name == "heavy") {
    sim::FaultPlan plan = sim::FaultPlan::standard();
    plan.crashes = 4;
    plan.partitions = 4;
    plan.pauses = 2;
    plan.message_loss = 0.05;
    return plan;
  }
  return Error(ErrorCode::kInvalidInput, "--faults must be none, standard or heavy");
}

Result<sim::RunOptions> make_options(const ClusterFlags& flags) {
  if (flags.members < 1 || flags.members > kMaxMembers) {
    return Error(ErrorCode::kInvalidInput, "--members must be in [1, 15]");
  }
  if (flags.duration_ms < 100 || flags.duration_ms > kMaxDurationMs) {
    return Error(ErrorCode::kInvalidInput, "--duration-ms must be in [100, 3600000]");
  }
  if (flags.settle_ms < 1000 || flags.settle_ms > kMaxDurationMs) {
    return Error(ErrorCode::kInvalidInput, "--settle-ms must be in [1000, 3600000]");
  }
  if (flags.clients < 1 || flags.clients > kMaxClientsPerWorkload) {
    return Error(ErrorCode::kInvalidInput, "--clients must be in [1, 64]");
  }
  sim::RunOptions options;
  options.cluster.seed = flags.seed;
  options.cluster.member_count = flags.members;
  options.workloads = split_commas(flags.workloads);
  if (options.workloads.empty()) return Error(ErrorCode::kInvalidInput, "--workload is empty");
  for (const std::string& workload : options.workloads) {
    if (!sim::make_workload(workload)) {
      std::string known;
      for (std::string_view name : sim::workload_names()) known += " " + std::string(name);
      return Error(ErrorCode::kInvalidInput, "unknown workload '" + workload + "'; known:" + known);
    }
  }
  options.clients_per_workload = flags.clients;
  options.duration = std::chrono::milliseconds(flags.duration_ms);
  options.settle = std::chrono::milliseconds(flags.settle_ms);
  Result<sim::FaultPlan> faults = parse_faults(flags.faults);
  if (!faults.is_ok()) return faults.error();
  options.faults = *faults;
  return options;
}

void run(const ClusterFlags& flags) {
  Result<sim::RunOptions> options = make_options(flags);
  if (!options.is_ok()) {
    std::fprintf(stderr, "lockstep sim cluster: %s\n", options.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  Result<sim::RunResult> result = sim::run_workloads(*options);
  if (!result.is_ok()) {
    std::fprintf(stderr, "lockstep sim cluster: %s\n", result.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  std::printf("sim cluster: %d members, workloads %s, faults %s\n", flags.members,
              flags.workloads.c_str(), flags.faults.c_str());
  std::printf("%s", result->summary().c_str());
  bool passed = result->passed();
  if (flags.check_determinism) {
    Result<sim::RunResult> again = sim::run_workloads(*options);
    const bool same = again.is_ok() && again->trace_hash == result->trace_hash;
    std::printf("determinism: %s\n", same ? "same trace_hash on replay" : "REPLAY DIVERGED");
    passed = passed && same;
  }
  if (!flags.history_path.empty()) {
    std::ofstream out(flags.history_path);
    out << checker::to_jsonl(result->history, "etcd");
    if (!out) {
      std::fprintf(stderr, "lockstep sim cluster: cannot write %s\n", flags.history_path.c_str());
      set_exit_code(2);
      return;
    }
    std::printf("history written to %s (%zu operations)\n", flags.history_path.c_str(),
                result->history.operations.size());
  }
  set_exit_code(passed ? 0 : 1);
}

void add_sim_cluster_command(CLI::App& parent) {
  auto flags = std::make_shared<ClusterFlags>();
  CLI::App* command = parent.add_subcommand(
      "cluster",
      "Run store members and clients in the simulated world and check the run\n"
      "  example: lockstep sim cluster --members 5 --seed 7 --duration-ms 10000 "
      "--workload kv,txn,watch");
  command->add_option("--seed", flags->seed, "Seed of the run (same seed, same trace)");
  command->add_option("--members", flags->members, "Number of members (1-15)");
  command->add_option("--duration-ms", flags->duration_ms,
                      "Virtual milliseconds during which clients issue operations");
  command->add_option("--settle-ms", flags->settle_ms,
                      "Virtual milliseconds after that for healing and convergence");
  command->add_option("--workload", flags->workloads,
                      "Comma-separated: kv, txn, watch, lease, lock, election, config");
  command->add_option("--clients", flags->clients, "Client processes per workload");
  command->add_option("--faults", flags->faults, "Fault plan: none, standard, heavy");
  command->add_option("--history", flags->history_path,
                      "Write the recorded history as JSONL (docs/HISTORY_FORMAT.md)");
  command->add_flag("--check-determinism", flags->check_determinism,
                    "Run the seed twice and compare trace hashes");
  command->callback([flags] { run(*flags); });
}

const CommandRegistration registration("sim", "cluster", add_sim_cluster_command);

}  // namespace
}  // namespace lockstep::cli
