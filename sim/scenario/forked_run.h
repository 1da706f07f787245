#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::sim::scenario {

// Runs that may abort, each in a forked child: a planted bug can trip an ASSERT (an invariant
// the code checks itself, which aborts), and that abort must be a result of the hunt, not its
// end. The child's stdout and stderr go to a pipe; the child ends by printing a verdict line
// "<marker><verdict>" and calling _exit. Used by `lockstep sim hunt` (seeds of a hunt
// scenario) and `lockstep_property_hunt` (cases of the generic property).
struct ForkedRun {
  pid_t pid = -1;
  int output_fd = -1;
  uint64_t number = 0;  // the caller's name for the run: a seed or a case number
  std::string output;
};

// How a forked run ended, read from its verdict line: "PASS"; "UNKNOWN" (no check failed but
// one could not decide); "ERROR ..." (the run could not start: not a catch); anything else is
// the failed checks. With no verdict line the child died: of `timeout_signal` (an error), or
// else an abort, named by its first ASSERT line.
struct ForkedOutcome {
  uint64_t number = 0;
  bool failed = false;
  bool unknown = false;
  std::string caught_by;  // the failed checks, or "abort: <assertion>"
  std::string error;      // the run could not run, or was killed: not a catch
  std::string output;     // everything the child printed
};

// Forks a child that runs `body` (which must not return: it ends with _exit). `program`
// prefixes the message when pipe or fork fail, which exits the caller with status 2.
ForkedRun start_forked_run(uint64_t number, const std::function<void()>& body,
                           std::string_view program);

// Drains every running child's output until one exits; removes it from `running` and says how
// it ended. `timeout_signal` is the signal a child's own wall-clock limit kills it with
// (alarm: SIGALRM), or 0 when children have none.
ForkedOutcome wait_for_any(std::vector<ForkedRun>& running, std::string_view verdict_marker,
                           int timeout_signal = 0);

}  // namespace lockstep::sim::scenario
