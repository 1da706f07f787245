// `lockstep sim run FILE [--seed N] [--report DIR]`: runs one scenario file with one seed and
// judges it with the scenario's checks. The last line of output is a JSON summary (scenario,
// seed, verdict, checks, trace_hash, sim_time_ms, wall_ms, ops).
// Exit codes: 0 every check holds, 1 a check failed (or was unknown), 2 bad input.
//
//   lockstep sim run scenarios/leader_crash_under_load.json --seed 7 --report out/run7
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/command_registry.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_runner.h"
#ifdef LOCKSTEP_HAVE_HTML_REPORT
#include "reports/html_report.h"
#endif

namespace lockstep::cli {
namespace {

struct RunFlags {
  std::string scenario_path;
  uint64_t seed = 1;
  std::string report_directory;
  bool trace = false;
  bool quiet = false;
  int check_timeout_s = 120;
};

void write_report(const std::string& directory, const sim::scenario::ScenarioResult& result,
                  int64_t wall_ms) {
  Status written = sim::scenario::write_report_directory(
      directory, sim::scenario::report_files(result, wall_ms));
  if (!written.is_ok()) {
    std::fprintf(stderr, "lockstep sim run: report: %s\n", written.to_string().c_str());
    set_exit_code(2);
    return;
  }
#ifdef LOCKSTEP_HAVE_HTML_REPORT
  Status html = reports::write_html_report(directory);
  if (!html.is_ok()) {
    std::fprintf(stderr, "lockstep sim run: report.html: %s\n", html.to_string().c_str());
  } else {
    std::printf("report: %s/report.html\n", directory.c_str());
  }
#else
  std::printf("report: files in %s (HTML step skipped: reports/ is not built in)\n",
              directory.c_str());
#endif
}

void run(const RunFlags& flags) {
  Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(flags.scenario_path);
  if (!scenario.is_ok()) {
    std::fprintf(stderr, "lockstep sim run: %s\n", scenario.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  const auto wall_start = std::chrono::steady_clock::now();
  sim::scenario::RunScenarioOptions options;
  options.record_trace = flags.trace || !flags.report_directory.empty();
  // The wall-clock budget of the linearizability search lives here: sim/ never reads clocks.
  const auto check_deadline = wall_start + std::chrono::seconds(flags.check_timeout_s);
  options.checker_should_stop = [check_deadline] {
    return std::chrono::steady_clock::now() > check_deadline;
  };
  Result<sim::scenario::ScenarioResult> result =
      sim::scenario::run_scenario(*scenario, flags.seed, options);
  if (!result.is_ok()) {
    std::fprintf(stderr, "lockstep sim run: %s\n", result.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - wall_start)
                              .count();
  if (!flags.quiet) std::printf("%s", sim::scenario::human_summary(*result).c_str());
  if (!result->passed()) {
    std::printf("replay: %s\n",
                sim::scenario::replay_command(flags.scenario_path, *result).c_str());
    std::printf("shrink: lockstep sim shrink %s --seed %llu\n", flags.scenario_path.c_str(),
                static_cast<unsigned long long>(flags.seed));
  }
  set_exit_code(result->passed() ? 0 : 1);
  if (!flags.report_directory.empty()) write_report(flags.report_directory, *result, wall_ms);
  std::printf("%s\n", sim::scenario::summary_json(*result, wall_ms).c_str());
}

void add_sim_run_command(CLI::App& parent) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = parent.add_subcommand(
      "run",
      "Run one scenario file with one seed and check it; the last line is a JSON summary\n"
      "  exit 0 pass, 1 a check failed, 2 bad input\n"
      "  example: lockstep sim run scenarios/leader_crash_under_load.json --seed 7 "
      "--report out/run7");
  command->add_option("file", flags->scenario_path, "Scenario file (scenarios/README.md)")
      ->required();
  command->add_option("--seed", flags->seed, "Seed of the run (same seed, same trace_hash)");
  command->add_option("--report", flags->report_directory,
                      "Write summary/history/trace/timeline/checks/scenario files (and "
                      "report.html) into this directory");
  command->add_flag("--trace", flags->trace, "Record the full trace (implied by --report)");
  command->add_flag("--quiet", flags->quiet, "Print only the JSON summary line");
  command
      ->add_option("--check-timeout-s", flags->check_timeout_s,
                   "Wall-clock budget of the linearizability search (then: unknown)")
      ->check(CLI::Range(1, 86400));
  command->callback([flags] { run(*flags); });
}

const CommandRegistration registration("sim", "run", add_sim_run_command);

}  // namespace
}  // namespace lockstep::cli
