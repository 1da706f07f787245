#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/env/disk.h"

namespace lockstep::server {

class SyncWorker;

// Longest path below the root PosixDisk accepts. Store paths are short ("wal/<16 hex>.wal");
// anything near PATH_MAX is a bug or hostile input.
inline constexpr size_t kMaxDiskPathBytes = 1024;

// env::Disk over a real POSIX file system, rooted at a data directory. Every path is relative
// to the root and resolved with the *at() system calls against a descriptor of the root, so a
// process cannot reach outside its data directory by accident: absolute paths, "..", "." and
// empty components are rejected with kInvalidInput before any system call.
//
// Durability follows POSIX, which is also what SimDisk models: a file's bytes are durable
// after File::sync() (fdatasync: it flushes the data and the metadata needed to read it back,
// including the size, but not timestamps); creating, renaming or removing a name is durable
// after sync_directory() of its parent (fsync of the directory, as ext4 and XFS require).
//
// All calls except sync() (with a SyncWorker) are blocking system calls on the loop's thread:
// reads and writes hit the page cache and are short; fdatasync is the slow one.
class PosixDisk : public env::Disk {
 public:
  // Opens (creating it and its parents when missing) the data directory `root`.
  // The semantics at the edges (list shows files only, create_directory needs the parent,
  // rename moves files only, remove refuses non-empty directories with kIoError) match
  // sim/DiskState, so code developed in simulation behaves the same on a real disk.
  // With a `sync_worker`, File::sync() called from a fiber runs fdatasync on the worker's
  // helper thread and parks only that fiber (see sync_worker.h); without one, or outside a
  // fiber, it is a direct system call that blocks the event loop for its duration.
  static Result<std::unique_ptr<PosixDisk>> open_root(const std::string& root,
                                                      SyncWorker* sync_worker = nullptr);
  ~PosixDisk() override;
  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  Result<std::unique_ptr<env::File>> open(std::string_view path, env::OpenMode mode) override;
  Status remove(std::string_view path) override;
  // Renames a file, replacing an existing target file atomically (rename(2)). Directories
  // are neither moved nor replaced (kInvalidInput), matching SimDisk.
  Status rename(std::string_view from, std::string_view to) override;
  bool exists(std::string_view path) override;
  // The regular files directly inside `directory`, as paths from the root, sorted.
  Result<std::vector<std::string>> list(std::string_view directory) override;
  // Creates `directory`, whose parent must exist (kFileNotFound otherwise); an existing
  // directory is fine, an existing file is kInvalidInput.
  Status create_directory(std::string_view directory) override;
  Status sync_directory(std::string_view directory) override;

  const std::string& root() const { return root_; }

 private:
  PosixDisk(std::string root, int root_fd, SyncWorker* sync_worker)
      : root_(std::move(root)), root_fd_(root_fd), sync_worker_(sync_worker) {}

  // Opens a directory below the root ("" is the root itself) for listing or fsync.
  Result<int> open_directory(std::string_view directory, const char* operation);

  std::string root_;
  int root_fd_;
  SyncWorker* sync_worker_;
};

// Checks that `path` stays inside the root: relative, no "..", "." or empty components, no
// NUL bytes, at most kMaxDiskPathBytes long. `allow_root` accepts "" (the root).
Status validate_disk_path(std::string_view path, bool allow_root);

// Maps an errno from operation `operation` on `path` to the error table: ENOENT/ENOTDIR ->
// kFileNotFound, ENOSPC/EDQUOT -> kDiskFull, anything else -> kIoError. The detail names the
// operation, the path and the system's message.
Error disk_error_from_errno(int error_number, std::string_view operation, std::string_view path);

}  // namespace lockstep::server
