// End to end: three real `lockstep counter` processes on loopback, each with its own data
// directory. One is killed with SIGKILL mid-run and restarted from its directory; it must
// recover every increment it acknowledged ("acked own=N" is printed only after the record is
// fdatasync'ed), and every member must converge on the same final counter.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "server/event_loop.h"

namespace lockstep::server {
namespace {

// Hang guard for waiting on a child's output; generous because the machine is shared. Not a
// performance assertion: a healthy run finishes in a few seconds.
constexpr Duration kOutputDeadline = std::chrono::seconds(90);

// A child process running the lockstep binary with stdout on a pipe and stderr in a file.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& arguments, const std::string& stderr_path) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      const int error_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (error_fd >= 0) ::dup2(error_fd, STDERR_FILENO);
      std::vector<char*> argv;
      for (const std::string& argument : arguments)
        argv.push_back(const_cast<char*>(argument.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }

  // The next line of output, or nullopt at end of output or at the deadline.
  std::optional<std::string> read_line(Instant deadline) {
    for (;;) {
      const size_t newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        lines_.push_back(line);
        return line;
      }
      const int64_t remaining_ms = (deadline - monotonic_now()).count() / 1'000'000;
      if (remaining_ms <= 0) return std::nullopt;
      pollfd readable{stdout_fd_, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(remaining_ms)) <= 0) continue;
      char chunk[4096];
      const ssize_t got = ::read(stdout_fd_, chunk, sizeof(chunk));
      if (got <= 0) return std::nullopt;  // end of output: the process exited
      buffered_.append(chunk, static_cast<size_t>(got));
    }
  }

  // Reads lines until one starts with `prefix` (returned) or output ends.
  std::optional<std::string> read_until(std::string_view prefix) {
    const Instant deadline = monotonic_now() + kOutputDeadline;
    while (std::optional<std::string> line = read_line(deadline)) {
      if (line->starts_with(prefix)) return line;
    }
    return std::nullopt;
  }

  void signal(int number) { ::kill(pid_, number); }

  // Exit status as a shell reports it (128 + signal for a killed process).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool reaped_ = false;
  std::string buffered_;
  std::vector<std::string> lines_;
};

// A port nothing listens on right now (the kernel's choice for port 0).
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

uint64_t number_after(const std::string& line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string::npos) return 0;
  return std::stoull(line.substr(at + key.size()));
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CounterIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "counter_integration_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
    for (int id = 1; id <= 3; ++id) {
      if (!peers_.empty()) peers_ += ",";
      peers_ += std::to_string(id) + "=127.0.0.1:" + std::to_string(free_port());
    }
  }
  void TearDown() override {
    if (HasFailure()) {
      for (int id = 1; id <= 3; ++id) {
        std::printf("--- stderr of member %d ---\n%s", id, file_text(stderr_path(id)).c_str());
      }
    }
    std::filesystem::remove_all(directory_);
  }

  std::string stderr_path(int id) const { return directory_ + "/stderr-" + std::to_string(id); }

  std::unique_ptr<ChildProcess> start_member(int id) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{LOCKSTEP_BINARY, "counter", "--id", std::to_string(id), "--peers",
                                 peers_, "--data-dir", directory_ + "/data-" + std::to_string(id),
                                 "--increments", std::to_string(kIncrements),
                                 "--increment-interval-ms", "5", "--gossip-interval-ms", "20"},
        stderr_path(id));
  }

  static constexpr uint64_t kIncrements = 60;
  std::string directory_;
  std::string peers_;
};

TEST_F(CounterIntegration, KilledMemberRecoversEveryAckedIncrementAndAllConverge) {
  std::vector<std::unique_ptr<ChildProcess>> members;
  for (int id = 1; id <= 3; ++id) members.push_back(start_member(id));

  // Let member 3 acknowledge some increments, then kill -9 it mid-run.
  ChildProcess& doomed = *members[2];
  ASSERT_TRUE(doomed.read_until("acked own=15").has_value()) << "member 3 never got going";
  doomed.signal(SIGKILL);
  uint64_t last_acked = 15;
  // Lines printed before the kill are acknowledgements too: drain the pipe to its end.
  while (std::optional<std::string> line = doomed.read_line(monotonic_now() + kOutputDeadline)) {
    if (line->starts_with("acked own=")) last_acked = number_after(*line, "acked own=");
  }
  EXPECT_EQ(doomed.wait(), 128 + SIGKILL);

  // Restart from the same data directory: every acknowledged increment must be there.
  members[2] = start_member(3);
  std::optional<std::string> recovered = members[2]->read_until("recovered own=");
  ASSERT_TRUE(recovered.has_value());
  EXPECT_GE(number_after(*recovered, "recovered own="), last_acked)
      << "an increment acknowledged as durable was lost by kill -9";

  // Everyone converges on the sum of all targets.
  const std::string converged = "total=" + std::to_string(3 * kIncrements);
  for (int id = 1; id <= 3; ++id) {
    ASSERT_TRUE(members[id - 1]->read_until(converged).has_value())
        << "member " << id << " did not converge";
  }
  // Graceful stop: SIGTERM unwinds the fibers and prints the final state.
  const std::string expected_counts = "counts=1:60,2:60,3:60";
  for (int id = 1; id <= 3; ++id) {
    ChildProcess& member = *members[id - 1];
    member.signal(SIGTERM);
    std::optional<std::string> final_line = member.read_until("final ");
    ASSERT_TRUE(final_line.has_value()) << "member " << id;
    EXPECT_EQ(*final_line, "final own=60 " + converged + " " + expected_counts) << "member " << id;
    EXPECT_EQ(member.wait(), 0) << "member " << id;
  }
}

TEST_F(CounterIntegration, BadArgumentsFailWithAClearMessageAndExitCode2) {
  struct Case {
    std::vector<std::string> arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--id", "4", "--peers", peers_}, "--id 4 is not in --peers"},
      {{"--id", "1", "--peers", "1=127.0.0.1"}, "address needs host:port"},
      {{"--id", "1", "--peers", "1=127.0.0.1:7101,1=127.0.0.1:7102"}, "duplicate peer id"},
  };
  for (const Case& bad : cases) {
    std::vector<std::string> arguments = {LOCKSTEP_BINARY, "counter", "--data-dir",
                                          directory_ + "/unused"};
    arguments.insert(arguments.end(), bad.arguments.begin(), bad.arguments.end());
    const std::string errors = directory_ + "/stderr-bad";
    std::filesystem::remove(errors);
    ChildProcess process(arguments, errors);
    EXPECT_EQ(process.wait(), 2) << bad.message;
    EXPECT_NE(file_text(errors).find(bad.message), std::string::npos) << file_text(errors);
  }
}

}  // namespace
}  // namespace lockstep::server
