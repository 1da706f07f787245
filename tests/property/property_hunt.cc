// `lockstep_property_hunt`: does the GENERIC property find the planted bugs? Built only with
// -DLOCKSTEP_KNOWN_BUGS=ON. For each planted bug (core/base/known_bugs.h) it runs the cases of
// the RapidCheck cluster property (tests/property/cluster_case.cc, the very generator behind
// ClusterProperty.every_check_holds: random cluster, knobs, workloads, timed and
// event-triggered faults) with the bug switched on, in order, until one fails; then it shrinks
// that case with RapidCheck's shrink tree and re-runs the shrunk case without the bug, which
// must pass. Nothing here knows what the bug is or where it lives: unlike `sim hunt`
// (scenarios/hunt/<bug>.json, a scenario written per bug) the search is the generator's.
//
// Case k of a search is drawn with rc::Random(seed, k) at size (k - 1) mod 101, the sizes
// RapidCheck itself gives a 1000-case run (0, 1, ..., 100, 0, 1, ...; max_size 100), so any
// case is addressable and replays alone: `--seed S --cases k..k`. A catch is a failed check
// or an abort on one of the code's own ASSERTs (each case runs in a forked child); an unknown
// verdict (the linearizability search gave up) is not.
//
//   lockstep_property_hunt --bug all --cases 1..1000 --jobs 2          (measure)
//   lockstep_property_hunt --bug ack-before-fsync --cases 7..7 --verbose   (replay a catch)
//   lockstep_property_hunt --bug all --cases 1..40 --control            (no bug: all pass)
//   lockstep_property_hunt --cases 1..100 --print                       (the drawn cases)
//
// Exit codes: 0 every bug caught (--control: every case passed), 1 a bug escaped (--control:
// a case failed), 2 bad input or a build without planted bugs.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/known_bugs.h"
#include "sim/scenario/forked_run.h"
#include "sim/scenario/number_range.h"
#include "sim/scenario/scenario_parser.h"
#include "tests/property/cluster_case.h"

