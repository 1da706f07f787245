#include "sim/scenario/forked_run.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace lockstep::sim::scenario {
namespace {

constexpr std::string_view kAssertMarker = "ASSERT";

ForkedOutcome finish(ForkedRun& run, std::string_view verdict_marker, int timeout_signal) {
  int status = 0;
  waitpid(run.pid, &status, 0);
  close(run.output_fd);
  ForkedOutcome outcome;
  outcome.number = run.number;
  outcome.output = std::move(run.output);
  const std::string& output = outcome.output;
  const size_t marker = output.rfind(verdict_marker);
  if (marker != std::string::npos) {
    const size_t start = marker + verdict_marker.size();
    const std::string verdict = output.substr(start, output.find('\n', start) - start);
    if (verdict.starts_with("ERROR")) {
      outcome.error = verdict;
    } else if (verdict == "UNKNOWN") {
      outcome.unknown = true;
    } else if (verdict != "PASS") {
      outcome.failed = true;
      outcome.caught_by = verdict;
    }
    return outcome;
  }
  if (timeout_signal != 0 && WIFSIGNALED(status) && WTERMSIG(status) == timeout_signal) {
    outcome.error = "killed by its wall-clock limit";
    return outcome;
  }
  // No verdict: the run aborted, normally on an ASSERT.
  outcome.failed = true;
  const size_t assertion = output.find(kAssertMarker);
  std::string line = output.substr(assertion == std::string::npos ? 0 : assertion);
  line = line.substr(0, line.find('\n'));
  if (line.empty()) line = "exit status " + std::to_string(status);
  outcome.caught_by = "abort: " + line;
  return outcome;
}

}  // namespace

ForkedRun start_forked_run(uint64_t number, const std::function<void()>& body,
                           std::string_view program) {
  const std::string name(program);
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror((name + ": pipe").c_str());
    std::exit(2);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror((name + ": fork").c_str());
    std::exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    body();
    _exit(4);  // bodies end with _exit; reaching here is a bug of the caller
  }
  close(fds[1]);
  return ForkedRun{pid, fds[0], number, {}};
}

ForkedOutcome wait_for_any(std::vector<ForkedRun>& running, std::string_view verdict_marker,
                           int timeout_signal) {
  while (true) {
    std::vector<pollfd> fds;
    for (const ForkedRun& run : running) fds.push_back(pollfd{run.output_fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (size_t i = 0; i < running.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[4096];
      const ssize_t got = read(running[i].output_fd, buffer, sizeof buffer);
      if (got > 0) {
        running[i].output.append(buffer, static_cast<size_t>(got));
        continue;
      }
      ForkedOutcome outcome = finish(running[i], verdict_marker, timeout_signal);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      return outcome;
    }
  }
}

}  // namespace lockstep::sim::scenario
