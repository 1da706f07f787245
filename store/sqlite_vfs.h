#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/base/time.h"
#include "core/env/disk.h"

namespace lockstep::env {
class Runtime;
}

namespace lockstep::store {

// Longest path SQLite may hand the VFS (SQLite's own default for unix is 512).
inline constexpr int kSqliteVfsMaxPathBytes = 512;
// The sector size reported to SQLite: SimDisk tears writes at 512-byte sectors, and POSIX
// disks promise no more.
inline constexpr int kSqliteVfsSectorBytes = 512;

struct SqliteVfsOptions {
  // Unique among the VFSes registered in this OS process: one per simulated process (and
  // incarnation) or one for the daemon, e.g. "lockstep-node-3-7".
  std::string name;
  // Seeds xRandomness (SQLite's PRNG: WAL salts, journal nonces, temp names), so that a
  // simulated run writes the same bytes every time.
  uint64_t random_seed = 0;
  // xSleep sleeps the calling fiber through this runtime (SQLite sleeps while waiting for a
  // lock, which never happens with one connection); without a runtime it returns at once.
  env::Runtime* runtime = nullptr;
  // xCurrentTime: the run's clock (virtual in simulation). Without one SQLite sees a fixed
  // time; the store never asks SQLite for the date, so only determinism matters.
  std::function<Instant()> clock;
};

// A SQLite VFS over env::Disk, so every byte the SQLite backend reads or writes goes through
// the same Disk the simulator injects faults into (DESIGN.md: Disk).
//
// What it provides and why:
//  - files: xOpen/xRead/xWrite/xTruncate/xSync/xFileSize on env::File; a short read
//    zero-fills the rest of the buffer and returns SQLITE_IOERR_SHORT_READ, as SQLite
//    requires. Temporary files (opened without a name) live in memory: they are scratch space
//    that never needs to survive a crash.
//  - names: xDelete/xAccess/xFullPathname on the Disk's flat namespace. A file that SQLite
//    creates has its directory fsynced on its first xSync (and xDelete fsyncs it when SQLite
//    asks), because on POSIX a new name is durable only after that.
//  - locks are no-ops: one process owns its data directory, and the backend opens the
//    database with locking_mode=EXCLUSIVE. The io methods are version 1, without shared
//    memory; SQLite then keeps the WAL index in heap memory, which exclusive mode allows.
//  - randomness, time and sleep come from the run (SqliteVfsOptions), never the OS.
//
// I/O failures are remembered (last_error()) so the backend can report kIoError/kDiskFull
// with the Disk's own detail instead of SQLite's generic "disk I/O error".
class SqliteVfs {
 public:
  // Registers the VFS with SQLite (not as the default). Fails with kInvalidInput when the
  // name is already taken.
  static Result<std::unique_ptr<SqliteVfs>> register_vfs(env::Disk& disk, SqliteVfsOptions options);
  ~SqliteVfs();
  SqliteVfs(const SqliteVfs&) = delete;
  SqliteVfs& operator=(const SqliteVfs&) = delete;

  const std::string& name() const { return options_.name; }
  env::Disk& disk() { return disk_; }

  // Makes this VFS SQLite's default and resets SQLite's process-wide PRNG, so that its next
  // draw is seeded from this VFS's stream. SQLite seeds that PRNG from the *default* VFS, once
  // per OS process; calling this before each write transaction keeps the bytes SQLite writes
  // (WAL salts) a function of this run's seed even when many simulated processes share one
  // OS process.
  void make_current_for_randomness();

  // The Disk error of the most recent failed VFS call, if any; cleared by take_last_error().
  std::optional<Error> take_last_error();
  // True once an xSync failed: what the file holds is then unknown (Linux drops the dirty
  // pages after a failed fsync), so the backend must stop using the database.
  bool sync_failed() const { return sync_failed_; }
  // True once a VFS call saw its fiber being killed (env::FiberKilled: the process crashed or
  // stopped). The exception cannot unwind through SQLite's C frames, so the VFS catches it,
  // fails that call and every later one without touching the disk, and the backend rethrows
  // it as soon as SQLite returns (rethrow_if_killed).
  bool killed() const { return killed_; }
  void rethrow_if_killed() const;

  // ---- For the C callbacks ----
  int open_file(const char* path, sqlite3_file* file, int flags, int* out_flags);
  int delete_file(const char* path, bool sync_directory);
  int access(const char* path, int flags, int* result);
  void fill_random(int bytes, char* out);
  int sleep_microseconds(int microseconds);
  int64_t current_time_julian_ms();
  int record(const Error& error, int sqlite_code);
  void note_sync_failure() { sync_failed_ = true; }
  void note_killed() { killed_ = true; }

 private:
  SqliteVfs(env::Disk& disk, SqliteVfsOptions options);

  env::Disk& disk_;
  SqliteVfsOptions options_;
  Random random_;
  sqlite3_vfs vfs_{};
  std::optional<Error> last_error_;
  bool sync_failed_ = false;
  bool killed_ = false;
  uint64_t temporary_files_opened_ = 0;
};

}  // namespace lockstep::store
