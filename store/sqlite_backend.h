#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/env/disk.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/backend_image.h"
#include "store/sqlite_vfs.h"

namespace lockstep::store {

// SQLite's page cache per connection: 64 MiB (negative cache_size is KiB), enough to keep a
// benchmark's working set in memory.
inline constexpr int kSqliteCacheKibibytes = 64 * 1024;
inline constexpr int kSqlitePageBytes = 4096;
// Applied entries per SQLite transaction in group mode (see commits_per_transaction).
inline constexpr int kSqliteCommitsPerTransaction = 64;

struct SqliteBackendOptions {
  // The database file on the VFS's disk; its directory is created when missing.
  std::string path = "mvcc/db.sqlite";
  // WAL pages after which a commit also checkpoints into the database file; 0 keeps SQLite's
  // default (1000 pages). Tests lower it so that crashes land inside checkpoints.
  int wal_autocheckpoint_pages = 0;
  // SQLite's page size for a new database (an existing one keeps its own). Every commit
  // writes each page it changed as one WAL frame, so small commits cost about one page per
  // B-tree they touch: the simulated cluster, where the commit path's bytes are the
  // simulator's main cost, uses smaller pages than the daemon.
  int page_bytes = kSqlitePageBytes;
  // true: every commit is durable when it returns (synchronous=FULL: one WAL fsync per
  // commit), which is Backend::commit's contract.
  // false: etcd's model — commits are atomic but become durable only at sync(), which runs
  // by itself every `commits_per_sync` commits (synchronous=NORMAL in between). A crash may
  // then lose the last few commits, always whole ones and in order, so the consistent index
  // tells the member exactly which Raft entries to apply again from its WAL. Only for a
  // backend whose writes are replayable from a durable Raft log.
  bool sync_every_commit = true;
  int commits_per_sync = 1000;
  // true: begin_group()/end_group() make the commits between them one SQLite transaction,
  // so a Ready's worth of applied entries costs one
  // transaction instead of one per entry. Only together with sync_every_commit = false: the
  // group's commits are durable through the Raft log, not through this backend.
  bool group_commits = false;
  // With group_commits: the transaction stays open across groups until it holds this many
  // commits, and end_group() commits it only then (etcd's backend likewise keeps one bolt
  // transaction open across applies and commits it every 100 ms or 10,000 puts). Most Readies
  // carry one entry, so a transaction per group still cost a WAL append of every page the
  // entry touched (the kv leaf, the applied row, ...) per entry; sharing the transaction
  // writes each such page once per transaction. A crash or close loses the open transaction
  // whole, exactly like commits not yet synced: the Raft log replays them.
  int commits_per_transaction = kSqliteCommitsPerTransaction;
};

// mvcc::Backend on SQLite, through SqliteVfs over env::Disk.
//
// Durability: journal_mode=WAL with locking_mode=EXCLUSIVE and synchronous=FULL. WAL mode
// commits with one append and one fsync of the -wal file (a rollback journal needs at least
// three fsyncs per commit: journal, its header, the database), and its frames carry checksums,
// so a torn final transaction is ignored at recovery. WAL mode normally needs shared memory
// for its index; exclusive locking mode keeps that index in heap memory instead, which is
// what a VFS without xShm methods allows and what a single-process owner wants anyway.
// synchronous=FULL fsyncs the WAL at every commit, so a commit that returned ok survives a
// crash under every crash mode (NORMAL would only sync at checkpoints).
//
// Schema (WITHOUT ROWID tables ordered by their keys, like etcd's bolt buckets):
//   kv(main, sub, tombstone, data)  — PRIMARY KEY (main, sub)
//   lease(id, data), meta(name, value)
//   applied(singleton, consistent_index) — written in the same transaction as the data it
//   applied, so that replaying the Raft log after a crash is idempotent (etcd's
//   meta/consistent_index).
//
// Calls must not interleave: a disk operation may block the calling fiber, and another fiber
// reading through the same connection mid-commit would see the uncommitted batch. The member's
// apply loop owns the backend.
//
// After an fsync failure the outcome of the failed commit on disk is unknown (Linux drops the
// dirty pages), so every later call fails with kIoError until the member restarts and SQLite
// recovers from the WAL.
class SqliteBackend final : public mvcc::Backend {
 public:
  // Opens or creates the database at options.path on `vfs`'s disk.
  static Result<std::unique_ptr<SqliteBackend>> open(SqliteVfs& vfs,
                                                     SqliteBackendOptions options = {});
  ~SqliteBackend() override;
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  Status commit(const mvcc::WriteBatch& batch) override;
  Status begin_group() override;
  Status end_group() override;

