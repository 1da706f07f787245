// `lockstep check` on the hand-made watch and lock histories of testdata/: which checks run,
// what they print, and the exit codes (0 ok, 1 violation, 2 bad input naming line and field).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace lockstep::checker {
namespace {

const std::string kTestData = std::string(CHECKER_TESTDATA_DIR) + "/";

int run_check(const std::string& arguments, std::string& output) {
  const std::string command = std::string(LOCKSTEP_BINARY) + " check " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  output.clear();
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Case {
  std::string arguments;
  int exit_code;
  std::vector<std::string> expected_lines;  // each must appear in the output
};

TEST(CheckCommandTest, JudgesWatchAndLockRecords) {
  const std::vector<Case> cases = {
      // --check all (the default) runs every check the file has records for.
      {"watch_ok.jsonl", 0, {"linearizable\n", "watch: ok (1 watches, 3 committed changes)"}},
      {"watch_ok.jsonl --check watch", 0, {"watch: ok"}},
      {"watch_reordered.jsonl --check watch", 1, {"watch: violated", "[ordered] watch 1:"}},
      {"watch_reordered.jsonl", 1, {"linearizable\n", "watch: violated"}},
      {"watch_bookmark_ok.jsonl --check watch", 0, {"watch: ok"}},
      {"watch_bookmark_early.jsonl --check watch",
       1,
       {"watch: violated", "[bookmarkable] watch 1:"}},
      {"lock_ok.jsonl", 0, {"lock: ok (2 holds, 3 fenced writes)"}},
      {"lock_overlap.jsonl --check lock", 1, {"lock: violated", "[mutual exclusion] lock"}},
      {"lock_bad_field.jsonl", 2, {"lock_bad_field.jsonl:2: fencing_revision must be an integer"}},
      {"lock_ok.jsonl --check watch", 2, {"has no watch records"}},
      {"watch_ok.jsonl --check lock", 2, {"has no lock records"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.arguments);
    std::string output;
    EXPECT_EQ(run_check(kTestData + c.arguments, output), c.exit_code) << output;
    for (const std::string& line : c.expected_lines) {
      EXPECT_NE(output.find(line), std::string::npos) << "missing '" << line << "' in\n" << output;
    }
  }
}

TEST(CheckCommandTest, ALockOnlyFileRunsNoLinearizabilityCheck) {
  std::string output;
  EXPECT_EQ(run_check(kTestData + "lock_ok.jsonl", output), 0) << output;
  EXPECT_EQ(output.find("linearizable"), std::string::npos) << output;
}

}  // namespace
}  // namespace lockstep::checker
