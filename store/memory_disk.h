#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/env/disk.h"

namespace lockstep::store {

// How a crash treats writes that were not yet fsynced (the same modes SimDisk offers).
enum class CrashMode {
  kDrop,  // every unsynced write and directory change is lost
  kKeep,  // every unsynced write and directory change survives
  kTorn,  // each unsynced write is independently lost, kept, or kept only up to a random byte
};

// A small in-memory env::Disk with POSIX durability semantics, for store/'s unit tests: file
// bytes are durable after File::sync(), names after sync_directory() of their parent, and
// crash() throws away what was not durable according to a CrashMode. It also injects the
// faults the store must survive or report: EIO on write or fsync, ENOSPC past a capacity, and
// bit flips in durable bytes. It is deliberately simpler than sim/'s SimDisk (no latency, no
// scheduling); the crash-recovery tests run on both.
class MemoryDisk : public env::Disk {
 public:
  MemoryDisk();
  ~MemoryDisk() override;

  Result<std::unique_ptr<env::File>> open(std::string_view path, env::OpenMode mode) override;
  Status remove(std::string_view path) override;
  Status rename(std::string_view from, std::string_view to) override;
  bool exists(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view directory) override;
  Status create_directory(std::string_view directory) override;
  Status sync_directory(std::string_view directory) override;

  // Loses what a crash loses. Open File objects must not be used afterwards.
  void crash(CrashMode mode, Random& random);

  // ---- Fault injection ----
  // The next `count` writes (or fsyncs) fail with kIoError without any effect.
  void fail_next_writes(int count) { failing_writes_ = count; }
  void fail_next_syncs(int count) { failing_syncs_ = count; }
  // Lets `successes` more fsyncs (file or directory) succeed, then fails exactly one.
  void fail_one_sync_after(int successes) { sync_failure_countdown_ = successes; }
  // Writes that would grow the total file bytes past `bytes` fail with kDiskFull.
  void set_capacity_bytes(std::optional<uint64_t> bytes) { capacity_bytes_ = bytes; }
  // Flips one bit of the current (and durable) contents of `path`.
  void flip_bit(std::string_view path, uint64_t offset, int bit);

  // ---- Inspection ----
  std::optional<std::string> contents(std::string_view path) const;
  uint64_t total_bytes() const;
  uint64_t sync_count() const { return sync_count_; }

 private:
  struct Inode;
  class MemoryFile;

  bool disk_sync_fails();

  std::map<std::string, std::shared_ptr<Inode>, std::less<>> names_;
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> durable_names_;
  std::map<std::string, bool, std::less<>> directories_;  // value: durable
  int failing_writes_ = 0;
  int failing_syncs_ = 0;
  std::optional<int> sync_failure_countdown_;
  std::optional<uint64_t> capacity_bytes_;
  uint64_t sync_count_ = 0;
  uint64_t generation_ = 0;  // bumped by crash(): stale File objects refuse to work
};

}  // namespace lockstep::store
