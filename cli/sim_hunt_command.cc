// `lockstep sim hunt`: the framework's self-test. For each planted bug (core/base/known_bugs.h)
// it runs that bug's hunt scenario (scenarios/hunt/<bug>.json: an ordinary scenario file
// whose faults and knobs make the bug's trigger likely) over seeds with the bug switched on,
// until one of the scenario's general checks fails (linearizability, Raft safety, liveness,
// convergence, the workloads' own checks): nothing in a hunt knows what the bug is. It
// prints how many seeds and how much wall time each catch took, which check caught it, and
// whether the catching seed passes without the bug (a seed that fails without it too is
// reported but not counted as a catch). Only a build configured with
// -DLOCKSTEP_KNOWN_BUGS=ON carries the bugs; elsewhere the command says so and exits 2.
// Exit codes: 0 every hunted bug was caught (--control: every seed passed), 1 at least one
// escaped (--control: a seed failed without any bug), 2 bad input / no bugs.
//
//   lockstep sim hunt --bug all --seeds 1..100 --jobs 2
//   lockstep sim hunt --bug read-without-read-index --seeds 7..7 --verbose   (replay)
//   lockstep sim hunt --bug ack-before-fsync --scenario counterexample.json --seeds 9..9
//
// Each seed runs in a forked child: a planted bug may trip an ASSERT (an invariant check
// that aborts), and that abort is itself a catch, reported with the assertion's message.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "core/base/known_bugs.h"
#include "sim/scenario/forked_run.h"
#include "sim/scenario/number_range.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::cli {
namespace {

constexpr uint64_t kMaxSeedsPerBug = 100'000;
constexpr int kMaxJobs = 64;
constexpr char kResultMarker[] = "HUNT-RESULT ";
// A check's detail is cut to this many characters in the table (--verbose shows it whole).
constexpr size_t kMaxCaughtByChars = 240;

std::string default_scenarios_directory() {
#ifdef LOCKSTEP_SOURCE_ROOT
  return LOCKSTEP_SOURCE_ROOT "/scenarios/hunt";
#else
  return "scenarios/hunt";
#endif
}

struct HuntFlags {
  std::string bug = "all";
  std::string seeds = "1..100";
  std::string scenarios = default_scenarios_directory();
  // One scenario file to hunt the one --bug with instead of its hunt scenario (e.g. a
  // counterexample the property suite printed).
  std::string scenario;
  int jobs = 1;
  bool verbose = false;
  bool confirm_clean = true;
  // Runs the seeds with no bug switched on: the control group, which must pass.
  bool control = false;
  // Bounds the linearizability search; a search that needs more is reported as unknown,
  // never as a catch. The default is `sim run`'s.
  uint64_t max_check_steps = sim::scenario::RunScenarioOptions{}.max_check_steps;
};

// A bug's hunt: the scenario file it is hunted with.
struct HuntRecipe {
  KnownBug bug = KnownBug::kVoteNotRecorded;
  std::string path;
  sim::scenario::Scenario scenario;
};

Result<HuntRecipe> recipe_for(KnownBug bug, const HuntFlags& flags) {
  HuntRecipe recipe;
  recipe.bug = bug;
  recipe.path = flags.scenario.empty()
                    ? flags.scenarios + "/" + std::string(known_bug_name(bug)) + ".json"
                    : flags.scenario;
  Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(recipe.path);
  if (!scenario.is_ok()) return scenario.error();
  recipe.scenario = std::move(*scenario);
  return recipe;
}

// ---- one seed, in a child process -------------------------------------------------------

using SeedOutcome = sim::scenario::ForkedOutcome;

[[noreturn]] void run_seed_in_child(const HuntRecipe& recipe, uint64_t seed, bool bug_on,
                                    const HuntFlags& flags) {
  set_active_known_bug(bug_on ? std::optional<KnownBug>(recipe.bug) : std::nullopt);
  sim::scenario::RunScenarioOptions options;
  options.max_check_steps = flags.max_check_steps;
  Result<sim::scenario::ScenarioResult> result =
      sim::scenario::run_scenario(recipe.scenario, seed, options);
  if (!result.is_ok()) {
    std::fprintf(stderr, "%sERROR %s\n", kResultMarker, result.error().to_string().c_str());
    std::fflush(stderr);
    _exit(3);
  }
  if (flags.verbose) std::fprintf(stderr, "%s", sim::scenario::human_summary(*result).c_str());
  // Only a failed check is a catch: an unknown verdict (the linearizability search gave up)
  // is not evidence of a bug, so such a seed counts as escaped.
  std::string failed;
  for (const sim::scenario::CheckReport& check : result->checks) {
    if (check.verdict != sim::CheckOutcome::Verdict::kFail) continue;
    if (!failed.empty()) failed += "; ";
    std::string detail = check.detail;
    for (char& c : detail) {
      if (c == '\n' || c == '|') c = ' ';
    }
    if (detail.size() > kMaxCaughtByChars) detail = detail.substr(0, kMaxCaughtByChars) + "...";
    failed += check.name + " FAIL: " + detail;
  }
  std::fprintf(stderr, "%s%s\n", kResultMarker, failed.empty() ? "PASS" : failed.c_str());
  std::fflush(stderr);
  _exit(failed.empty() ? 0 : 1);
}

sim::scenario::ForkedRun start_child(const HuntRecipe& recipe, uint64_t seed, bool bug_on,
                                     const HuntFlags& flags) {
  return sim::scenario::start_forked_run(
      seed, [&] { run_seed_in_child(recipe, seed, bug_on, flags); }, "lockstep sim hunt");
}

SeedOutcome wait_for_any(std::vector<sim::scenario::ForkedRun>& running) {
  return sim::scenario::wait_for_any(running, kResultMarker);
}

// ---- one bug over the seeds ---------------------------------------------------------------

struct HuntRow {
  KnownBug bug = KnownBug::kVoteNotRecorded;
  HuntRecipe recipe{};
  bool caught = false;
  uint64_t seeds_run = 0;
  uint64_t catching_seed = 0;
  double wall_seconds = 0;
  std::string caught_by;
  std::string clean_rerun;  // the catching seed without the bug: "pass" is what we want
  std::string error;        // a seed could not run (bad scenario): the hunt is void
};

SeedOutcome run_one(const HuntRecipe& recipe, uint64_t seed, bool bug_on, const HuntFlags& flags) {
  std::vector<sim::scenario::ForkedRun> running;
  running.push_back(start_child(recipe, seed, bug_on, flags));
  return wait_for_any(running);
}

// Runs seeds in order, `jobs` at a time, and stops at the lowest failing seed (every lower
// seed in flight is waited for, so the answer does not depend on --jobs).
HuntRow hunt_bug(const HuntRecipe& recipe, uint64_t first, uint64_t last, const HuntFlags& flags) {
  HuntRow row;
  row.bug = recipe.bug;
  row.recipe = recipe;
  const auto started = std::chrono::steady_clock::now();
  std::vector<sim::scenario::ForkedRun> running;
  std::map<uint64_t, SeedOutcome> finished;
  uint64_t next = first;
  std::optional<uint64_t> lowest_failure;
  while (true) {
    while (static_cast<int>(running.size()) < flags.jobs && next <= last && row.error.empty() &&
           (!lowest_failure || next < *lowest_failure)) {
      running.push_back(start_child(recipe, next, !flags.control, flags));
      ++next;
    }
    if (running.empty()) break;
    SeedOutcome outcome = wait_for_any(running);
    if (flags.verbose) {
      std::printf("--- %s seed %llu ---\n%s", std::string(known_bug_name(recipe.bug)).c_str(),
                  static_cast<unsigned long long>(outcome.number), outcome.output.c_str());
    }
    if (!outcome.error.empty()) row.error = outcome.error;
    if (outcome.failed && (!lowest_failure || outcome.number < *lowest_failure)) {
      lowest_failure = outcome.number;
      row.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    finished.emplace(outcome.number, std::move(outcome));
  }
  row.seeds_run = finished.size();
  if (lowest_failure) {
    row.caught = true;
    row.catching_seed = *lowest_failure;
    row.seeds_run = *lowest_failure - first + 1;
    row.caught_by = finished.at(*lowest_failure).caught_by;
    if (flags.confirm_clean && !flags.control) {
      HuntFlags quiet = flags;
      quiet.verbose = false;
      SeedOutcome clean = run_one(recipe, row.catching_seed, false, quiet);
      row.clean_rerun = clean.failed ? "FAIL: " + clean.caught_by : "pass";
      // A seed that fails without the bug too shows a problem of the code as built or of
      // the scenario, not the bug: it is reported, but not counted as a catch.
      if (clean.failed) {
        row.caught = false;
        row.caught_by = "seed " + std::to_string(row.catching_seed) +
                        " fails without the bug too: " + row.caught_by;
      }
    }
  } else {
    row.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return row;
}

// ---- the command --------------------------------------------------------------------------

std::string file_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void print_row(const HuntRow& row, const HuntFlags& flags) {
  const std::string name(known_bug_name(row.bug));
  const char* caught = flags.control ? (row.caught ? "**control failed**" : "control: all pass")
                                     : (row.caught ? "yes" : "**no**");
  std::printf("| %s | %s | %s | %llu | %.1f | %s |", name.c_str(), caught,
              file_name(row.recipe.path).c_str(), static_cast<unsigned long long>(row.seeds_run),
              row.wall_seconds, row.caught_by.empty() ? "-" : row.caught_by.c_str());
  if (row.caught) {
    const std::string scenario =
        flags.scenario.empty() ? std::string() : " --scenario " + flags.scenario;
    std::printf(" `sim hunt --bug %s%s --seeds %llu..%llu --verbose` | %s |\n", name.c_str(),
                scenario.c_str(), static_cast<unsigned long long>(row.catching_seed),
                static_cast<unsigned long long>(row.catching_seed), row.clean_rerun.c_str());
  } else {
    std::printf(" `sim hunt --bug %s --seeds %s` | - |\n", name.c_str(), flags.seeds.c_str());
  }
  std::fflush(stdout);
}

void run(const HuntFlags& flags) {
  if (!kKnownBugsCompiledIn) {
    std::fprintf(stderr,
                 "lockstep sim hunt: this build has no planted bugs; configure with "
                 "-DLOCKSTEP_KNOWN_BUGS=ON (never a Release build)\n");
    set_exit_code(2);
    return;
  }
  std::vector<KnownBug> bugs;
  if (flags.bug == "all" && !flags.scenario.empty()) {
    std::fprintf(stderr, "lockstep sim hunt: --scenario needs one --bug\n");
    set_exit_code(2);
    return;
  }
  if (flags.bug == "all") {
    bugs = all_known_bugs();
  } else if (std::optional<KnownBug> bug = parse_known_bug(flags.bug)) {
    bugs.push_back(*bug);
  } else {
    std::string known;
    for (KnownBug each : all_known_bugs()) known += " " + std::string(known_bug_name(each));
    std::fprintf(stderr, "lockstep sim hunt: unknown bug '%s'; known: all%s\n", flags.bug.c_str(),
                 known.c_str());
    set_exit_code(2);
    return;
  }
  const Result<sim::scenario::NumberRange> seeds = sim::scenario::parse_number_range(
      "--seeds", flags.seeds, sim::scenario::BareNumber::kFirstN, 1, kMaxSeedsPerBug);
  if (!seeds.is_ok()) {
    std::fprintf(stderr, "lockstep sim hunt: %s\n", seeds.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  const uint64_t first = seeds->first;
  const uint64_t last = seeds->last;
  if (flags.jobs < 1 || flags.jobs > kMaxJobs) {
    std::fprintf(stderr, "lockstep sim hunt: --jobs must be in [1, 64]\n");
    set_exit_code(2);
    return;
  }
  std::vector<HuntRecipe> recipes;
  for (KnownBug bug : bugs) {
    Result<HuntRecipe> recipe = recipe_for(bug, flags);
    if (!recipe.is_ok()) {
      std::fprintf(stderr, "lockstep sim hunt: %s\n", recipe.error().to_string().c_str());
      set_exit_code(2);
      return;
    }
    recipes.push_back(std::move(*recipe));
  }
  std::printf(
      "| bug | caught | scenario | seeds to catch | wall s | caught by | replay | "
      "seed without the bug |\n|---|---|---|---|---|---|---|---|\n");
  bool all_caught = true;
  for (const HuntRecipe& recipe : recipes) {
    HuntRow row = hunt_bug(recipe, first, last, flags);
    if (!row.error.empty()) {
      std::fprintf(stderr, "lockstep sim hunt: %s: %s\n", recipe.path.c_str(), row.error.c_str());
      set_exit_code(2);
      return;
    }
    print_row(row, flags);
    all_caught = all_caught && (flags.control ? !row.caught : row.caught);
  }
  set_exit_code(all_caught ? 0 : 1);
}

void add_sim_hunt_command(CLI::App& parent) {
  auto flags = std::make_shared<HuntFlags>();
  CLI::App* command = parent.add_subcommand(
      "hunt",
      "Self-test: hunt each planted bug (LOCKSTEP_KNOWN_BUGS builds only) over seeds and\n"
      "report which check caught it and how fast\n"
      "  example: lockstep sim hunt --bug all --seeds 1..100 --jobs 2");
  command->add_option("--bug", flags->bug, "A planted bug's name, or all");
  command->add_option("--seeds", flags->seeds, "Seeds to try, A..B or N (= 1..N)");
  command->add_option("--jobs", flags->jobs, "Seeds run at once (each in a child process)");
  command->add_option("--scenarios", flags->scenarios,
                      "Directory of the hunt scenarios, one <bug>.json per bug");
  command->add_option("--scenario", flags->scenario,
                      "Hunt the one --bug with this scenario file instead (e.g. a property "
                      "counterexample)");
  command->add_flag("--verbose", flags->verbose, "Print every seed's run summary");
  command->add_option("--max-check-steps", flags->max_check_steps,
                      "Linearizability search budget per run (beyond it: unknown, not a catch)");
  command->add_flag("--control", flags->control,
                    "Run the hunt scenarios with no bug switched on (every seed must pass)");
  command->add_flag("!--no-confirm", flags->confirm_clean,
                    "Skip re-running the catching seed without the bug");
  command->callback([flags] { run(*flags); });
}

const CommandRegistration registration("sim", "hunt", add_sim_hunt_command);

}  // namespace
}  // namespace lockstep::cli