  LogIndex consistent_index() const override { return consistent_index_; }
  Result<std::optional<mvcc::RevisionRecord>> read_revision(
      mvcc::RevisionKey revision) const override;
  Result<std::vector<mvcc::RevisionRecord>> read_revisions(mvcc::RevisionKey from,
                                                           mvcc::RevisionKey until,
                                                           size_t limit) const override;
  Result<std::vector<mvcc::LeaseRecord>> read_leases() const override;
  Result<std::map<std::string, std::string>> read_meta() const override;

  uint64_t size_bytes() const override;
  uint64_t size_in_use_bytes() const override;
  Status defragment() override;

  Result<std::string> dump() const override;
  // The database itself as one SQLite file image (sqlite3_serialize: every page as of the
  // last commit, read through the VFS), for etcd's Maintenance.Snapshot. The bytes open with
  // any SQLite; unlike dump() they are not backend-neutral. Commits an open transaction first.
  Result<std::string> serialize_database();
  Status load(std::string_view image) override;

  // Moves the WAL's pages into the database file and truncates the WAL (normally SQLite does
  // this by itself every wal_autocheckpoint pages). Commits an open transaction first.
  Status checkpoint();
  // Makes every earlier commit durable (one WAL fsync), committing an open transaction first.
  // A no-op cost-wise when every commit is already synced.
  Status sync();
  // Commits the transaction that groups left open (commits_per_transaction), if any; fails
  // inside a group. Reads need no flush: they see the open transaction.
  Status flush();
  // Consistent index of the last commit known durable.
  LogIndex durable_consistent_index() const { return durable_consistent_index_; }
  // SQLite's full consistency check (PRAGMA integrity_check): kDataCorruption listing what is
  // wrong. Reads the whole database; for tests and operators, not for the request path.
  Status check_integrity();
  uint64_t commit_count() const { return commit_count_; }

 private:
  class Statement;

  SqliteBackend(SqliteVfs& vfs, SqliteBackendOptions options);

  Status open_database();
  Status prepare_statements();
  Status execute(const char* sql) const;
  // Turns a SQLite failure into an error of the table, preferring the Disk's own error.
  Error error_from(int code, std::string_view doing) const;
  Status check_usable() const;
  Status write_batch(const mvcc::WriteBatch& batch);
  Status write_consistent_index(LogIndex index);
  Status replace_contents(const mvcc::BackendImage& image);
  Result<int64_t> pragma_value(const char* pragma) const;
  Result<int64_t> prepared_pragma_value(Statement& pragma) const;
  Status in_transaction(const std::function<Status()>& body);
  // commit() inside a group: the batch joins the open transaction.
  Status write_in_group(const mvcc::WriteBatch& batch);
  Status after_commit();
  // Commits the open transaction of the groups; on failure the backend refuses further use.
  Status commit_transaction();
  // Keeps the batch's revisions in recent_revisions_ once it committed.
  void remember_revisions(const mvcc::WriteBatch& batch);
  static size_t recent_slot(mvcc::RevisionKey revision);

  SqliteVfs& vfs_;
  SqliteBackendOptions options_;
  sqlite3* db_ = nullptr;
  LogIndex consistent_index_;
  LogIndex durable_consistent_index_;
  int commits_since_sync_ = 0;
  bool in_group_ = false;          // between begin_group() and end_group()
  bool transaction_open_ = false;  // the groups' transaction, open across groups
  int commits_in_transaction_ = 0;
  uint64_t commit_count_ = 0;
  mutable std::optional<Error> poisoned_;
  mutable uint64_t last_size_bytes_ = 0;
  // The last revision committed into each slot (direct-mapped by revision): a read is nearly
  // always of a key's latest revision, just applied, and answering it here skips a SQLite
  // query (a fifth of a simulated member's backend time). Revisions are written once and
  // only removed by compaction, so an entry is exact until removed.
  static constexpr size_t kRecentRevisionSlots = 1024;
  std::vector<std::optional<mvcc::RevisionRecord>> recent_revisions_;

  std::unique_ptr<Statement> insert_revision_;
  std::unique_ptr<Statement> delete_revision_;
  std::unique_ptr<Statement> upsert_lease_;
  std::unique_ptr<Statement> delete_lease_;
  std::unique_ptr<Statement> upsert_meta_;
  std::unique_ptr<Statement> set_applied_;
  std::unique_ptr<Statement> select_revision_;
  std::unique_ptr<Statement> select_revisions_;
  std::unique_ptr<Statement> select_leases_;
  std::unique_ptr<Statement> select_meta_;
  std::unique_ptr<Statement> begin_;
  std::unique_ptr<Statement> commit_;
  std::unique_ptr<Statement> rollback_;
  std::unique_ptr<Statement> page_count_;
  std::unique_ptr<Statement> freelist_count_;
  int64_t page_bytes_ = 0;  // the database's page size, read once at open
};

}  // namespace lockstep::store
