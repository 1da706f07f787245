// `lockstep sim explore FILE|DIR --seeds A..B [--jobs J] [--swarm] [--junit FILE]
// [--shard I/N] [--report DIR]`: runs every scenario with every seed of the range (or this
// shard's slice of them) in forked worker processes (each runs many runs), shows a progress bar
// on stderr, prints a results table (per-run speed and overall throughput) and, for each failure,
// the exact command that replays it. With --report, every run writes its report into
// DIR/<scenario>-<seed>/, a failing run is re-run with its full trace (deterministic, so it is the
// same run) into the same place, and DIR/index.json lists every run and the coverage probes no run
// hit. Exit codes: 0 every run passed, 1 a run failed, 2 bad input.
//
//   lockstep sim explore scenarios --seeds 1..20 --jobs 2 --junit explore.xml --report out
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "cli/process_cpu_time.h"
#include "core/base/html_escape.h"
#include "sim/scenario/number_range.h"
#include "sim/scenario/run_report.h"
#include "sim/scenario/scenario_files.h"
#include "sim/scenario/scenario_runner.h"
#ifdef LOCKSTEP_HAVE_HTML_REPORT
#include "reports/html_report.h"
#include "reports/index_report.h"
#endif

namespace lockstep::cli {
namespace {

using Json = nlohmann::json;
constexpr int kMaxJobs = 256;
constexpr uint64_t kMaxSeedsPerExplore = 10'000'000;

struct ExploreFlags {
  std::string target;
  std::string seeds = "1..10";
  int jobs = 1;
  bool swarm = false;
  std::string junit_path;
  std::string shard = "0/1";
  std::string report_directory;
  int check_timeout_s = 120;
};

struct RunSpec {
  std::string path;
  sim::scenario::Scenario scenario;
  uint64_t seed = 0;
};

Result<std::pair<uint64_t, uint64_t>> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t used = 0;
    const uint64_t index = std::stoull(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    const uint64_t count = std::stoull(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("count");
    if (count == 0 || index >= count) {
      return Error(ErrorCode::kInvalidInput, "--shard: need 0 <= I < N, got \"" + text + "\"");
    }
    return std::pair{index, count};
  } catch (const std::exception&) {
    return Error(ErrorCode::kInvalidInput, "--shard: expected I/N, got \"" + text + "\"");
  }
}

std::string run_directory_name(const RunSpec& run) {
  return std::filesystem::path(run.path).stem().string() + "-" + std::to_string(run.seed);
}

// The row of index.json for one run.
Json run_row(const RunSpec& run, const sim::scenario::ScenarioResult& result, int64_t wall_ms) {
  Json row = Json::parse(sim::scenario::summary_json(result, wall_ms));
  row["scenario_file"] = run.path;
  row["replay"] = sim::scenario::replay_command(run.path, result);
  Json probes = Json::array();
  for (const sim::ProbeHit& probe : result.probes) probes.push_back(probe.site);
  row["probes_hit"] = probes;
  return row;
}

Json crashed_row(const RunSpec& run, const std::string& why) {
  return Json{{"scenario", run.scenario.name},
              {"scenario_file", run.path},
              {"seed", run.seed},
              {"verdict", "fail"},
              {"failed_checks", Json::array({"process: " + why})},
              {"trace_hash", ""},
              {"sim_time_ms", 0},
              {"wall_ms", 0},
              {"ops", 0},
              {"requests", 0},
              {"replay", "lockstep sim run " + run.path + " --seed " + std::to_string(run.seed)},
              {"probes_hit", Json::array()}};
}

// With --report, every run gets its own report directory (summary.json, history, timeline,
// report.html) from the run just done, so the index links passing runs too; a failing run's
// is rewritten later with its full trace (write_failure_report).
void write_run_report(const RunSpec& run, const sim::scenario::ScenarioResult& result,
                      int64_t wall_ms, const std::string& directory, Json& row) {
  const std::string run_directory = directory + "/" + run_directory_name(run);
  if (!sim::scenario::write_report_directory(run_directory,
                                             sim::scenario::report_files(result, wall_ms))
           .is_ok()) {
    return;
  }
  row["report"] = run_directory_name(run) + "/report.html";
  row["directory"] = run_directory_name(run);
#ifdef LOCKSTEP_HAVE_HTML_REPORT
  (void)reports::write_html_report(run_directory);
#endif
}

// Runs one scenario in this worker process and returns its row. wall_ms and cpu_ms cover
// exactly what `lockstep bench sim` times as a whole run: run_scenario (cluster boot, both
// phases, every check), not the fork, the report files or the row's trip to the parent.
// cpu_ms (user + system of this process) does not count the time the run waited for a core.
Json run_one(const RunSpec& run, int check_timeout_s, const std::string& report_directory) {
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  sim::scenario::RunScenarioOptions options;
  const auto deadline = wall_start + std::chrono::seconds(check_timeout_s);
  options.checker_should_stop = [deadline] { return std::chrono::steady_clock::now() > deadline; };
  Result<sim::scenario::ScenarioResult> result =
      sim::scenario::run_scenario(run.scenario, run.seed, options);
  const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - wall_start)
                              .count();
  const auto cpu_ms = static_cast<int64_t>((process_cpu_seconds() - cpu_start) * 1000.0);
  Json row = result.is_ok() ? run_row(run, *result, wall_ms)
                            : crashed_row(run, result.error().to_string());
  row["cpu_ms"] = cpu_ms;
  if (result.is_ok() && !report_directory.empty()) {
    write_run_report(run, *result, wall_ms, report_directory, row);
  }
  return row;
}

bool read_exactly(int fd, void* data, size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t got = read(fd, bytes, size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    bytes += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

bool write_exactly(int fd, const void* data, size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t put = write(fd, bytes, size);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    bytes += put;
    size -= static_cast<size_t>(put);
  }
  return true;
}

// A forked worker process that runs many runs, one at a time: the parent writes a run's
// index into `to_worker`, the worker answers on `from_worker` with the row's length and
// bytes. One process per run (the earlier design) paid, on every run, a cold heap (each
// page of the cluster's memory faulted in and zeroed anew), SQLite's and the dynamic
// linker's first-use work, and the fork; a long-lived worker pays them once. A run that
// kills its worker (an ASSERT, a signal) still yields a failing row, and a new worker
// takes the next run, so one bad run cannot hide the others.
struct Worker {
  pid_t pid = -1;
  int to_worker = -1;
  int from_worker = -1;
  size_t run = 0;  // the run it is doing, when busy
  bool busy = false;
};

[[noreturn]] void worker_loop(const std::vector<RunSpec>& runs, const ExploreFlags& flags,
                              int commands, int answers) {
  uint64_t index = 0;
  while (read_exactly(commands, &index, sizeof index)) {
    if (index >= runs.size()) break;
    const std::string row =
        run_one(runs[index], flags.check_timeout_s, flags.report_directory).dump();
    const uint64_t size = row.size();
    std::fflush(nullptr);
    if (!write_exactly(answers, &size, sizeof size) ||
        !write_exactly(answers, row.data(), row.size())) {
      _exit(3);
    }
  }
  std::fflush(nullptr);
  _exit(0);
}

// Starts a worker; the child closes the pipe ends of every other worker, so that closing a
// worker's command pipe in the parent is an end of input that worker sees.
bool start_worker(Worker& worker, const std::vector<Worker>& workers,
                  const std::vector<RunSpec>& runs, const ExploreFlags& flags) {
  int commands[2];
  int answers[2];
  if (pipe(commands) != 0) return false;
  if (pipe(answers) != 0) {
    close(commands[0]);
    close(commands[1]);
    return false;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    for (const Worker& other : workers) {
      if (other.pid <= 0) continue;
      close(other.to_worker);
      close(other.from_worker);
    }
    close(commands[1]);
    close(answers[0]);
    worker_loop(runs, flags, commands[0], answers[1]);
  }
  close(commands[0]);
  close(answers[1]);
  if (pid < 0) {
    close(commands[1]);
    close(answers[0]);
    return false;
  }
  worker = Worker{pid, commands[1], answers[0], 0, false};
  return true;
}

void stop_worker(Worker& worker) {
  close(worker.to_worker);
  close(worker.from_worker);
  worker.pid = -1;
  worker.busy = false;
}

// Reaps a worker that closed its answer pipe mid-run and describes how it ended.
std::string reap_dead_worker(Worker& worker) {
  int status = 0;
  while (waitpid(worker.pid, &status, 0) < 0 && errno == EINTR) {
  }
  stop_worker(worker);
  return WIFSIGNALED(status) ? "worker killed by signal " + std::to_string(WTERMSIG(status))
                             : "worker exited with status " + std::to_string(WEXITSTATUS(status));
}

void draw_progress(size_t done, size_t total, size_t failed) {
  constexpr int kWidth = 40;
  const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
  std::fprintf(stderr, "\r[%s%s] %zu/%zu runs, %zu failed", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), done, total, failed);
  std::fflush(stderr);
}

// Hands the runs, in order, to up to `jobs` long-lived workers and collects their rows.
std::vector<Json> run_all(const std::vector<RunSpec>& runs, const ExploreFlags& flags) {
  std::vector<Json> rows(runs.size());
  std::vector<Worker> workers(std::min(runs.size(), static_cast<size_t>(flags.jobs)));
  size_t next = 0;
  size_t done = 0;
  size_t failed = 0;
  auto finish = [&](size_t index, Json row) {
    rows[index] = std::move(row);
    ++done;
    if (rows[index]["verdict"] != "pass") ++failed;
    draw_progress(done, runs.size(), failed);
  };
  draw_progress(0, runs.size(), 0);
  while (done < runs.size()) {
    for (Worker& worker : workers) {
      if (worker.busy || next >= runs.size()) continue;
      if (worker.pid <= 0 && !start_worker(worker, workers, runs, flags)) {
        finish(next, crashed_row(runs[next], "fork failed"));
        ++next;
        continue;
      }
      const uint64_t index = next;
      if (!write_exactly(worker.to_worker, &index, sizeof index)) {
        // The idle worker died (it cannot: it was waiting); start over with a new one.
        (void)reap_dead_worker(worker);
        continue;
      }
      worker.run = next++;
      worker.busy = true;
    }
    std::vector<pollfd> waiting;
    std::vector<Worker*> owners;
    for (Worker& worker : workers) {
      if (!worker.busy) continue;
      waiting.push_back({worker.from_worker, POLLIN, 0});
      owners.push_back(&worker);
    }
    if (waiting.empty()) continue;
    if (poll(waiting.data(), waiting.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < waiting.size(); ++i) {
      if (waiting[i].revents == 0) continue;
      Worker& worker = *owners[i];
      uint64_t size = 0;
      std::string text;
      bool complete = read_exactly(worker.from_worker, &size, sizeof size);
      if (complete) {
        text.resize(size);
        complete = read_exactly(worker.from_worker, text.data(), text.size());
      }
      worker.busy = false;
      if (complete) {
        finish(worker.run, Json::parse(text));
      } else {
        finish(worker.run, crashed_row(runs[worker.run], reap_dead_worker(worker)));
      }
    }
  }
  for (Worker& worker : workers) {
    if (worker.pid <= 0) continue;
    const pid_t pid = worker.pid;
    stop_worker(worker);  // end of input: the worker exits
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::fprintf(stderr, "\n");
  return rows;
}

std::string junit_xml(const std::vector<Json>& rows) {
  std::map<std::string, std::vector<const Json*>> by_scenario;
  for (const Json& row : rows) by_scenario[row["scenario"].get<std::string>()].push_back(&row);
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lockstep sim explore\">\n";
  for (const auto& [scenario, scenario_rows] : by_scenario) {
    size_t failures = 0;
    for (const Json* row : scenario_rows) failures += (*row)["verdict"] != "pass";
    out << "  <testsuite name=\"" << escape_html(scenario) << "\" tests=\"" << scenario_rows.size()
        << "\" failures=\"" << failures << "\">\n";
    for (const Json* row : scenario_rows) {
      const double seconds = (*row)["wall_ms"].get<double>() / 1000.0;
      out << "    <testcase classname=\"" << escape_html(scenario) << "\" name=\"seed "
          << (*row)["seed"].get<uint64_t>() << "\" time=\"" << seconds << "\">";
      if ((*row)["verdict"] != "pass") {
        std::string checks;
        for (const Json& check : (*row)["failed_checks"]) {
          checks += (checks.empty() ? "" : ", ") + check.get<std::string>();
        }
        out << "\n      <failure message=\"" << escape_html(checks) << "\">"
            << escape_html((*row)["replay"].get<std::string>()) << "</failure>\n    ";
      }
      out << "</testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

// Per scenario: the runs' simulated seconds per second of their own wall time and of their
// own CPU time (what `lockstep bench sim` reports for whole runs; the wall rate also counts
// the time a run waited for a core, which --jobs equal to the core count on a shared machine
// makes large), then the exploration's throughput: all simulated seconds over the explorer's
// wall time from the first fork to the last row, the number that says how many seeds an hour
// of this machine covers.
void print_table(const std::vector<Json>& rows, double explore_wall_s) {
  struct Total {
    size_t runs = 0;
    size_t failed = 0;
    uint64_t ops = 0;
    uint64_t requests = 0;
    int64_t sim_ms = 0;
    int64_t wall_ms = 0;
    int64_t cpu_ms = 0;
  };
  auto rate = [](int64_t sim_ms, int64_t ms) {
    return ms > 0 ? static_cast<double>(sim_ms) / static_cast<double>(ms) : 0.0;
  };
  std::map<std::string, Total> totals;
  Total all;
  for (const Json& row : rows) {
    for (Total* total : {&totals[row["scenario"].get<std::string>()], &all}) {
      ++total->runs;
      total->failed += row["verdict"] != "pass";
      total->ops += row["ops"].get<uint64_t>();
      total->requests += row.value("requests", uint64_t{0});
      total->sim_ms += row["sim_time_ms"].get<int64_t>();
      total->wall_ms += row["wall_ms"].get<int64_t>();
      total->cpu_ms += row.value("cpu_ms", int64_t{0});
    }
  }
  // ops: operations in the linearizability-checked history; requests: everything the clients
  // sent (a lock or lease workload's traffic is judged by its own checks, not in ops).
  std::printf("%-44s %6s %6s %10s %10s %10s %9s %9s\n", "scenario", "runs", "failed", "ops",
              "requests", "sim_s", "sim/wall", "sim/cpu");
  for (const auto& [scenario, total] : totals) {
    std::printf("%-44s %6zu %6zu %10llu %10llu %10.1f %8.1fx %8.1fx\n", scenario.c_str(),
                total.runs, total.failed, static_cast<unsigned long long>(total.ops),
                static_cast<unsigned long long>(total.requests),
                static_cast<double>(total.sim_ms) / 1000.0, rate(total.sim_ms, total.wall_ms),
                rate(total.sim_ms, total.cpu_ms));
  }
  const double sim_s = static_cast<double>(all.sim_ms) / 1000.0;
  std::printf(
      "per run: %.1fx real time per wall s, %.1fx per cpu s (run_scenario only, as bench sim); "
      "throughput: %.1f simulated s in %.1f s wall = %.1fx\n",
      rate(all.sim_ms, all.wall_ms), rate(all.sim_ms, all.cpu_ms), sim_s, explore_wall_s,
      explore_wall_s > 0 ? sim_s / explore_wall_s : 0.0);
}

// Every PROBE(runtime, "name") site of the store's sources (core/, store/), so the index can
// list those no run reached — coverage the scenarios do not give yet.
std::vector<Json> probe_sites(const std::string& source_root) {
  std::vector<Json> sites;
  const std::regex probe(R"re(PROBE\(\s*[A-Za-z_]+\s*,\s*"([^"]+)"\s*\))re");
  for (const char* folder : {"core", "store"}) {
    std::error_code error;
    const std::filesystem::path root = std::filesystem::path(source_root) / folder;
    if (!std::filesystem::exists(root, error)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root, error)) {
      const std::string name = entry.path().filename().string();
      // The replicated counter is sim's self-test subject, not part of the store.
      if (entry.path().extension() == ".cc" && name.find("counter") == std::string::npos &&
          name.find("_test") == std::string::npos) {
        files.push_back(entry.path());
      }
    }
    std::ranges::sort(files);
    for (const auto& file : files) {
      std::ifstream in(file);
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        std::smatch match;
        if (!std::regex_search(line, match, probe)) continue;
        const std::string relative = std::filesystem::relative(file, source_root).generic_string();
        sites.push_back(
            {{"site", relative + ":" + std::to_string(number)}, {"name", match[1].str()}});
      }
    }
  }
  return sites;
}

// Re-runs a failing seed with its full trace into its own report directory.
void write_failure_report(const RunSpec& run, Json& row, const std::string& directory) {
  sim::scenario::RunScenarioOptions options;
  options.record_trace = true;
  Result<sim::scenario::ScenarioResult> result =
      sim::scenario::run_scenario(run.scenario, run.seed, options);
  if (!result.is_ok()) return;
  const std::string run_directory = directory + "/" + run_directory_name(run);
  if (!sim::scenario::write_report_directory(run_directory,
                                             sim::scenario::report_files(*result, row["wall_ms"]))
           .is_ok()) {
    return;
  }
  row["report"] = run_directory_name(run) + "/report.html";
  row["directory"] = run_directory_name(run);
#ifdef LOCKSTEP_HAVE_HTML_REPORT
  (void)reports::write_html_report(run_directory);
#endif
}

Status write_index(const std::string& directory, std::vector<Json>& rows,
                   const std::vector<RunSpec>& runs, const ExploreFlags& flags) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return Status(ErrorCode::kInvalidInput, directory + ": " + error.message());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]["verdict"] != "pass") write_failure_report(runs[i], rows[i], directory);
  }
  std::set<std::string> hit;
  for (const Json& row : rows) {
    for (const Json& site : row["probes_hit"]) hit.insert(site.get<std::string>());
  }
  Json never_hit = Json::array();
#ifdef LOCKSTEP_SOURCE_ROOT
  for (Json& site : probe_sites(LOCKSTEP_SOURCE_ROOT)) {
    if (!hit.contains(site["site"].get<std::string>())) never_hit.push_back(site);
  }
#endif
  Json index = {{"seeds", flags.seeds},
                {"shard", flags.shard},
                {"swarm", flags.swarm},
                {"runs", rows},
                {"probes_hit", Json(std::vector<std::string>(hit.begin(), hit.end()))},
                {"probes_never_hit", never_hit}};
  RETURN_IF_ERROR(sim::scenario::write_text_file(directory + "/index.json", index.dump(2) + "\n"));
#ifdef LOCKSTEP_HAVE_HTML_REPORT
  Status html = reports::write_html_index(directory);
  if (!html.is_ok()) std::fprintf(stderr, "index.html: %s\n", html.to_string().c_str());
#else
  std::printf("index: %s/index.json (HTML step skipped: reports/ is not built in)\n",
              directory.c_str());
#endif
  return Status::ok();
}

Result<std::vector<RunSpec>> plan_runs(const ExploreFlags& flags) {
  Result<sim::scenario::NumberRange> seeds = sim::scenario::parse_number_range(
      "--seeds", flags.seeds, sim::scenario::BareNumber::kOnlyThat, 0, kMaxSeedsPerExplore);
  if (!seeds.is_ok()) return seeds.error();
  Result<std::pair<uint64_t, uint64_t>> shard = parse_shard(flags.shard);
  if (!shard.is_ok()) return shard.error();
  Result<std::vector<std::string>> paths = sim::scenario::scenario_paths(flags.target);
  if (!paths.is_ok()) return paths.error();
  std::vector<RunSpec> runs;
  uint64_t position = 0;
  for (const std::string& path : *paths) {
    Result<sim::scenario::Scenario> scenario = sim::scenario::load_scenario_file(path);
    if (!scenario.is_ok()) return scenario.error();
    if (flags.swarm) scenario->swarm = true;
    for (uint64_t seed = seeds->first; seed <= seeds->last; ++seed, ++position) {
      // Round-robin slices: every shard gets a mix of scenarios and seeds.
      if (position % shard->second == shard->first) runs.push_back({path, *scenario, seed});
    }
  }
  return runs;
}

void explore(const ExploreFlags& flags) {
  Result<std::vector<RunSpec>> runs = plan_runs(flags);
  if (!runs.is_ok()) {
    std::fprintf(stderr, "lockstep sim explore: %s\n", runs.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  std::error_code error;
  // A write to a worker that just died must fail with EPIPE, not kill the explorer.
  std::signal(SIGPIPE, SIG_IGN);
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<Json> rows = run_all(*runs, flags);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  print_table(rows, wall_s);
  size_t failed = 0;
  for (const Json& row : rows) {
    if (row["verdict"] == "pass") continue;
    ++failed;
    std::string checks;
    for (const Json& check : row["failed_checks"]) checks += " [" + check.get<std::string>() + "]";
    std::printf("FAIL %s seed %llu:%s\n  replay: %s\n", row["scenario"].get<std::string>().c_str(),
                static_cast<unsigned long long>(row["seed"].get<uint64_t>()), checks.c_str(),
                row["replay"].get<std::string>().c_str());
  }
  std::printf("%zu runs, %zu failed, %.1f s wall, %d jobs, shard %s\n", rows.size(), failed, wall_s,
              flags.jobs, flags.shard.c_str());
  if (!flags.junit_path.empty()) {
    const std::filesystem::path parent = std::filesystem::path(flags.junit_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    Status written = sim::scenario::write_text_file(flags.junit_path, junit_xml(rows));
    if (!written.is_ok())
      std::fprintf(stderr, "lockstep sim explore: %s\n", written.to_string().c_str());
  }
  if (!flags.report_directory.empty()) {
    Status written = write_index(flags.report_directory, rows, *runs, flags);
    if (!written.is_ok())
      std::fprintf(stderr, "lockstep sim explore: %s\n", written.to_string().c_str());
  }
  set_exit_code(failed == 0 ? 0 : 1);
}

void add_sim_explore_command(CLI::App& parent) {
  auto flags = std::make_shared<ExploreFlags>();
  CLI::App* command = parent.add_subcommand(
      "explore",
      "Run scenario files over a range of seeds in parallel worker processes\n"
      "  exit 0 all passed, 1 a run failed, 2 bad input\n"
      "  example: lockstep sim explore scenarios --seeds 1..20 --jobs 2 --junit explore.xml "
      "--report out");
  command->add_option("target", flags->target, "A scenario file or a directory of them")
      ->required();
  command->add_option("--seeds", flags->seeds, "Seed range A..B (inclusive) or one seed");
  command->add_option("--jobs", flags->jobs, "Worker processes")->check(CLI::Range(1, kMaxJobs));
  command->add_flag("--swarm", flags->swarm, "Draw every run's faults and knobs from its seed");
  command->add_option("--junit", flags->junit_path, "Write JUnit XML (one testcase per run)");
  command->add_option("--shard", flags->shard,
                      "Run only slice I of N (0-based), e.g. $(JOB_COMPLETION_INDEX)/8");
  command->add_option("--report", flags->report_directory,
                      "Write index.json and every run's report directory into this directory");
  command
      ->add_option("--check-timeout-s", flags->check_timeout_s,
                   "Wall-clock budget of each run's linearizability search")
      ->check(CLI::Range(1, 86400));
  command->callback([flags] { explore(*flags); });
}

const CommandRegistration registration("sim", "explore", add_sim_explore_command);

}  // namespace
}  // namespace lockstep::cli
