#include "store/sqlite_vfs.h"

#include <gtest/gtest.h>

#include <cstring>

#include "store/memory_disk.h"

namespace lockstep::store {
namespace {

std::unique_ptr<SqliteVfs> register_on(MemoryDisk& disk, std::string name, uint64_t seed = 1) {
  SqliteVfsOptions options;
  options.name = std::move(name);
  options.random_seed = seed;
  Result<std::unique_ptr<SqliteVfs>> vfs = SqliteVfs::register_vfs(disk, options);
  EXPECT_TRUE(vfs.is_ok()) << vfs.status().to_string();
  return std::move(vfs).value();
}

// Opens a file through the VFS's C interface, as SQLite would.
struct RawFile {
  explicit RawFile(sqlite3_vfs* vfs) : vfs(vfs), storage(vfs->szOsFile) {}
  ~RawFile() {
    if (opened && file()->pMethods != nullptr) file()->pMethods->xClose(file());
  }
  int open(const char* path, int flags) {
    const int rc = vfs->xOpen(vfs, path, file(), flags, nullptr);
    opened = rc == SQLITE_OK;
    return rc;
  }
  sqlite3_file* file() { return reinterpret_cast<sqlite3_file*>(storage.data()); }
  sqlite3_vfs* vfs;
  std::vector<char> storage;
  bool opened = false;
};

constexpr int kCreateFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB;

TEST(SqliteVfs, NamesAreUniquePerProcess) {
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> first = register_on(disk, "vfs-test-unique");
  SqliteVfsOptions options;
  options.name = "vfs-test-unique";
  EXPECT_EQ(SqliteVfs::register_vfs(disk, options).code(), ErrorCode::kInvalidInput);
  first.reset();
  EXPECT_EQ(sqlite3_vfs_find("vfs-test-unique"), nullptr) << "unregistered when destroyed";
}

TEST(SqliteVfs, ReadWriteSizeTruncateThroughTheDisk) {
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> vfs = register_on(disk, "vfs-test-basic");
  RawFile raw(sqlite3_vfs_find("vfs-test-basic"));
  ASSERT_EQ(raw.open("data.db", kCreateFlags), SQLITE_OK);
  const sqlite3_io_methods* io = raw.file()->pMethods;
  ASSERT_EQ(io->xWrite(raw.file(), "hello world", 11, 4), SQLITE_OK);
  sqlite3_int64 size = 0;
  ASSERT_EQ(io->xFileSize(raw.file(), &size), SQLITE_OK);
  EXPECT_EQ(size, 15);
  char buffer[32];
  ASSERT_EQ(io->xRead(raw.file(), buffer, 5, 4), SQLITE_OK);
  EXPECT_EQ(std::string(buffer, 5), "hello");
  ASSERT_EQ(io->xTruncate(raw.file(), 9), SQLITE_OK);
  ASSERT_EQ(io->xFileSize(raw.file(), &size), SQLITE_OK);
  EXPECT_EQ(size, 9);
  EXPECT_EQ(*disk.contents("data.db"), std::string(4, '\0') + "hello");
}

TEST(SqliteVfs, ShortReadsAreZeroFilled) {
  // SQLite's VFS contract: "If xRead() returns SQLITE_IOERR_SHORT_READ it must also fill in
  // the unread portions of the buffer with zeros."
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> vfs = register_on(disk, "vfs-test-short");
  RawFile raw(sqlite3_vfs_find("vfs-test-short"));
  ASSERT_EQ(raw.open("f", kCreateFlags), SQLITE_OK);
  ASSERT_EQ(raw.file()->pMethods->xWrite(raw.file(), "abc", 3, 0), SQLITE_OK);
  char buffer[8];
  std::memset(buffer, 'x', sizeof(buffer));
  EXPECT_EQ(raw.file()->pMethods->xRead(raw.file(), buffer, 8, 1), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buffer, 8), std::string("bc") + std::string(6, '\0'));
  std::memset(buffer, 'x', sizeof(buffer));
  EXPECT_EQ(raw.file()->pMethods->xRead(raw.file(), buffer, 8, 100), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buffer, 8), std::string(8, '\0'));
}