namespace lockstep::property {
namespace {

namespace scenario = sim::scenario;

constexpr char kVerdictMarker[] = "PROPERTY-HUNT ";
constexpr int kMaxJobs = 64;
constexpr uint64_t kMaxCases = 1'000'000;
// A check's detail is cut to this many characters in the table.
constexpr size_t kMaxDetailChars = 200;
// A case that has not ended after this much wall time is killed and reported (not a catch):
// a simulated run is bounded in virtual time, so this only guards against a hang.
constexpr unsigned kCaseWallLimitSeconds = 600;

struct HuntFlags {
  std::string bug = "all";
  std::string cases = "1..1000";
  uint64_t seed = 20261121;
  int jobs = 1;
  bool control = false;
  bool shrink = true;
  // Shrink runs at most this many candidates (each a simulated run).
  int max_shrink_runs = 400;
  bool verbose = false;
  bool print = false;
  std::string save_directory;
};

// ---- one case, in a child process --------------------------------------------------------

using CaseOutcome = scenario::ForkedOutcome;

[[noreturn]] void run_case_in_child(const ClusterCase& run_case, std::optional<KnownBug> bug) {
  alarm(kCaseWallLimitSeconds);
  set_active_known_bug(bug);
  Result<scenario::ScenarioResult> result = run_cluster_case(run_case);
  if (!result.is_ok()) {
    std::fprintf(stderr, "%sERROR %s\n", kVerdictMarker, result.error().to_string().c_str());
    std::fflush(stderr);
    _exit(3);
  }
  std::string failed;
  bool unknown = false;
  for (const scenario::CheckReport& check : result->checks) {
    if (check.verdict == sim::CheckOutcome::Verdict::kPass) continue;
    if (check.verdict != sim::CheckOutcome::Verdict::kFail) {
      unknown = true;
      continue;
    }
    std::string detail = check.detail;
    for (char& c : detail) {
      if (c == '\n' || c == '|') c = ' ';
    }
    if (detail.size() > kMaxDetailChars) detail = detail.substr(0, kMaxDetailChars) + "...";
    if (!failed.empty()) failed += "; ";
    failed += check.name + " FAIL: " + detail;
  }
  const char* verdict = !failed.empty() ? failed.c_str() : unknown ? "UNKNOWN" : "PASS";
  std::fprintf(stderr, "%s%s\n", kVerdictMarker, verdict);
  std::fflush(stderr);
  _exit(failed.empty() ? 0 : 1);
}

scenario::ForkedRun start_child(const ClusterCase& run_case, uint64_t number,
                                std::optional<KnownBug> bug) {
  return scenario::start_forked_run(
      number, [&] { run_case_in_child(run_case, bug); }, "lockstep_property_hunt");
}

CaseOutcome wait_for_any(std::vector<scenario::ForkedRun>& running) {
  return scenario::wait_for_any(running, kVerdictMarker, SIGALRM);
}

CaseOutcome run_one(const ClusterCase& run_case, std::optional<KnownBug> bug) {
  std::vector<scenario::ForkedRun> running;
  running.push_back(start_child(run_case, 0, bug));
  return wait_for_any(running);
}

// ---- one bug over the cases ---------------------------------------------------------------

struct HuntRow {
  std::optional<KnownBug> bug;
  bool caught = false;
  uint64_t cases_run = 0;
  uint64_t unknown_cases = 0;
  uint64_t catching_case = 0;
  double seconds_to_catch = 0;
  std::string caught_by;
  std::optional<ClusterCase> shrunk;
  int shrink_runs = 0;
  int shrink_steps = 0;
  double shrink_seconds = 0;
  std::string shrunk_caught_by;
  std::string clean_rerun;  // the shrunk case without the bug: "pass" is what we want
  std::string error;
};

// Runs cases in order, `jobs` at a time, and stops at the lowest failing one (every lower case
// in flight is waited for, so the answer does not depend on --jobs).
void search(HuntRow& row, uint64_t first, uint64_t last, const HuntFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<scenario::ForkedRun> running;
  std::map<uint64_t, CaseOutcome> finished;
  uint64_t next = first;
  std::optional<uint64_t> lowest_failure;
  while (true) {
    while (static_cast<int>(running.size()) < flags.jobs && next <= last && row.error.empty() &&
           (!lowest_failure || next < *lowest_failure)) {
      running.push_back(start_child(numbered_case(flags.seed, next), next, row.bug));
      ++next;
    }
    if (running.empty()) break;
    CaseOutcome outcome = wait_for_any(running);
    if (flags.verbose) {
      std::printf("--- case %llu ---\n%s", static_cast<unsigned long long>(outcome.number),
                  outcome.output.c_str());
    }
    if (!outcome.error.empty()) {
      row.error = "case " + std::to_string(outcome.number) + ": " + outcome.error;
    }
    if (outcome.failed && (!lowest_failure || outcome.number < *lowest_failure)) {
      lowest_failure = outcome.number;
      row.seconds_to_catch =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    finished.emplace(outcome.number, std::move(outcome));
  }
  const uint64_t end = lowest_failure ? *lowest_failure : last;
  for (const auto& [number, outcome] : finished) {
    if (number <= end && outcome.unknown) ++row.unknown_cases;
  }
  row.cases_run = end - first + 1;
  if (!lowest_failure) {
    row.seconds_to_catch =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return;
  }
  row.caught = true;
  row.catching_case = *lowest_failure;
  row.caught_by = finished.at(*lowest_failure).caught_by;
}

// RapidCheck's own shrink search over the failing case's shrink tree: take the first smaller
// candidate that still fails with the bug on, repeat (rc::shrinkable::findLocalMin, what a
// failing property does), each candidate run in a child. The shrunk case must pass without it.
void shrink_catch(HuntRow& row, const HuntFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  rc::Shrinkable<ClusterCase> drawn = numbered_case_shrinkable(flags.seed, row.catching_case);
  row.shrunk_caught_by = row.caught_by;
  auto still_fails = [&](const ClusterCase& candidate) {
    if (row.shrink_runs >= flags.max_shrink_runs) return false;
    ++row.shrink_runs;
    CaseOutcome outcome = run_one(candidate, row.bug);
    if (outcome.failed) row.shrunk_caught_by = outcome.caught_by;
    return outcome.failed;
  };
  auto [shrunk, steps] = rc::shrinkable::findLocalMin(drawn, still_fails);
  row.shrink_steps = static_cast<int>(steps);
  row.shrunk = shrunk;
  row.shrink_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void confirm_without_bug(HuntRow& row) {
  const ClusterCase& checked = *row.shrunk;
  CaseOutcome clean = run_one(checked, std::nullopt);
  row.clean_rerun = clean.failed           ? "FAIL: " + clean.caught_by
                    : !clean.error.empty() ? "ERROR: " + clean.error
                    : clean.unknown        ? "unknown"
                                           : "pass";
  // A case that fails without the bug too shows a problem of the code as built or of the
  // checks, not the bug: reported, but not counted as a catch.
  if (clean.failed) {
    row.caught = false;
    row.caught_by = "fails without the bug too: " + row.caught_by;
  }
}

// ---- reporting ----------------------------------------------------------------------------

std::string fault_summary(const scenario::FaultSpec& fault) {
  std::string text = std::string(scenario::fault_action_name(fault.action)) + " " +
                     scenario::target_name(fault.target) + " " + std::to_string(fault.duration_ms) +
                     " ms";
  if (fault.on) {
    text += " on " + std::string(scenario::fault_event_name(*fault.on)) + " #" +
            std::to_string(fault.occurrence) + " from " + std::to_string(fault.at_ms) + " ms";
    if (fault.delay_ms > 0) text += " +" + std::to_string(fault.delay_ms) + " ms";
  } else {
    text += " at " + std::to_string(fault.at_ms) + " ms";
  }
  return text;
}

// The size of a scenario in one line: members, run length, workloads, faults.
std::string case_summary(const ClusterCase& run_case) {
  const scenario::Scenario& s = run_case.scenario;
  std::string text =
      std::to_string(s.cluster.members) + " members, " + std::to_string(s.duration_ms) + " ms, ";
  for (size_t i = 0; i < s.workloads.size(); ++i) {
    text += (i == 0 ? "" : "+") + s.workloads[i].type;
  }
  text += "x" + std::to_string(s.workloads.empty() ? 0 : s.workloads.front().clients);
  if (s.network.loss > 0) text += ", loss " + std::to_string(s.network.loss).substr(0, 5);
  text += ", " + std::to_string(s.faults.size()) + " fault" + (s.faults.size() == 1 ? "" : "s");
  for (size_t i = 0; i < s.faults.size(); ++i) {
    text += (i == 0 ? ": " : "; ") + fault_summary(s.faults[i]);
  }
  return text + ", seed " + std::to_string(run_case.seed);
}

void save_counterexample(const HuntRow& row, const HuntFlags& flags) {
  if (flags.save_directory.empty() || !row.shrunk || !row.bug) return;
  const std::string base = flags.save_directory + "/" + std::string(known_bug_name(*row.bug));
  std::ofstream(base + ".json") << scenario::scenario_to_json(row.shrunk->scenario) << "\n";
  std::ofstream(base + ".seed") << row.shrunk->seed << "\n";
}

void print_row(const HuntRow& row, const HuntFlags& flags) {
  const std::string name = row.bug ? std::string(known_bug_name(*row.bug)) : "none";
  if (flags.control) {
    std::printf("| %s | %s | %llu | %llu | %.1f | %s |\n", name.c_str(),
                row.caught ? "**control failed**" : "control: all pass",
                static_cast<unsigned long long>(row.cases_run),
                static_cast<unsigned long long>(row.unknown_cases), row.seconds_to_catch,
                row.caught
                    ? (row.caught_by + " (case " + std::to_string(row.catching_case) + ")").c_str()
                    : "-");
    std::fflush(stdout);
    return;
  }
  std::printf("| %s | %s | %llu | %.1f | %s |", name.c_str(), row.caught ? "yes" : "**no**",
              static_cast<unsigned long long>(row.cases_run), row.seconds_to_catch,
              row.caught_by.empty() ? "-" : row.caught_by.c_str());
  if (row.shrunk) {
    std::printf(" %d runs, %d steps, %.1f s: %s | %s |", row.shrink_runs, row.shrink_steps,
                row.shrink_seconds, case_summary(*row.shrunk).c_str(), row.clean_rerun.c_str());
  } else {
    std::printf(" - | %s |", row.clean_rerun.empty() ? "-" : row.clean_rerun.c_str());
  }
  std::printf(" %llu |\n", static_cast<unsigned long long>(row.unknown_cases));
  if (row.shrunk && flags.verbose) {
    std::printf(
        "shrunk counterexample (lockstep sim hunt --bug %s --scenario FILE --seeds "
        "%llu..%llu):\n%s\nshrunk case failed: %s\n",
        name.c_str(), static_cast<unsigned long long>(row.shrunk->seed),
        static_cast<unsigned long long>(row.shrunk->seed),
        scenario::scenario_to_json(row.shrunk->scenario).c_str(), row.shrunk_caught_by.c_str());
  }
  std::fflush(stdout);
}

// ---- the command --------------------------------------------------------------------------

std::optional<std::vector<KnownBug>> bugs_named(const std::string& name) {
  if (name == "all") return all_known_bugs();
  if (std::optional<KnownBug> bug = parse_known_bug(name)) return std::vector<KnownBug>{*bug};
  return std::nullopt;
}

int run(const HuntFlags& flags) {
  if (!kKnownBugsCompiledIn) {
    std::fprintf(stderr, "lockstep_property_hunt: this build has no planted bugs\n");
    return 2;
  }
  std::optional<std::vector<KnownBug>> bugs = bugs_named(flags.bug);
  const Result<scenario::NumberRange> cases = scenario::parse_number_range(
      "--cases", flags.cases, scenario::BareNumber::kFirstN, 1, kMaxCases);
  if (!cases.is_ok()) {
    std::fprintf(stderr, "lockstep_property_hunt: %s\n", cases.error().to_string().c_str());
    return 2;
  }
  if (!bugs || flags.jobs < 1 || flags.jobs > kMaxJobs) {
    std::fprintf(stderr, "lockstep_property_hunt: need --bug NAME|all and --jobs 1..64\n");
    return 2;
  }
  const uint64_t first = cases->first;
  const uint64_t last = cases->last;
  if (flags.print) {
    for (uint64_t number = first; number <= last; ++number) {
      const ClusterCase run_case = numbered_case(flags.seed, number);
      std::printf("case %llu (seed %llu): %s\n%s\n", static_cast<unsigned long long>(number),
                  static_cast<unsigned long long>(run_case.seed), case_summary(run_case).c_str(),
                  scenario::scenario_to_json(run_case.scenario).c_str());
    }
    return 0;
  }
  std::printf("generic property cases %llu..%llu, seed %llu%s\n",
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
              static_cast<unsigned long long>(flags.seed),
              flags.control ? ", control: no bug switched on" : "");
  if (flags.control) {
    std::printf(
        "| bug | verdict | cases | unknown | wall s | failed |\n|---|---|---|---|---|---|\n");
    HuntRow row;
    search(row, first, last, flags);
    print_row(row, flags);
    if (!row.error.empty()) std::fprintf(stderr, "lockstep_property_hunt: %s\n", row.error.c_str());
    return row.error.empty() && !row.caught ? 0 : 1;
  }
  std::printf(
      "| bug | caught | cases to catch | wall s | caught by | shrunk | shrunk case without the "
      "bug | unknown |\n|---|---|---|---|---|---|---|---|\n");
  bool all_caught = true;
  for (KnownBug bug : *bugs) {
    HuntRow row;
    row.bug = bug;
    search(row, first, last, flags);
    if (!row.error.empty()) {
      std::fprintf(stderr, "lockstep_property_hunt: %s: %s\n",
                   std::string(known_bug_name(bug)).c_str(), row.error.c_str());
      all_caught = false;
    }
    if (row.caught) {
      if (flags.shrink) {
        shrink_catch(row, flags);
      } else {
        row.shrunk = numbered_case(flags.seed, row.catching_case);
      }
      confirm_without_bug(row);
      save_counterexample(row, flags);
    }
    print_row(row, flags);
    all_caught = all_caught && row.caught;
  }
  return all_caught ? 0 : 1;
}

}  // namespace
}  // namespace lockstep::property

int main(int argc, char** argv) {
  lockstep::property::HuntFlags flags;
  CLI::App app(
      "Self-test of the generic property: run the RapidCheck cluster property's cases with a\n"
      "planted bug switched on (LOCKSTEP_KNOWN_BUGS builds) until one fails, shrink it, and\n"
      "re-run the shrunk case without the bug\n"
      "  example: lockstep_property_hunt --bug all --cases 1..1000 --jobs 2");
  app.add_option("--bug", flags.bug, "A planted bug's name, or all");
  app.add_option("--cases", flags.cases, "Case numbers to try, A..B or N (= 1..N)");
  app.add_option("--seed", flags.seed, "The search's seed (case k is drawn from seed and k)");
  app.add_option("--jobs", flags.jobs, "Cases run at once (each in a child process)");
  app.add_flag("--control", flags.control,
               "Run the cases with no bug switched on (every case must pass)");
  app.add_flag("!--no-shrink", flags.shrink, "Report the failing case as drawn");
  app.add_option("--max-shrink-runs", flags.max_shrink_runs,
                 "Stop shrinking after this many candidate runs");
  app.add_flag("--verbose", flags.verbose, "Print every case's output and the shrunk scenario");
  app.add_flag("--print", flags.print,
               "Print the cases' scenario files without running them (what the generator draws)");
  app.add_option("--save", flags.save_directory,
                 "Directory to save each shrunk counterexample as <bug>.json and <bug>.seed");
  CLI11_PARSE(app, argc, argv);
  return lockstep::property::run(flags);
}
