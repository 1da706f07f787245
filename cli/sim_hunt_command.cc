// `lockstep sim hunt`: the framework's self-test. For each planted bug (core/base/known_bugs.h)
// it runs simulated clusters over seeds, with the workload and faults suited to exposing
// that bug, until a check fails, and prints how fast each bug was caught and by which check.
// Only a build configured with -DLOCKSTEP_KNOWN_BUGS=ON carries the bugs; elsewhere the
// command says so and exits 2.
// Exit codes: 0 every hunted bug was caught, 1 at least one escaped, 2 bad input / no bugs.
//
//   lockstep sim hunt --bug all --seeds 1..100 --jobs 2
//   lockstep sim hunt --bug read-without-read-index --seeds 7..7 --verbose   (replay)
//
// Each seed runs in a forked child: a planted bug may trip an ASSERT (an invariant check
// that aborts), and that abort is itself a catch, reported with the assertion's message.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "core/base/known_bugs.h"
#include "sim/cluster/cluster_run.h"

namespace lockstep::cli {
namespace {

constexpr uint64_t kMaxSeedsPerBug = 100'000;
constexpr int kMaxJobs = 64;
constexpr char kResultMarker[] = "HUNT-RESULT ";
constexpr char kAssertMarker[] = "ASSERT";

struct HuntFlags {
  std::string bug = "all";
  std::string seeds = "1..100";
  int jobs = 1;
  bool verbose = false;
  bool confirm_clean = true;
};

// The workload, fault plan and cluster a bug is hunted with, and why they suit it.
struct HuntRecipe {
  KnownBug bug;
  std::string workloads;
  std::string faults;  // a name for the table; the plan itself is below
  int members = 5;
  sim::FaultPlan plan;
  int64_t duration_ms = 6'000;
};

sim::FaultPlan plan_with(int crashes, int partitions, int pauses, double loss) {
  sim::FaultPlan plan;
  plan.crashes = crashes;
  plan.partitions = partitions;
  plan.pauses = pauses;
  plan.message_loss = loss;
  return plan;
}

HuntRecipe recipe_for(KnownBug bug) {
  switch (bug) {
    case KnownBug::kVoteNotRecorded:
      // Elections under partitions and loss: several candidates in one term.
      return {bug, "kv", "partitions+loss", 5, plan_with(1, 4, 1, 0.05)};
    case KnownBug::kCommitEarlierTermByCounting:
      // Figure 8 needs leaders to crash with entries on a minority, repeatedly.
      return {bug, "kv", "crashes+partitions", 5, plan_with(6, 4, 1, 0.05), 8'000};
    case KnownBug::kReadWithoutReadIndex:
      // A deposed leader cut off by a partition keeps answering reads.
      return {bug, "kv", "partitions", 5, plan_with(0, 4, 1, 0.0)};
    case KnownBug::kAckBeforeFsync:
      // Crashes drop the unsynced tail that was already acknowledged.
      return {bug, "kv", "crashes", 3, plan_with(6, 0, 0, 0.0)};
    case KnownBug::kWatchDropAtCompaction:
      // Watchers fall behind while their member is partitioned; compaction passes them.
      return {bug, "watch", "partitions+crashes", 5, plan_with(2, 3, 1, 0.02)};
    case KnownBug::kLeaseExpiryOnFollowerClock:
      // Kept-alive leases: followers never see the keep-alives.
      return {bug, "lease", "standard", 5, sim::FaultPlan::standard()};
    case KnownBug::kStaleLogNotTruncated:
      // Leaders that crash or are cut off with uncommitted entries leave stale suffixes.
      return {bug, "kv", "crashes+partitions", 5, plan_with(4, 4, 1, 0.05)};
  }
  return {bug, "kv", "standard", 5, sim::FaultPlan::standard()};
}

sim::RunOptions run_options(const HuntRecipe& recipe, uint64_t seed) {
  sim::RunOptions options;
  options.cluster.seed = seed;
  options.cluster.member_count = recipe.members;
  options.workloads.clear();
  std::string rest = recipe.workloads;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    options.workloads.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  options.duration = std::chrono::milliseconds(recipe.duration_ms);
  options.settle = std::chrono::seconds(5);
  options.faults = recipe.plan;
  // Keep a hunt bounded: a search that needs more is reported as unknown, not as a catch.
  options.max_check_steps = 5'000'000;
  return options;
}

// ---- one seed, in a child process -------------------------------------------------------

struct SeedOutcome {
  uint64_t seed = 0;
  bool failed = false;
  std::string caught_by;  // the failed checks, or the assertion that aborted the run
  std::string output;     // everything the child printed (for --verbose)
};

[[noreturn]] void run_seed_in_child(const HuntRecipe& recipe, uint64_t seed, bool bug_on,
                                    bool verbose) {
  set_active_known_bug(bug_on ? std::optional<KnownBug>(recipe.bug) : std::nullopt);
  Result<sim::RunResult> result = sim::run_workloads(run_options(recipe, seed));
  if (!result.is_ok()) {
    std::fprintf(stderr, "%sERROR %s\n", kResultMarker, result.error().to_string().c_str());
    std::fflush(stderr);
    _exit(3);
  }
  if (verbose) std::fprintf(stderr, "%s", result->summary().c_str());
  // Only a failed check is a catch: an unknown verdict (the linearizability search gave up)
  // is not evidence of a bug, so such a seed counts as escaped.
  std::string failed;
  for (const sim::CheckOutcome& check : result->checks) {
    if (check.verdict != sim::CheckOutcome::Verdict::kFail) continue;
    if (!failed.empty()) failed += "; ";
    failed += check.name + " (" + std::string(sim::verdict_name(check.verdict)) + ")";
  }
  std::fprintf(stderr, "%s%s\n", kResultMarker, failed.empty() ? "PASS" : failed.c_str());
  std::fflush(stderr);
  _exit(failed.empty() ? 0 : 1);
}

struct Child {
  pid_t pid = -1;
  int output_fd = -1;
  uint64_t seed = 0;
  std::string output;
};

Child start_child(const HuntRecipe& recipe, uint64_t seed, bool bug_on, bool verbose) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("lockstep sim hunt: pipe");
    std::exit(2);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("lockstep sim hunt: fork");
    std::exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    run_seed_in_child(recipe, seed, bug_on, verbose);
  }
  close(fds[1]);
  return Child{pid, fds[0], seed, {}};
}

// Reads what the child said and how it ended.
SeedOutcome finish_child(Child& child) {
  int status = 0;
  waitpid(child.pid, &status, 0);
  close(child.output_fd);
  SeedOutcome outcome;
  outcome.seed = child.seed;
  outcome.output = child.output;
  const size_t marker = child.output.rfind(kResultMarker);
  if (marker != std::string::npos) {
    const size_t start = marker + std::strlen(kResultMarker);
    const size_t end = child.output.find('\n', start);
    const std::string verdict = child.output.substr(start, end - start);
    outcome.failed = verdict != "PASS";
    if (outcome.failed) outcome.caught_by = verdict;
    return outcome;
  }
  // No verdict: the run aborted, normally on an ASSERT (an invariant the code checks itself).
  outcome.failed = true;
  const size_t assertion = child.output.find(kAssertMarker);
  std::string line = child.output.substr(assertion == std::string::npos ? 0 : assertion);
  line = line.substr(0, line.find('\n'));
  if (line.empty()) line = "exit status " + std::to_string(status);
  outcome.caught_by = "abort: " + line;
  return outcome;
}

// Drains every running child's output until one exits; returns its outcome.
SeedOutcome wait_for_any(std::vector<Child>& running) {
  while (true) {
    std::vector<pollfd> fds;
    for (const Child& child : running) fds.push_back(pollfd{child.output_fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (size_t i = 0; i < running.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[4096];
      const ssize_t got = read(running[i].output_fd, buffer, sizeof buffer);
      if (got > 0) {
        running[i].output.append(buffer, static_cast<size_t>(got));
        continue;
      }
      SeedOutcome outcome = finish_child(running[i]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      return outcome;
    }
  }
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
};

SeedOutcome run_one(const HuntRecipe& recipe, uint64_t seed, bool bug_on, bool verbose) {
  std::vector<Child> running;
  running.push_back(start_child(recipe, seed, bug_on, verbose));
  return wait_for_any(running);
}

// Runs seeds in order, `jobs` at a time, and stops at the lowest failing seed (every lower
// seed in flight is waited for, so the answer does not depend on --jobs).
HuntRow hunt_bug(KnownBug bug, uint64_t first, uint64_t last, const HuntFlags& flags) {
  HuntRow row;
  row.bug = bug;
  row.recipe = recipe_for(bug);
  const auto started = std::chrono::steady_clock::now();
  std::vector<Child> running;
  std::map<uint64_t, SeedOutcome> finished;
  uint64_t next = first;
  std::optional<uint64_t> lowest_failure;
  while (true) {
    while (static_cast<int>(running.size()) < flags.jobs && next <= last &&
           (!lowest_failure || next < *lowest_failure)) {
      running.push_back(start_child(row.recipe, next, true, flags.verbose));
      ++next;
    }
    if (running.empty()) break;
    SeedOutcome outcome = wait_for_any(running);
    if (flags.verbose) {
      std::printf("--- %s seed %llu ---\n%s", std::string(known_bug_name(bug)).c_str(),
                  static_cast<unsigned long long>(outcome.seed), outcome.output.c_str());
    }
    if (outcome.failed && (!lowest_failure || outcome.seed < *lowest_failure)) {
      lowest_failure = outcome.seed;
      row.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    finished.emplace(outcome.seed, std::move(outcome));
  }
  row.seeds_run = finished.size();
  if (lowest_failure) {
    row.caught = true;
    row.catching_seed = *lowest_failure;
    row.seeds_run = *lowest_failure - first + 1;
    row.caught_by = finished.at(*lowest_failure).caught_by;
    if (flags.confirm_clean) {
      SeedOutcome clean = run_one(row.recipe, row.catching_seed, false, false);
      row.clean_rerun = clean.failed ? "FAIL: " + clean.caught_by : "pass";
    }
  } else {
    row.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return row;
}

// ---- the command --------------------------------------------------------------------------

bool parse_seed_range(const std::string& text, uint64_t& first, uint64_t& last) {
  const size_t dots = text.find("..");
  try {
    if (dots == std::string::npos) {
      first = 1;
      last = std::stoull(text);
    } else {
      first = std::stoull(text.substr(0, dots));
      last = std::stoull(text.substr(dots + 2));
    }
  } catch (const std::exception&) {
    return false;
  }
  return first >= 1 && first <= last && last - first < kMaxSeedsPerBug;
}

void print_row(const HuntRow& row, const std::string& seeds) {
  const std::string name(known_bug_name(row.bug));
  std::printf("| %s | %s | %s | %llu | %.1f | %s | %s |", name.c_str(),
              row.recipe.workloads.c_str(), row.recipe.faults.c_str(),
              static_cast<unsigned long long>(row.seeds_run), row.wall_seconds,
              row.caught ? "yes" : "**no**", row.caught ? row.caught_by.c_str() : "-");
  if (row.caught) {
    std::printf(" `lockstep sim hunt --bug %s --seeds %llu..%llu --verbose` | %s |\n", name.c_str(),
                static_cast<unsigned long long>(row.catching_seed),
                static_cast<unsigned long long>(row.catching_seed), row.clean_rerun.c_str());
  } else {
    std::printf(" `lockstep sim hunt --bug %s --seeds %s` | - |\n", name.c_str(), seeds.c_str());
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
  uint64_t first = 0;
  uint64_t last = 0;
  if (!parse_seed_range(flags.seeds, first, last)) {
    std::fprintf(stderr, "lockstep sim hunt: --seeds must be N or A..B with 1 <= A <= B\n");
    set_exit_code(2);
    return;
  }
  if (flags.jobs < 1 || flags.jobs > kMaxJobs) {
    std::fprintf(stderr, "lockstep sim hunt: --jobs must be in [1, 64]\n");
    set_exit_code(2);
    return;
  }
  std::printf(
      "| bug | workload | faults | seeds to catch | wall s | caught | caught by | replay | "
      "seed without the bug |\n|---|---|---|---|---|---|---|---|---|\n");
  bool all_caught = true;
  for (KnownBug bug : bugs) {
    HuntRow row = hunt_bug(bug, first, last, flags);
    print_row(row, flags.seeds);
    all_caught = all_caught && row.caught;
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
  command->add_flag("--verbose", flags->verbose, "Print every seed's run summary");
  command->add_flag("!--no-confirm", flags->confirm_clean,
                    "Skip re-running the catching seed without the bug");
  command->callback([flags] { run(*flags); });
}

const CommandRegistration registration("sim", "hunt", add_sim_hunt_command);

}  // namespace
}  // namespace lockstep::cli