TEST(SqliteVfs, AccessDeleteAndFullPathname) {
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> vfs = register_on(disk, "vfs-test-names");
  sqlite3_vfs* raw_vfs = sqlite3_vfs_find("vfs-test-names");
  int exists = -1;
  ASSERT_EQ(raw_vfs->xAccess(raw_vfs, "j", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  EXPECT_EQ(exists, 0);
  {
    RawFile raw(raw_vfs);
    ASSERT_EQ(raw.open("j", kCreateFlags), SQLITE_OK);
    ASSERT_EQ(raw_vfs->xAccess(raw_vfs, "j", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
    EXPECT_EQ(exists, 0) << "an empty journal holds nothing, as SQLite's unix VFS says";
    ASSERT_EQ(raw.file()->pMethods->xWrite(raw.file(), "x", 1, 0), SQLITE_OK);
    ASSERT_EQ(raw_vfs->xAccess(raw_vfs, "j", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
    EXPECT_EQ(exists, 1);
  }
  EXPECT_EQ(raw_vfs->xDelete(raw_vfs, "j", 1), SQLITE_OK);
  EXPECT_FALSE(disk.exists("j"));
  EXPECT_EQ(raw_vfs->xDelete(raw_vfs, "j", 1), SQLITE_IOERR_DELETE_NOENT);
  char out[64];
  ASSERT_EQ(raw_vfs->xFullPathname(raw_vfs, "db/x.sqlite", sizeof(out), out), SQLITE_OK);
  EXPECT_STREQ(out, "db/x.sqlite");
  EXPECT_EQ(raw_vfs->xFullPathname(raw_vfs, "db/x.sqlite", 4, out), SQLITE_CANTOPEN);
}

TEST(SqliteVfs, MissingFileWithoutCreateCannotOpen) {
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> vfs = register_on(disk, "vfs-test-missing");
  RawFile raw(sqlite3_vfs_find("vfs-test-missing"));
  EXPECT_EQ(raw.open("absent", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB), SQLITE_CANTOPEN);
  std::optional<Error> error = vfs->take_last_error();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kFileNotFound);
}

TEST(SqliteVfs, DiskErrorsReachSqliteAndAreRemembered) {
  MemoryDisk disk;
  std::unique_ptr<SqliteVfs> vfs = register_on(disk, "vfs-test-errors");
  RawFile raw(sqlite3_vfs_find("vfs-test-errors"));
  ASSERT_EQ(raw.open("f", kCreateFlags), SQLITE_OK);
  disk.fail_next_writes(1);
  EXPECT_EQ(raw.file()->pMethods->xWrite(raw.file(), "abc", 3, 0), SQLITE_IOERR_WRITE);
  EXPECT_EQ(vfs->take_last_error()->code(), ErrorCode::kIoError);
  disk.set_capacity_bytes(2);
  EXPECT_EQ(raw.file()->pMethods->xWrite(raw.file(), "abc", 3, 0), SQLITE_FULL);
  EXPECT_EQ(vfs->take_last_error()->code(), ErrorCode::kDiskFull);
  disk.set_capacity_bytes(std::nullopt);
  disk.fail_next_syncs(1);
  EXPECT_FALSE(vfs->sync_failed());
  EXPECT_EQ(raw.file()->pMethods->xSync(raw.file(), SQLITE_SYNC_FULL), SQLITE_IOERR_FSYNC);
  EXPECT_TRUE(vfs->sync_failed());
}

TEST(SqliteVfs, RandomnessAndTimeComeFromTheRun) {
  MemoryDisk disk;
  SqliteVfsOptions options;
  options.name = "vfs-test-clock";
  options.random_seed = 42;
  options.clock = [] { return Instant(std::chrono::milliseconds(1'000)); };
  std::unique_ptr<SqliteVfs> first = SqliteVfs::register_vfs(disk, options).value();
  options.name = "vfs-test-clock-2";
  std::unique_ptr<SqliteVfs> second = SqliteVfs::register_vfs(disk, options).value();
  sqlite3_vfs* a = sqlite3_vfs_find("vfs-test-clock");
  sqlite3_vfs* b = sqlite3_vfs_find("vfs-test-clock-2");
  char bytes_a[32], bytes_b[32];
  ASSERT_EQ(a->xRandomness(a, 32, bytes_a), 32);
  ASSERT_EQ(b->xRandomness(b, 32, bytes_b), 32);
  EXPECT_EQ(std::string(bytes_a, 32), std::string(bytes_b, 32)) << "same seed, same bytes";
  sqlite3_int64 now = 0;
  ASSERT_EQ(a->xCurrentTimeInt64(a, &now), SQLITE_OK);
  EXPECT_EQ(now, 210866760000000 + 1000) << "Julian-day milliseconds of the run's clock";
}

// Runs a small SQLite workload on a fresh disk and returns the database file's bytes.
std::string database_bytes_after_workload(uint64_t seed) {
  MemoryDisk disk;
  SqliteVfsOptions options;
  options.name = "vfs-test-determinism";
  options.random_seed = seed;
  std::unique_ptr<SqliteVfs> vfs = SqliteVfs::register_vfs(disk, options).value();
  vfs->make_current_for_randomness();
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2("t.db", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            "vfs-test-determinism"),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db,
                         "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                         "CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(16));",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::string bytes = *disk.contents("t.db-wal");
  sqlite3_close(db);
  return bytes;
}

TEST(SqliteVfs, SameSeedWritesTheSameBytes) {
  // WAL salts and randomblob() draw from SQLite's PRNG, which this VFS seeds: a simulated run
  // must write identical bytes when replayed.
  const std::string first = database_bytes_after_workload(5);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, database_bytes_after_workload(5));
  EXPECT_NE(first, database_bytes_after_workload(6));
}

}  // namespace
}  // namespace lockstep::store
