#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/disk.h"
#include "core/env/network.h"
#include "core/env/runtime.h"
#include "sim/disk_state.h"

namespace lockstep::sim {

class World;
struct Process;

// A process's view of the simulated network (env::Network).
class SimNetwork final : public env::Network {
 public:
  SimNetwork(World& world, Process& process) : world_(world), process_(process) {}
  void send(NodeId to, std::string payload) override;
  std::optional<env::Message> receive(std::optional<Instant> deadline) override;

 private:
  World& world_;
  Process& process_;
};

// A process's view of its simulated disk (env::Disk). Every operation first sleeps the
// calling fiber for the disk's latency, if the scenario set one.
class SimDisk final : public env::Disk {
 public:
  SimDisk(World& world, Process& process) : world_(world), process_(process) {}
  Result<std::unique_ptr<env::File>> open(std::string_view path, env::OpenMode mode) override;
  Status remove(std::string_view path) override;
  Status rename(std::string_view from, std::string_view to) override;
  bool exists(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view directory) override;
  Status create_directory(std::string_view directory) override;
  Status sync_directory(std::string_view directory) override;

  // Sleeps for one draw of the disk's latency (no-op when the latency is zero).
  void wait_latency();

 private:
  void trace_directory_op(std::string_view operation, std::string_view path, const Status& result);

  World& world_;
  Process& process_;
};

// An open simulated file. A handle from before a crash is stale: its operations fail with
// kIoError, as a file descriptor from a dead process would not exist at all.
class SimFile final : public env::File {
 public:
  SimFile(World& world, Process& process, SimDisk& disk, DiskState::InodeId inode);
  ~SimFile() override;
  Result<std::string> read(uint64_t offset, size_t length) override;
  Status write(uint64_t offset, std::string_view bytes) override;
  Status sync() override;
  Result<uint64_t> size() override;
  Status truncate(uint64_t size) override;

 private:
  Status check_live() const;

  World& world_;
  Process& process_;
  SimDisk& disk_;
  DiskState::InodeId inode_;
  uint64_t disk_generation_;
};

// env::Runtime for one simulated process. One object per process for the world's life;
// each incarnation (after restart) reuses it.
class SimRuntime final : public env::Runtime {
 public:
  SimRuntime(World& world, Process& process);

  NodeId self() const override;
  Instant now() const override;
  env::FiberId spawn(std::string name, std::function<void()> body) override;
  void sleep_for(Duration duration) override;
  void sleep_until(Instant deadline) override;
  void yield() override;
  bool park(std::optional<Instant> deadline) override;
  void wake(env::FiberId fiber) override;
  env::FiberId current_fiber() const override;
  env::Network& network() override { return network_; }
  env::Disk& disk() override { return disk_; }
  Random& random() override;
  bool buggify(std::source_location site) override;
  void probe(std::source_location site, std::string_view name) override;
  void trace(std::string_view kind, std::string_view detail) override;

 private:
  World& world_;
  Process& process_;
  SimNetwork network_;
  SimDisk disk_;
};

}  // namespace lockstep::sim
