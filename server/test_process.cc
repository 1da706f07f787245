#include "server/test_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

namespace lockstep::server {
namespace {

constexpr int kLowestTestPort = 10000;
constexpr int kPortAttempts = 1000;

int ephemeral_range_start() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;  // Linux's default when the file cannot be read
  range >> low;
  return low;
}

bool can_bind(int port) {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool bound = ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(socket_fd);
  return bound;
}

bool is_executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

int pick_free_port() {
  // Tests only, outside any simulation: a fresh seed per process keeps parallel tests apart.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> ports(kLowestTestPort, ephemeral_range_start() - 1);
  // Ports handed out earlier in this process are not bound yet when the next one is picked
  // (an etcd's client and peer port are picked one after the other), so remember them.
  static std::set<int> handed_out;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int port = ports(random);
    if (handed_out.contains(port) || !can_bind(port)) continue;
    handed_out.insert(port);
    return port;
  }
  return 0;
}

std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

Result<std::string> find_etcd_binary() {
  const char* chosen = std::getenv("LOCKSTEP_ETCD_BINARY");
  if (chosen != nullptr && is_executable(chosen)) return std::string(chosen);
  const auto [status, found] = run_command("command -v etcd");
  const std::string on_path = found.substr(0, found.find('\n'));
  if (status == 0 && is_executable(on_path)) return on_path;
#ifdef LOCKSTEP_ETCD_BINARY
  if (is_executable(LOCKSTEP_ETCD_BINARY)) return std::string(LOCKSTEP_ETCD_BINARY);
#endif
  if (is_executable("/usr/bin/etcd")) return std::string("/usr/bin/etcd");
  return Error(ErrorCode::kIoError,
               "etcd 3.4 not found ($LOCKSTEP_ETCD_BINARY, PATH, the configure-time path, "
               "/usr/bin/etcd); install Debian's etcd-server and etcd-client");
}

Result<std::string> start_reference_etcd(const std::string& directory) {
  Result<std::string> etcd = find_etcd_binary();
  if (!etcd.is_ok()) return etcd.error();
  const std::string etcd_directory = etcd->substr(0, etcd->rfind('/'));
  const int client_port = pick_free_port();
  const int peer_port = pick_free_port();
  const std::string command =
      "PATH='" + etcd_directory + "':\"$PATH\" " + std::string(LOCKSTEP_SOURCE_DIR) +
      "/scripts/etcd-reference.sh start --members 1 --dir " + directory + " --client-port " +
      std::to_string(client_port) + " --peer-port " + std::to_string(peer_port) + " 2>&1";
  const auto [status, output] = run_command(command);
  if (status != 0) {
    return Error(ErrorCode::kIoError, "etcd 3.4 did not start (" + command + "; exit " +
                                          std::to_string(status) + "): " + output);
  }
  return output.substr(0, output.find_first_of(",\n"));
}

void stop_reference_etcd(const std::string& directory) {
  run_command(std::string(LOCKSTEP_SOURCE_DIR) + "/scripts/etcd-reference.sh stop --dir " +
              directory);
}

}  // namespace lockstep::server
