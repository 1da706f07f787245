// `lockstep bench store`: throughput of store/ on a real disk (server/'s PosixDisk):
//  - the SQLite MVCC backend: puts applied per second at several batch sizes (puts per
//    commit), with every commit fsynced (synchronous=FULL) and in etcd's deferred mode (a
//    checkpoint fsync every N commits, the Raft WAL covering the rest);
//  - the Raft WAL's group commit: entries appended per second and fsyncs per second when a
//    save() carries 1, 8, 64 or 256 entries.
// Prints numbers; asserts nothing. The wall clock is read here, in cli/, never in store/.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "core/base/random.h"
#include "server/posix_disk.h"
#include "store/raft_persistence.h"
#include "store/sqlite_backend.h"
#include "store/sqlite_vfs.h"

namespace lockstep::cli {
namespace {

struct BenchStoreOptions {
  std::string directory = "lockstep-bench-store";
  int puts = 100'000;
  int value_bytes = 128;
  int synced_commit_limit = 2'000;  // commits measured when every commit fsyncs
  int wal_entries = 20'000;
  int wal_save_limit = 1'000;  // saves measured per WAL run (each one fsyncs)
  int wal_entry_bytes = 256;
  bool keep = false;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

bool check(const Status& status, const char* doing) {
  if (status) return true;
  std::fprintf(stderr, "bench store: %s failed: %s\n", doing, status.to_string().c_str());
  set_exit_code(1);
  return false;
}

void bench_sqlite(server::PosixDisk& disk, const BenchStoreOptions& options, int puts_per_commit,
                  bool sync_every_commit, int run) {
  store::SqliteVfsOptions vfs_options;
  vfs_options.name = "bench-store-" + std::to_string(run);
  vfs_options.random_seed = 1;
  Result<std::unique_ptr<store::SqliteVfs>> vfs = store::SqliteVfs::register_vfs(disk, vfs_options);
  if (!check(vfs.status(), "registering the VFS")) return;
  store::SqliteBackendOptions backend_options;
  backend_options.path = "sqlite-" + std::to_string(run) + "/db.sqlite";
  backend_options.sync_every_commit = sync_every_commit;
  Result<std::unique_ptr<store::SqliteBackend>> backend =
      store::SqliteBackend::open(**vfs, backend_options);
  if (!check(backend.status(), "opening the backend")) return;
  int puts = options.puts;
  if (sync_every_commit) puts = std::min(puts, options.synced_commit_limit * puts_per_commit);
  const int commits = (puts + puts_per_commit - 1) / puts_per_commit;
  Random random(7);
  const std::string value(options.value_bytes, 'v');
  Stopwatch stopwatch;
  int64_t revision = 1;
  for (int commit = 0; commit < commits; ++commit) {
    mvcc::WriteBatch batch;
    batch.consistent_index = LogIndex(static_cast<uint64_t>(commit) + 1);
    for (int put = 0; put < puts_per_commit; ++put, ++revision) {
      batch.revision_puts.push_back(
          mvcc::RevisionRecord{mvcc::RevisionKey{Revision(revision), 0}, false, value});
    }
    if (!check((*backend)->commit(batch), "commit")) return;
  }
  if (!check((*backend)->sync(), "sync")) return;
  const double seconds = stopwatch.seconds();
  const double put_count = static_cast<double>(commits) * puts_per_commit;
  std::printf(
      "sqlite %-9s puts/commit=%-5d puts=%-7.0f seconds=%-7.3f puts/s=%-9.0f commits/s=%-8.0f "
      "db_bytes=%llu\n",
      sync_every_commit ? "fsync-each" : "deferred", puts_per_commit, put_count, seconds,
      put_count / seconds, commits / seconds,
      static_cast<unsigned long long>((*backend)->size_bytes()));
}

void bench_wal(server::PosixDisk& disk, const BenchStoreOptions& options, int entries_per_save,
               int run) {
  store::RaftPersistenceOptions persistence_options;
  persistence_options.wal_directory = "wal-" + std::to_string(run);
  persistence_options.snapshot_directory = "snap-" + std::to_string(run);
  Result<std::unique_ptr<store::RaftPersistence>> persistence =
      store::RaftPersistence::open(disk, persistence_options);
  if (!check(persistence.status(), "opening the WAL")) return;
  const int saves = std::min(options.wal_entries / entries_per_save, options.wal_save_limit);
  const std::string data(options.wal_entry_bytes, 'e');
  uint64_t index = 0;
  Stopwatch stopwatch;
  for (int save = 0; save < saves; ++save) {
    std::vector<raft::Entry> entries;
    for (int i = 0; i < entries_per_save; ++i) {
      entries.push_back(raft::Entry{Term(1), LogIndex(++index), raft::EntryType::kNormal, data});
    }
    const raft::HardState hard_state{Term(1), NodeId(1), LogIndex(index)};
    if (!check((*persistence)->save(hard_state, entries, raft::Snapshot{}), "save")) return;
  }
  const double seconds = stopwatch.seconds();
  const store::WalStats& stats = (*persistence)->wal_stats();
  std::printf(
      "wal entries/save=%-4d entries=%-6llu seconds=%-7.3f appends/s=%-9.0f fsyncs/s=%-7.0f "
      "MB/s=%-6.1f segments=%llu\n",
      entries_per_save, static_cast<unsigned long long>(index), seconds, index / seconds,
      stats.syncs / seconds, stats.bytes_written / seconds / 1e6,
      static_cast<unsigned long long>(stats.segments_created));
}

void run(const BenchStoreOptions& options) {
  std::filesystem::remove_all(options.directory);
  Result<std::unique_ptr<server::PosixDisk>> disk = server::PosixDisk::open_root(options.directory);
  if (!check(disk.status(), "opening the data directory")) return;
  std::printf("# store on a real disk under %s (value %d bytes, WAL entry %d bytes)\n",
              options.directory.c_str(), options.value_bytes, options.wal_entry_bytes);
  int run_number = 0;
  for (int entries_per_save : {1, 8, 64, 256})
    bench_wal(**disk, options, entries_per_save, ++run_number);
  for (int puts_per_commit : {1, 10, 100})
    bench_sqlite(**disk, options, puts_per_commit, true, ++run_number);
  for (int puts_per_commit : {1, 10, 100, 1000})
    bench_sqlite(**disk, options, puts_per_commit, false, ++run_number);
  disk->reset();
  if (!options.keep) std::filesystem::remove_all(options.directory);
}

void add_bench_store_command(CLI::App& parent) {
  auto options = std::make_shared<BenchStoreOptions>();
  CLI::App* command = parent.add_subcommand(
      "store",
      "Throughput of the Raft WAL (group commit) and the SQLite MVCC backend on a real disk.\n"
      "Example: lockstep bench store --dir /tmp/lockstep-bench --puts 100000");
  command->add_option("--dir", options->directory, "Scratch directory (deleted before and after)");
  command->add_option("--puts", options->puts, "Puts applied per SQLite run")
      ->check(CLI::PositiveNumber);
  command->add_option("--value-bytes", options->value_bytes, "Bytes per put")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--synced-commits", options->synced_commit_limit,
                   "Commits measured when every commit fsyncs")
      ->check(CLI::PositiveNumber);
  command->add_option("--wal-entries", options->wal_entries, "Entries appended per WAL run")
      ->check(CLI::PositiveNumber);
  command->add_option("--wal-saves", options->wal_save_limit, "At most this many saves per WAL run")
      ->check(CLI::PositiveNumber);
  command->add_option("--wal-entry-bytes", options->wal_entry_bytes, "Bytes per WAL entry")
      ->check(CLI::PositiveNumber);
  command->add_flag("--keep", options->keep, "Keep the scratch directory afterwards");
  command->callback([options] { run(*options); });
}

const CommandRegistration registration("bench", "store", add_bench_store_command);

}  // namespace
}  // namespace lockstep::cli
