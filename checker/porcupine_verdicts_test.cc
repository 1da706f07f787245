// Every history of the public Porcupine / Jepsen data set gets the verdict those projects
// established (VERDICTS.txt), through the library and, for a sample, through `lockstep check`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checker/history_format.h"
#include "checker/linearizability.h"

namespace lockstep::checker {
namespace {

const std::string kDataDir = std::string(LOCKSTEP_SHARED_DATA_DIR) + "/porcupine/";

struct ExpectedVerdict {
  std::string file;
  std::string verdict;  // linearizable | not-linearizable | skip-empty
};

std::vector<ExpectedVerdict> read_verdicts() {
  std::ifstream in(kDataDir + "VERDICTS.txt");
  std::vector<ExpectedVerdict> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    ExpectedVerdict expected;
    fields >> expected.file >> expected.verdict;
    out.push_back(expected);
  }
  return out;
}

TEST(PorcupineVerdictsTest, EveryVerdictIsReproducedByTheLibrary) {
  const std::vector<ExpectedVerdict> verdicts = read_verdicts();
  ASSERT_EQ(verdicts.size(), 109u) << "VERDICTS.txt lists 103 jepsen and 6 kv histories";
  for (const ExpectedVerdict& expected : verdicts) {
    SCOPED_TRACE(expected.file);
    auto history = read_history_file(kDataDir + expected.file);
    ASSERT_TRUE(history.is_ok()) << history.error().to_string();
    auto model = make_model(default_model_for(*history));
    ASSERT_NE(model, nullptr);
    auto result = check_linearizability(*history, *model);
    ASSERT_TRUE(result.is_ok()) << result.error().to_string();
    if (expected.verdict == "skip-empty") {
      // The empty log: no operations, trivially linearizable.
      EXPECT_TRUE(history->operations.empty());
      EXPECT_EQ(result->verdict, Verdict::kLinearizable);
    } else if (expected.verdict == "linearizable") {
      EXPECT_EQ(result->verdict, Verdict::kLinearizable);
    } else {
      ASSERT_EQ(expected.verdict, "not-linearizable");
      EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
      ASSERT_FALSE(result->partitions.empty());
      EXPECT_TRUE(result->partitions.back().blocked_operation.has_value());
    }
  }
}

// kv/c10-ok without per-key partitioning: one search over a store of ten keys.
TEST(PorcupineVerdictsTest, UnpartitionedKvSearchAgrees) {
  for (const char* file : {"kv/c01-ok.txt", "kv/c01-bad.txt", "kv/c10-ok.txt", "kv/c10-bad.txt"}) {
    SCOPED_TRACE(file);
    auto history = read_history_file(kDataDir + file);
    ASSERT_TRUE(history.is_ok());
    CheckOptions options;
    options.partition = false;
    auto result = check_linearizability(*history, *make_model("kv"), options);
    ASSERT_TRUE(result.is_ok());
    const bool ok = std::string(file).find("-ok") != std::string::npos;
    EXPECT_EQ(result->verdict, ok ? Verdict::kLinearizable : Verdict::kNotLinearizable);
  }
}

int run_binary(const std::string& arguments, std::string& output) {
  const std::string command = std::string(LOCKSTEP_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  output.clear();
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PorcupineVerdictsTest, TheBinaryPrintsVerdictsAndExitCodes) {
  struct Case {
    std::string arguments;
    int exit_code;
    std::string first_line;
  };
  const std::vector<Case> cases = {
      {kDataDir + "jepsen/etcd_002.log", 0, "linearizable"},
      {kDataDir + "jepsen/etcd_000.log", 1, "not linearizable"},
      {kDataDir + "kv/c50-ok.txt", 0, "linearizable"},
      {kDataDir + "kv/c10-bad.txt --format porcupine-kv --model kv", 1, "not linearizable"},
      {kDataDir + "jepsen/etcd_002.log --max-steps 10", 3, "unknown"},
      {kDataDir + "kv/c10-ok.txt --format jepsen", 2, ""},
      {kDataDir + "does-not-exist.log", 2, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.arguments);
    std::string output;
    EXPECT_EQ(run_binary("check " + c.arguments, output), c.exit_code) << output;
    if (!c.first_line.empty()) {
      EXPECT_EQ(output.substr(0, output.find('\n')), c.first_line);
    }
  }
  std::string output;
  EXPECT_EQ(run_binary("check " + kDataDir + "kv/c10-ok.txt --format jepsen", output), 2);
  EXPECT_NE(output.find("c10-ok.txt:1:"), std::string::npos) << output;
}

}  // namespace
}  // namespace lockstep::checker
