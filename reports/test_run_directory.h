#pragma once

// Test fixture: hand-made run directories in the shape scenarios/README.md documents, so the
// report tests do not need the simulator.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace lockstep::reports::testing {

// A fresh directory under the system temp dir, removed when the object goes away.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::random_device entropy;
    path_ = std::filesystem::temp_directory_path() /
            ("lockstep-reports-" + std::to_string(entropy()) + "-" + std::to_string(entropy()));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A failed linearizability run of a three-member cluster: member 1 leads in term 2, crashes
// at 400 ms and restarts at 700 ms; member 2 wins term 3. A partition and a clog are
// applied; client 1's read (operation 3) saw a stale value, and operations 2 and 3 are the
// counterexample. One key holds "</script><script>window.injected=1</script>".
inline const char* kHostileKey = "</script><script>window.injected=1</script>";

inline void write_failed_run(const std::string& directory, int extra_operations = 0) {
  using nlohmann::json;
  write_file(directory + "/summary.json",
             json{{"scenario", "leader-crash"},
                  {"seed", 42},
                  {"verdict", "fail"},
                  {"checks", {{"linearizability", "fail"}, {"raft_safety", "pass"}}},
                  {"trace_hash", "9f3c2a1b00d4e5f6"},
                  {"sim_time_ms", 1000},
                  {"wall_ms", 37},
                  {"ops", 5 + extra_operations}}
                 .dump());
  std::string history = "{\"lockstep_history\":1,\"model\":\"etcd\"}\n";
  const std::vector<json> operations = {
      {{"client", 1},
       {"invoke", 10'000'000},
       {"return", 20'000'000},
       {"request", {{"op", "put"}, {"key", "a"}, {"value", "1"}}},
       {"response", {{"revision", 2}}}},
      {{"client", 2},
       {"invoke", 30'000'000},
       {"return", 40'000'000},
       {"request", {{"op", "put"}, {"key", kHostileKey}, {"value", "x"}}},
       {"response", {{"error", "etcdserver: too many requests"}}}},
      {{"client", 2},
       {"invoke", 300'000'000},
       {"return", 350'000'000},
       {"request", {{"op", "put"}, {"key", "a"}, {"value", "2"}}},
       {"response", {{"revision", 3}}}},
      {{"client", 1},
       {"invoke", 500'000'000},
       {"return", 520'000'000},
       {"request", {{"op", "get"}, {"key", "a"}}},
       {"response", {{"revision", 3}, {"value", "1"}}}},
      {{"client", 3},
       {"invoke", 390'000'000},
       {"request", {{"op", "put"}, {"key", "b"}, {"value", "z"}}}},
  };
  for (const json& operation : operations) history += operation.dump() + "\n";
  for (int index = 0; index < extra_operations; ++index) {
    const int64_t invoke = 600'000'000 + index * 10'000;
    history += json{{"client", 4 + index % 3},
                    {"invoke", invoke},
                    {"return", invoke + 5'000},
                    {"request", {{"op", "get"}, {"key", "c"}}},
                    {"response", {{"revision", 3}}}}
                   .dump() +
               "\n";
  }
  write_file(directory + "/history.jsonl", history);
  write_file(
      directory + "/timeline.json",
      json{
          {"members", {1, 2, 3}},
          {"origin_ns", 0},
          {"heal_at_ms", 900},
          {"end_ms", 1000},
          {"roles",
           {{{"t_ms", 0}, {"member", 1}, {"role", "follower"}, {"term", 1}},
            {{"t_ms", 0}, {"member", 2}, {"role", "follower"}, {"term", 1}},
            {{"t_ms", 0}, {"member", 3}, {"role", "follower"}, {"term", 1}},
            {{"t_ms", 100}, {"member", 1}, {"role", "candidate"}, {"term", 2}},
            {{"t_ms", 110}, {"member", 1}, {"role", "leader"}, {"term", 2}},
            {{"t_ms", 450}, {"member", 2}, {"role", "candidate"}, {"term", 3}},
            {{"t_ms", 460}, {"member", 2}, {"role", "leader"}, {"term", 3}},
            {{"t_ms", 700}, {"member", 1}, {"role", "follower"}, {"term", 3}}}},
          {"events",
           {{{"t_ms", 400}, {"member", 1}, {"kind", "crash"}, {"detail", "torn"}},
            {{"t_ms", 700}, {"member", 1}, {"kind", "restart"}}}},
          {"faults",
           {{{"kind", "partition"}, {"start_ms", 200}, {"end_ms", 300}, {"targets", {3}}},
            {{"kind", "clog"}, {"start_ms", 250}, {"end_ms", 600}, {"target", "node:2"}},
            {{"kind", "clock_jump"}, {"start_ms", 800}, {"target", "node:3"}, {"offset_ms", 500}}}}}
          .dump());
  write_file(directory + "/checks.json",
             json::array({{{"name", "linearizability"},
                           {"verdict", "fail"},
                           {"detail", "cannot linearize get a on client 1"},
                           {"counterexample", {2, 3}}},
                          {{"name", "raft_safety"}, {"verdict", "pass"}, {"detail", ""}}})
                 .dump());
  write_file(directory + "/trace.jsonl",
             "{\"t_ns\":0,\"process\":1,\"kind\":\"process_start\",\"detail\":\"\"}\n"
             "{\"t_ns\":400000000,\"process\":1,\"kind\":\"process_crash\",\"detail\":\"torn\"}\n");
  write_file(directory + "/scenario.json", json{{"name", "leader-crash"}}.dump());
  write_file(
      directory + "/probes.json",
      json::array({{{"site", "core/raft/raft.cc:120"}, {"name", "raft.step_down"}, {"hits", 2}},
                   {{"site", "store/wal.cc:88"}, {"name", "wal.torn_tail"}, {"hits", 0}}})
          .dump());
}

}  // namespace lockstep::reports::testing
