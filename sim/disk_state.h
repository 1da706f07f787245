#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/base/time.h"
#include "core/env/disk.h"
#include "sim/crash_mode.h"

namespace lockstep::sim {

// Torn writes keep a prefix at this granularity: disks promise atomic sector writes, nothing
// larger (the classic 512-byte sector; SQLite and etcd's WAL both assume no more).
inline constexpr uint64_t kSectorBytes = 512;
// A simulated disk's size unless a scenario sets another; writes beyond it fail with ENOSPC.
inline constexpr uint64_t kDefaultDiskCapacityBytes = 1ull << 30;

// Faults a scenario injects into one process's disk. Probabilities are per operation and
// drawn from the world's "disk" stream; the "next N" counters fail the next N operations
// outright (and count down).
struct DiskFaults {
  double write_error_probability = 0;  // EIO from File::write; nothing is written
  double sync_error_probability = 0;   // EIO from File::sync and Disk::sync_directory
  uint32_t fail_next_writes = 0;
  uint32_t fail_next_syncs = 0;
  uint64_t capacity_bytes = kDefaultDiskCapacityBytes;  // ENOSPC beyond this many bytes
  // The drive acknowledges fsync without flushing its volatile cache (a known failure of
  // cheap drives): sync() returns ok but its writes stay pending, so a crash may lose data
  // the program believes durable. A planted fault, for checking that checkers catch it.
  bool fsync_lies = false;
  Duration latency_min{0};  // each operation sleeps the calling fiber for a uniform draw
  Duration latency_max{0};  // in [latency_min, latency_max] of virtual time
};

// The contents of one process's disk, which outlive the process: a crash resolves unsynced
// state by a CrashMode and a restart finds what survived.
//
// Model (POSIX on a journaling file system, minus its kindnesses):
//  - each file (inode) has durable bytes and a list of pending writes/truncates; reads see
//    the pending state (the page cache), sync() makes it durable;
//  - the namespace (paths → inodes) has a durable and a current version; create, rename and
//    remove change the current one, and sync_directory(d) makes d's entries durable;
//  - a failed fsync does not leave the writes retryable: as Linux does (the 2018 "fsyncgate"
//    PostgreSQL report), the pages are marked clean, so a later successful sync does not make
//    them durable and a crash loses them. Callers must rewrite after an fsync error.
class DiskState {
 public:
  using InodeId = uint64_t;

  DiskState() = default;

  // Namespace operations on the current (unsynced) namespace.
  Result<InodeId> open(std::string_view path, env::OpenMode mode);
  Status remove(std::string_view path);
  Status rename(std::string_view from, std::string_view to);
  bool exists(std::string_view path) const;
  Result<std::vector<std::string>> list(std::string_view directory) const;
  Status create_directory(std::string_view directory);
  Status sync_directory(std::string_view directory, Random& random);

  // File operations on an inode returned by open().
  Result<std::string> read(InodeId inode, uint64_t offset, size_t length) const;
  Status write(InodeId inode, uint64_t offset, std::string_view bytes, Random& random);
  // Returns the number of pending writes made durable.
  Result<uint64_t> sync(InodeId inode, Random& random);
  uint64_t size(InodeId inode) const;
  Status truncate(InodeId inode, uint64_t size, Random& random);

  // Open-handle bookkeeping, so a removed file's bytes live while a handle does.
  void add_handle(InodeId inode);
  void release_handle(InodeId inode, uint64_t handle_generation);
  // Bumped by every crash: handles from before it are stale.
  uint64_t generation() const { return generation_; }

  // Power loss: resolves every unsynced write and directory operation by `mode`.
  void crash(CrashMode mode, Random& random);

  // Flips one bit of a file's durable bytes (bit index within the file). Reads see it unless
  // a pending write covers that byte.
  Status flip_bit(std::string_view path, uint64_t bit_index);
  // Flips a uniformly drawn bit of the file's durable bytes.
  Status flip_random_bit(std::string_view path, Random& random);

  DiskFaults& faults() { return faults_; }
  const DiskFaults& faults() const { return faults_; }

  // Inspection for tests and reports.
  std::optional<std::string> durable_contents(std::string_view path) const;
  std::optional<std::string> current_contents(std::string_view path) const;
  bool durably_exists(std::string_view path) const;
  uint64_t used_bytes() const { return used_bytes_; }

 private:
  struct PendingOp {
    bool is_truncate = false;
    uint64_t offset = 0;  // write offset, or the new size of a truncate
    uint64_t length = 0;  // bytes written
    // A write's bytes are read from `current` (where nothing later overwrote them) until a
    // later op changes that range; only then are they copied here. Appends — nearly every
    // write — are never copied.
    std::string bytes;
    bool bytes_saved = false;
    bool lost_to_failed_sync = false;
    // What undoes this op on `current` (recorded while the inode's durable bytes are
    // implicit): the file size before it and the bytes it overwrote or truncated away.
    uint64_t size_before = 0;
    std::string replaced;
  };
  // The durable bytes are usually `current` with the pending ops undone, newest first, so they
  // are not stored: an fsync then costs no copy of what it makes durable, and a file's bytes
  // are held once, not twice (the simulator's memory is mostly SQLite's WAL images). They are
  // stored (`durable` set) only while that does not hold: after a failed fsync (its ops stay
  // pending yet a later fsync makes later ops durable) or a bit flip in the durable bytes.
  struct Inode {
    std::optional<std::string> durable;
    std::string current;
    std::vector<PendingOp> pending;
    // No pending write whose bytes live in `current` ends beyond this offset.
    uint64_t unsaved_end = 0;
    uint32_t open_handles = 0;
  };
  struct Entry {
    bool directory = false;
    InodeId inode = 0;
    bool operator==(const Entry&) const = default;
  };
  using Namespace = std::map<std::string, Entry, std::less<>>;

  // Applies `op` whose written bytes are `data` (op_bytes(), or a torn prefix of them).
  static void apply(std::string& bytes, const PendingOp& op, std::string_view data);
  static std::string_view op_bytes(const Inode& inode, const PendingOp& op);
  // Copies out the bytes of pending writes that live in `current` within [begin, end).
  static void save_overwritten_ops(Inode& inode, uint64_t begin, uint64_t end);
  static void clear_pending(Inode& inode);
  static void undo(std::string& bytes, const PendingOp& op);
  static std::string durable_bytes(const Inode& inode);
  static uint64_t durable_size(const Inode& inode);
  static void store_durable(Inode& inode);
  // Applies `op` to the inode's current bytes and queues it as pending.
  void apply_pending(Inode& inode, PendingOp op, std::string_view data);
  static void apply_torn(std::string& bytes, const PendingOp& op, std::string_view data,
                         Random& random);
  bool should_fail(uint32_t& next_count, double probability, Random& random);
  bool parent_is_directory(std::string_view path) const;
  void resolve_inode(Inode& inode, CrashMode mode, Random& random);
  void resolve_namespace(CrashMode mode, Random& random);
  void collect_unreferenced_inodes();
  void set_current(Inode& inode, std::string bytes);
  Inode& inode_at(InodeId inode);
  const Inode& inode_at(InodeId inode) const;

  Namespace durable_entries_;
  Namespace current_entries_;
  std::map<InodeId, Inode> inodes_;
  InodeId next_inode_ = 1;
  uint64_t generation_ = 0;
  uint64_t used_bytes_ = 0;
  DiskFaults faults_;
};

// "a/b/c" → "a/b"; "c" → "" (the root).
std::string_view parent_directory(std::string_view path);

}  // namespace lockstep::sim
