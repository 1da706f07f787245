#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"

namespace lockstep::env {

// An open file. Writes become durable only after sync() returns ok; a crash before that
// may drop, keep or tear them (simulation decides by its crash mode). Errors are values:
// kIoError (EIO), kDiskFull (ENOSPC), kFileNotFound. Calls may block the calling fiber for
// the disk's latency.
class File {
 public:
  virtual ~File() = default;

  // Reads up to `length` bytes at `offset`; fewer at end of file.
  virtual Result<std::string> read(uint64_t offset, size_t length) = 0;
  virtual Status write(uint64_t offset, std::string_view bytes) = 0;
  // fsync: makes every earlier write to this file durable.
  virtual Status sync() = 0;
  virtual Result<uint64_t> size() = 0;
  virtual Status truncate(uint64_t size) = 0;
};

enum class OpenMode {
  kReadWrite,        // the file must exist
  kCreateReadWrite,  // created empty when missing
};

// A process's disk: a flat namespace of paths ("wal/0000000000000001.wal") under the
// process's data directory. Creating, renaming and removing a file is durable only after
// sync_directory() of its parent, as on a POSIX file system.
class Disk {
 public:
  virtual ~Disk() = default;

  virtual Result<std::unique_ptr<File>> open(std::string_view path, OpenMode mode) = 0;
  virtual Status remove(std::string_view path) = 0;
  virtual Status rename(std::string_view from, std::string_view to) = 0;
  virtual bool exists(std::string_view path) = 0;
  // Paths of the files directly inside `directory` ("" is the root), sorted.
  virtual Result<std::vector<std::string>> list(std::string_view directory) = 0;
  virtual Status create_directory(std::string_view directory) = 0;
  virtual Status sync_directory(std::string_view directory) = 0;
};

}  // namespace lockstep::env
