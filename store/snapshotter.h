#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/env/disk.h"
#include "core/raft/types.h"

namespace lockstep::store {

// A snapshot file on disk, known by its name before it is read.
struct SnapshotFile {
  std::string path;
  LogIndex index;
  Term term;

  bool operator==(const SnapshotFile&) const = default;
};

// Raft snapshot files in one directory of an env::Disk, one file per snapshot, named
// "<16 hex term>-<16 hex index>.snap" as etcd's snap package names them.
//
// File format: magic "LKSTSNP1", u32 version, u64 index, u64 term, the ConfState (each id
// list as a u64 count and u64 ids, then a u8 auto_leave), the data as a u64 length and bytes,
// and last a u32 CRC32C of everything before it, so a torn, truncated or bit-flipped file is
// recognised before any of it is used.
//
// Writes are atomic: the bytes go to "<name>.tmp", which is fsynced, renamed to its final
// name, and the directory fsynced. A crash leaves either no file or the complete one (plus
// perhaps a stale .tmp, which open() removes).
class Snapshotter {
 public:
  Snapshotter(env::Disk& disk, std::string directory)
      : disk_(disk), directory_(std::move(directory)) {}

  // Creates the directory and removes leftover temporary files.
  Status open();
  Status save(const raft::Snapshot& snapshot);
  // Every snapshot file, newest (highest index, then term) first. Files with other names are
  // reported as kDataCorruption: something wrote into a directory it does not own.
  Result<std::vector<SnapshotFile>> list();
  // Reads and verifies one file: kDataCorruption (with the path) when it does not verify or
  // its contents disagree with its name.
  Result<raft::Snapshot> load(const SnapshotFile& file);
  // Removes one file and fsyncs the directory.
  Status remove(const SnapshotFile& file);

  std::string path_for(LogIndex index, Term term) const;

 private:
  env::Disk& disk_;
  std::string directory_;
};

// The encoded file contents (exposed for tests and tools).
std::string encode_snapshot_file(const raft::Snapshot& snapshot);
Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes);

}  // namespace lockstep::store
