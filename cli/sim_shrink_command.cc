// `lockstep sim shrink FILE --seed N [--out FILE] [--check NAME] [--max-runs R]`: reduces a
// failing run to a smaller scenario (fewer faults, shorter phases, fewer workloads, clients
// and members) that still fails the same check with the same seed, saves it, and prints the
// command that replays it. Exit codes: 0 shrunk and saved, 1 the run passes (nothing to
// shrink), 2 bad input.
//
//   lockstep sim shrink scenarios/flapping_partitions.json --seed 3 --out shrunk.json
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/command_registry.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/shrinker.h"

namespace lockstep::cli {
namespace {

struct ShrinkFlags {
  std::string scenario_path;
  uint64_t seed = 1;
  std::string out_path;
  std::string check;
  int max_runs = 200;
};

void shrink(const ShrinkFlags& flags) {
  Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(flags.scenario_path);
  if (!scenario.is_ok()) {
    std::fprintf(stderr, "lockstep sim shrink: %s\n", scenario.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  sim::scenario::ShrinkOptions options;
  options.max_runs = flags.max_runs;
  options.check = flags.check;
  int runs = 0;
  options.run = [&runs](const sim::scenario::Scenario& candidate, uint64_t seed) {
    std::fprintf(stderr, "\rshrinking: run %d", ++runs);
    std::fflush(stderr);
    return sim::scenario::run_scenario(candidate, seed);
  };
  Result<sim::scenario::ShrinkResult> result =
      sim::scenario::shrink_scenario(*scenario, flags.seed, options);
  std::fprintf(stderr, "\n");
  if (!result.is_ok()) {
    std::fprintf(stderr, "lockstep sim shrink: %s\n", result.error().detail().c_str());
    set_exit_code(result.error().code() == ErrorCode::kInvalidInput ? 1 : 2);
    return;
  }
  std::string out = flags.out_path;
  if (out.empty()) {
    const std::filesystem::path path(flags.scenario_path);
    out = (path.parent_path() /
           (path.stem().string() + ".shrunk-seed" + std::to_string(flags.seed) + ".json"))
              .string();
  }
  Status written =
      sim::scenario::write_text_file(out, sim::scenario::scenario_to_json(result->shrunk));
  if (!written.is_ok()) {
    std::fprintf(stderr, "lockstep sim shrink: %s\n", written.to_string().c_str());
    set_exit_code(2);
    return;
  }
  const auto& original = result->original;
  const auto& shrunk = result->shrunk;
  std::printf("check still failing: %s\n", result->check.c_str());
  for (const std::string& step : result->steps) std::printf("  %s\n", step.c_str());
  std::printf(
      "faults %zu -> %zu, duration_ms %lld -> %lld, workloads %zu -> %zu, members %d -> %d "
      "(%d runs)\n",
      original.faults.size(), shrunk.faults.size(), static_cast<long long>(original.duration_ms),
      static_cast<long long>(shrunk.duration_ms), original.workloads.size(),
      shrunk.workloads.size(), original.cluster.members, shrunk.cluster.members, result->runs);
  std::printf("saved %s\nreplay: lockstep sim run %s --seed %llu\n", out.c_str(), out.c_str(),
              static_cast<unsigned long long>(flags.seed));
}

void add_sim_shrink_command(CLI::App& parent) {
  auto flags = std::make_shared<ShrinkFlags>();
  CLI::App* command = parent.add_subcommand(
      "shrink",
      "Reduce a failing (scenario, seed) to a smaller scenario file that fails the same check\n"
      "  exit 0 shrunk, 1 the seed passes, 2 bad input\n"
      "  example: lockstep sim shrink scenarios/flapping_partitions.json --seed 3 --out "
      "shrunk.json");
  command->add_option("file", flags->scenario_path, "Scenario file")->required();
  command->add_option("--seed", flags->seed, "The failing seed")->required();
  command->add_option("--out", flags->out_path,
                      "Where to save the shrunk scenario (default: next to FILE)");
  command->add_option("--check", flags->check,
                      "The check that must keep failing (default: the first failing one)");
  command->add_option("--max-runs", flags->max_runs, "Budget of simulated runs")
      ->check(CLI::Range(1, 100000));
  command->callback([flags] { shrink(*flags); });
}

const CommandRegistration registration("sim", "shrink", add_sim_shrink_command);

}  // namespace
}  // namespace lockstep::cli
