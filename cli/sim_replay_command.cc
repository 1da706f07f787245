// `lockstep sim replay FILE --seed N [--expect-hash H]` or `lockstep sim replay REPORT_DIR`:
// re-runs a seed and confirms its trace_hash. The run is done twice with full traces, so
// nondeterminism inside this binary is caught and its first divergent event named; against a
// report directory the new trace is also compared with the recorded trace.jsonl event by
// event. Exit codes: 0 same hash, 1 mismatch (first divergent event printed), 2 bad input.
//
//   lockstep sim replay scenarios/flapping_partitions.json --seed 3 --expect-hash 5d1c...
//   lockstep sim replay out/flapping_partitions-3
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/command_registry.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_parser.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/trace.h"

namespace lockstep::cli {
namespace {

using Json = nlohmann::json;

struct ReplayFlags {
  std::string target;
  std::optional<uint64_t> seed;
  std::string expect_hash;
};

struct ReplayInput {
  sim::scenario::Scenario scenario;
  uint64_t seed = 0;
  std::string expect_hash;
  std::vector<sim::TraceRecord> recorded_trace;  // from a report directory's trace.jsonl
};

std::optional<sim::TraceKind> trace_kind_from_name(std::string_view name) {
  for (int kind = 0; kind <= static_cast<int>(sim::TraceKind::kCallback); ++kind) {
    if (sim::trace_kind_name(static_cast<sim::TraceKind>(kind)) == name) {
      return static_cast<sim::TraceKind>(kind);
    }
  }
  return std::nullopt;
}

Result<std::vector<sim::TraceRecord>> read_trace_jsonl(const std::string& path) {
  Result<std::string> text = sim::scenario::read_text_file(path);
  if (!text.is_ok()) return text.error();
  std::vector<sim::TraceRecord> records;
  std::istringstream lines(*text);
  std::string line;
  for (uint64_t index = 0; std::getline(lines, line); ++index) {
    try {
      const Json json = Json::parse(line);
      sim::TraceRecord record;
      record.index = index;
      record.time = Instant(Duration(json.at("t_ns").get<int64_t>()));
      record.node = json.at("process").get<uint64_t>();
      std::optional<sim::TraceKind> kind = trace_kind_from_name(json.at("kind").get<std::string>());
      if (!kind) throw std::invalid_argument("unknown kind");
      record.kind = *kind;
      record.detail = json.at("detail").get<std::string>();
      records.push_back(std::move(record));
    } catch (const std::exception& error) {
      return Error(ErrorCode::kInvalidInput,
                   path + ": line " + std::to_string(index + 1) + ": " + error.what());
    }
  }
  return records;
}

Result<ReplayInput> read_report_directory(const std::string& directory) {
  ReplayInput input;
  Result<std::string> scenario_text = sim::scenario::read_text_file(directory + "/scenario.json");
  if (!scenario_text.is_ok()) return scenario_text.error();
  Result<sim::scenario::Scenario> scenario = sim::scenario::parse_scenario(*scenario_text);
  if (!scenario.is_ok()) {
    return Error(ErrorCode::kInvalidInput,
                 directory + "/scenario.json: " + scenario.error().detail());
  }
  input.scenario = *scenario;
  Result<std::string> summary_text = sim::scenario::read_text_file(directory + "/summary.json");
  if (!summary_text.is_ok()) return summary_text.error();
  try {
    const Json summary = Json::parse(*summary_text);
    input.seed = summary.at("seed").get<uint64_t>();
    input.expect_hash = summary.at("trace_hash").get<std::string>();
  } catch (const std::exception& error) {
    return Error(ErrorCode::kInvalidInput, directory + "/summary.json: " + error.what());
  }
  Result<std::vector<sim::TraceRecord>> trace = read_trace_jsonl(directory + "/trace.jsonl");
  if (trace.is_ok()) input.recorded_trace = std::move(*trace);
  return input;
}

Result<ReplayInput> read_input(const ReplayFlags& flags) {
  if (std::filesystem::is_directory(flags.target)) {
    Result<ReplayInput> input = read_report_directory(flags.target);
    if (input.is_ok() && flags.seed) input->seed = *flags.seed;
    if (input.is_ok() && !flags.expect_hash.empty()) input->expect_hash = flags.expect_hash;
    return input;
  }
  if (!flags.seed)
    return Error(ErrorCode::kInvalidInput, "--seed is required with a scenario file");
  Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(flags.target);
  if (!scenario.is_ok()) return scenario.error();
  return ReplayInput{*scenario, *flags.seed, flags.expect_hash, {}};
}

void print_divergence(const char* what, const sim::TraceDivergence& divergence) {
  std::printf("%s\n%s\n", what, divergence.to_string().c_str());
}

void replay(const ReplayFlags& flags) {
  Result<ReplayInput> input = read_input(flags);
  if (!input.is_ok()) {
    std::fprintf(stderr, "lockstep sim replay: %s\n", input.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  sim::scenario::RunScenarioOptions options;
  options.record_trace = true;
  Result<sim::scenario::ScenarioResult> first =
      sim::scenario::run_scenario(input->scenario, input->seed, options);
  Result<sim::scenario::ScenarioResult> second =
      sim::scenario::run_scenario(input->scenario, input->seed, options);
  if (!first.is_ok() || !second.is_ok()) {
    std::fprintf(stderr, "lockstep sim replay: %s\n",
                 (first.is_ok() ? second : first).error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  const std::string hash = sim::scenario::format_trace_hash(first->trace_hash);
  std::printf("scenario %s, seed %llu: trace_hash %s (%llu events), verdict %s\n",
              first->scenario.name.c_str(), static_cast<unsigned long long>(input->seed),
              hash.c_str(), static_cast<unsigned long long>(first->events),
              first->passed() ? "pass" : "fail");
  bool same = true;
  if (first->trace_hash != second->trace_hash) {
    same = false;
    std::optional<sim::TraceDivergence> divergence =
        sim::find_first_divergence(first->trace, second->trace);
    if (divergence)
      print_divergence("NONDETERMINISTIC: two runs in this binary diverge", *divergence);
  }
  if (!input->expect_hash.empty() && input->expect_hash != hash) {
    same = false;
    std::printf("MISMATCH: expected trace_hash %s, got %s\n", input->expect_hash.c_str(),
                hash.c_str());
    if (!input->recorded_trace.empty()) {
      std::optional<sim::TraceDivergence> divergence =
          sim::find_first_divergence(input->recorded_trace, first->trace);
      if (divergence)
        print_divergence("first divergent event (recorded vs replayed):", *divergence);
    } else if (first->trace_hash == second->trace_hash) {
      std::printf(
          "this binary replays the seed deterministically; the scenario file or the "
          "binary changed since the hash was recorded (replay a report directory to "
          "see the first divergent event)\n");
    }
  }
  if (same)
    std::printf("replay OK: same trace_hash%s\n",
                input->expect_hash.empty() ? " on both runs" : " as expected");
  set_exit_code(same ? 0 : 1);
}

void add_sim_replay_command(CLI::App& parent) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* command = parent.add_subcommand(
      "replay",
      "Re-run a seed and confirm its trace_hash (twice, naming the first divergent event)\n"
      "  exit 0 same hash, 1 mismatch, 2 bad input\n"
      "  example: lockstep sim replay scenarios/flapping_partitions.json --seed 3 "
      "--expect-hash 0123456789abcdef\n"
      "  example: lockstep sim replay out/flapping_partitions-3   (a report directory)");
  command->add_option("target", flags->target, "Scenario file or report directory")->required();
  command->add_option("--seed", flags->seed,
                      "Seed (read from summary.json for a report directory)");
  command->add_option("--expect-hash", flags->expect_hash, "The trace_hash the run must produce");
  command->callback([flags] { replay(*flags); });
}

const CommandRegistration registration("sim", "replay", add_sim_replay_command);

}  // namespace
}  // namespace lockstep::cli
