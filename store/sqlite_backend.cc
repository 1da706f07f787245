#include "store/sqlite_backend.h"

#include "core/base/assert.h"
#include "core/mvcc/backend_image.h"
#include "store/wal.h"

namespace lockstep::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv (
  main INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  tombstone INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (main, sub)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
  consistent_index INTEGER NOT NULL
);
INSERT OR IGNORE INTO applied VALUES (0, 0);
)sql";

std::string column_bytes(sqlite3_stmt* statement, int column) {
  const void* data = sqlite3_column_blob(statement, column);
  const int size = sqlite3_column_bytes(statement, column);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

mvcc::RevisionRecord revision_from_row(sqlite3_stmt* statement) {
  mvcc::RevisionRecord record;
  record.revision.main = Revision(sqlite3_column_int64(statement, 0));
  record.revision.sub = sqlite3_column_int64(statement, 1);
  record.tombstone = sqlite3_column_int64(statement, 2) != 0;
  record.data = column_bytes(statement, 3);
  return record;
}

}  // namespace

// A prepared statement, reset (and its bindings cleared) before every use, so one bad call
// cannot leave it half-bound for the next.
class SqliteBackend::Statement {
 public:
  Statement(sqlite3_stmt* statement) : statement_(statement) {}
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* start() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    return statement_;
  }

 private:
  sqlite3_stmt* statement_;
};

SqliteBackend::SqliteBackend(SqliteVfs& vfs, SqliteBackendOptions options)
    : vfs_(vfs), options_(std::move(options)), recent_revisions_(kRecentRevisionSlots) {
  ASSERT(!(options_.group_commits && options_.sync_every_commit),
         "a grouped commit is durable only at end_group: it cannot promise sync_every_commit");
}

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::open(SqliteVfs& vfs,
                                                           SqliteBackendOptions options) {
  std::unique_ptr<SqliteBackend> backend(new SqliteBackend(vfs, std::move(options)));
  RETURN_IF_ERROR(backend->open_database());
  return backend;
}

SqliteBackend::~SqliteBackend() {
  // Statements first: sqlite3_close refuses while any is alive.
  insert_revision_.reset();
  delete_revision_.reset();
  upsert_lease_.reset();
  delete_lease_.reset();
  upsert_meta_.reset();
  set_applied_.reset();
  select_revision_.reset();
  select_revisions_.reset();
  select_leases_.reset();
  select_meta_.reset();
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  page_count_.reset();
  freelist_count_.reset();
  // An open transaction of the groups is rolled back, as a crash would lose it: this may run
  // while a killed process unwinds, when nothing may be written. The Raft log replays it.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Error SqliteBackend::error_from(int code, std::string_view doing) const {
  vfs_.rethrow_if_killed();
  std::string detail = std::string(doing) + ": " + sqlite3_errstr(code);
  if (db_ != nullptr) detail += " (" + std::string(sqlite3_errmsg(db_)) + ")";
  if (std::optional<Error> disk_error = vfs_.take_last_error()) {
    return Error(disk_error->code(), detail + ": " + disk_error->detail());
  }
  switch (code & 0xff) {
    case SQLITE_FULL:
      return Error(ErrorCode::kDiskFull, detail);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kDataCorruption, options_.path + ": " + detail);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Error(ErrorCode::kIoError, detail);
    default:
      return Error(ErrorCode::kInternal, detail);
  }
}

Status SqliteBackend::execute(const char* sql) const {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return error_from(rc, sql);
  return Status::ok();
}

Result<int64_t> SqliteBackend::pragma_value(const char* pragma) const {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db_, pragma, -1, &statement, nullptr);
  if (rc != SQLITE_OK) return error_from(rc, pragma);
  rc = sqlite3_step(statement);
  int64_t value = 0;
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  if (rc != SQLITE_ROW) return error_from(rc, pragma);
  return value;
}

Status SqliteBackend::open_database() {
  const std::string directory = parent_directory(options_.path);
  if (!directory.empty()) {
    RETURN_IF_ERROR(vfs_.disk().create_directory(directory));
    RETURN_IF_ERROR(vfs_.disk().sync_directory(parent_directory(directory)));
  }
  vfs_.make_current_for_randomness();
  // NOMUTEX: a connection belongs to one member and is only ever used from that member's
  // thread, so SQLite's per-connection mutex (taken on every sqlite3_step, ~5% of a simulated
  // run) protects nothing. Global structures keep their mutexes (multi-thread mode).
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options_.path.c_str(), &db_, flags, vfs_.name().c_str());
  if (rc != SQLITE_OK) return error_from(rc, "opening " + options_.path);
  sqlite3_extended_result_codes(db_, 1);
  // Closing never checkpoints: a close during a crash (destructors run while the process's
  // fibers unwind) must not write, and the WAL is recovered at the next open anyway.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  if (options_.wal_autocheckpoint_pages > 0) {
    RETURN_IF_ERROR(
        execute(("PRAGMA wal_autocheckpoint=" + std::to_string(options_.wal_autocheckpoint_pages))
                    .c_str()));
  }
  // Order matters: exclusive locking before WAL mode is entered, so that SQLite keeps the WAL
  // index in heap memory (no shared memory in this VFS).
  RETURN_IF_ERROR(execute("PRAGMA locking_mode=EXCLUSIVE"));
  RETURN_IF_ERROR(execute(("PRAGMA page_size=" + std::to_string(options_.page_bytes)).c_str()));
  {
    sqlite3_stmt* statement = nullptr;
    rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &statement, nullptr);
    if (rc != SQLITE_OK) return error_from(rc, "PRAGMA journal_mode=WAL");
    rc = sqlite3_step(statement);
    const std::string mode = rc == SQLITE_ROW ? column_bytes(statement, 0) : std::string();
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW) return error_from(rc, "PRAGMA journal_mode=WAL");
    if (mode != "wal") {
      return Error(ErrorCode::kInternal, "SQLite refused WAL mode (journal_mode=" + mode + ")");
    }
  }
  RETURN_IF_ERROR(execute(options_.sync_every_commit ? "PRAGMA synchronous=FULL"
                                                     : "PRAGMA synchronous=NORMAL"));
  // Scratch space (VACUUM's copy, sorters) in memory: it never needs to survive a crash.
  RETURN_IF_ERROR(execute("PRAGMA temp_store=MEMORY"));
  RETURN_IF_ERROR(execute(("PRAGMA cache_size=-" + std::to_string(kSqliteCacheKibibytes)).c_str()));
  // No helper threads, no memory-mapped I/O: all I/O goes through the VFS on this fiber.
  RETURN_IF_ERROR(execute("PRAGMA threads=0"));
  RETURN_IF_ERROR(execute("PRAGMA mmap_size=0"));
  RETURN_IF_ERROR(execute("PRAGMA cell_size_check=ON"));
  RETURN_IF_ERROR(execute((std::string("BEGIN;") + kSchema + "COMMIT;").c_str()));
  RETURN_IF_ERROR(prepare_statements());
  Result<int64_t> page_bytes = pragma_value("PRAGMA page_size");
  RETURN_IF_ERROR(page_bytes.status());
  page_bytes_ = *page_bytes;
  Result<int64_t> applied = pragma_value("SELECT consistent_index FROM applied");
  RETURN_IF_ERROR(applied.status());
  consistent_index_ = LogIndex(static_cast<uint64_t>(*applied));
  durable_consistent_index_ = consistent_index_;
  return Status::ok();
}

Status SqliteBackend::prepare_statements() {
  auto prepare = [&](const char* sql, std::unique_ptr<Statement>& out) -> Status {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) return error_from(rc, sql);
    out = std::make_unique<Statement>(statement);
    return Status::ok();
  };
  RETURN_IF_ERROR(prepare("INSERT INTO kv VALUES (?, ?, ?, ?)", insert_revision_));
  RETURN_IF_ERROR(prepare("DELETE FROM kv WHERE main = ? AND sub = ?", delete_revision_));
  RETURN_IF_ERROR(prepare("INSERT OR REPLACE INTO lease VALUES (?, ?)", upsert_lease_));
  RETURN_IF_ERROR(prepare("DELETE FROM lease WHERE id = ?", delete_lease_));
  RETURN_IF_ERROR(prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)", upsert_meta_));
  RETURN_IF_ERROR(prepare("UPDATE applied SET consistent_index = ?", set_applied_));
  RETURN_IF_ERROR(prepare("SELECT main, sub, tombstone, data FROM kv WHERE main = ? AND sub = ?",
                          select_revision_));
  RETURN_IF_ERROR(
      prepare("SELECT main, sub, tombstone, data FROM kv"
              " WHERE (main, sub) >= (?, ?) AND (main, sub) < (?, ?)"
              " ORDER BY main, sub LIMIT ?",
              select_revisions_));
  RETURN_IF_ERROR(prepare("SELECT id, data FROM lease ORDER BY id", select_leases_));
  RETURN_IF_ERROR(prepare("SELECT name, value FROM meta ORDER BY name", select_meta_));
  RETURN_IF_ERROR(prepare("BEGIN", begin_));
  RETURN_IF_ERROR(prepare("COMMIT", commit_));
  RETURN_IF_ERROR(prepare("ROLLBACK", rollback_));
  // Prepared once: the member asks for the size after every Ready when a quota is set.
  RETURN_IF_ERROR(prepare("PRAGMA page_count", page_count_));
  RETURN_IF_ERROR(prepare("PRAGMA freelist_count", freelist_count_));
  return Status::ok();
}

Status SqliteBackend::check_usable() const {
  vfs_.rethrow_if_killed();
  if (poisoned_) {
    return Error(ErrorCode::kIoError,
                 "SQLite backend stopped after an fsync failure: " + poisoned_->to_string());
  }
  return Status::ok();
}

Status SqliteBackend::in_transaction(const std::function<Status()>& body) {
  RETURN_IF_ERROR(check_usable());
  vfs_.make_current_for_randomness();
  int rc = sqlite3_step(begin_->start());
  if (rc != SQLITE_DONE) return error_from(rc, "BEGIN");
  Status status = body();
  if (status) {
    rc = sqlite3_step(commit_->start());
    if (rc != SQLITE_DONE) status = error_from(rc, "COMMIT");
  }
  if (!status && sqlite3_get_autocommit(db_) == 0) {
    // All or nothing (Backend::commit's contract): undo what the failed batch wrote.
    sqlite3_step(rollback_->start());
  }
  vfs_.rethrow_if_killed();
  if (!status && vfs_.sync_failed() && !poisoned_) poisoned_ = status.error();
  return status;
}

Status SqliteBackend::write_in_group(const mvcc::WriteBatch& batch) {
  RETURN_IF_ERROR(check_usable());
  vfs_.make_current_for_randomness();
  Status status = write_batch(batch);
  vfs_.rethrow_if_killed();
  if (status) return status;
  // No savepoint per commit (SAVEPOINT and RELEASE were a fifth of a commit's cost): a failed
  // batch takes the whole open transaction with it, and the backend refuses further use, as
  // after a failed group commit. The state machine stops at any failed commit anyway (etcd
  // panics), and the member replays the lost entries from its Raft log when it restarts.
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_step(rollback_->start());
  transaction_open_ = false;
  commits_in_transaction_ = 0;
  if (!poisoned_) poisoned_ = status.error();
  return status;
}

Status SqliteBackend::write_batch(const mvcc::WriteBatch& batch) {
  for (const mvcc::RevisionRecord& record : batch.revision_puts) {
    sqlite3_stmt* statement = insert_revision_->start();
    sqlite3_bind_int64(statement, 1, record.revision.main.value());
    sqlite3_bind_int64(statement, 2, record.revision.sub);
    sqlite3_bind_int64(statement, 3, record.tombstone ? 1 : 0);
    sqlite3_bind_blob64(statement, 4, record.data.data(), record.data.size(), SQLITE_STATIC);
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      UNREACHABLE("a revision is written once: revisions never get reused");
    }
    if (rc != SQLITE_DONE) return error_from(rc, "inserting a revision");
  }
  for (const mvcc::RevisionKey& revision : batch.revision_removals) {
    sqlite3_stmt* statement = delete_revision_->start();
    sqlite3_bind_int64(statement, 1, revision.main.value());
    sqlite3_bind_int64(statement, 2, revision.sub);
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) return error_from(rc, "removing a revision");
  }
  for (const mvcc::LeaseRecord& lease : batch.lease_puts) {
    sqlite3_stmt* statement = upsert_lease_->start();
    sqlite3_bind_int64(statement, 1, lease.id.value());
    sqlite3_bind_blob64(statement, 2, lease.data.data(), lease.data.size(), SQLITE_STATIC);
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) return error_from(rc, "writing a lease");
  }
  for (LeaseId id : batch.lease_removals) {
    sqlite3_stmt* statement = delete_lease_->start();
    sqlite3_bind_int64(statement, 1, id.value());
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) return error_from(rc, "removing a lease");
  }
  for (const auto& [name, value] : batch.meta_puts) {
    sqlite3_stmt* statement = upsert_meta_->start();
    sqlite3_bind_text64(statement, 1, name.data(), name.size(), SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_blob64(statement, 2, value.data(), value.size(), SQLITE_STATIC);
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) return error_from(rc, "writing meta");
  }
  // Inside the groups' transaction the index is written once, when it commits: no reader
  // outside this connection can see the transaction before then.
  if (in_group_) return Status::ok();
  return write_consistent_index(batch.consistent_index);
}

Status SqliteBackend::write_consistent_index(LogIndex index) {
  sqlite3_stmt* statement = set_applied_->start();
  sqlite3_bind_int64(statement, 1, static_cast<int64_t>(index.value()));
  const int rc = sqlite3_step(statement);
  if (rc != SQLITE_DONE) return error_from(rc, "recording the consistent index");
  return Status::ok();
}

Status SqliteBackend::commit(const mvcc::WriteBatch& batch) {
  ASSERT(batch.consistent_index >= consistent_index_,
         "the applied index only moves forward (a replayed entry must be skipped by the caller)");
  if (in_group_) {
    RETURN_IF_ERROR(write_in_group(batch));
    // Visible to this connection's reads from now on; if the transaction fails to commit,
    // the backend refuses every later call, reads included.
    remember_revisions(batch);
    consistent_index_ = batch.consistent_index;
    commit_count_++;
    commits_in_transaction_++;
    return Status::ok();  // after_commit() runs when the transaction commits
  }
  // A commit outside any group stands alone: the groups' transaction goes first.
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(in_transaction([&] { return write_batch(batch); }));
  remember_revisions(batch);
  consistent_index_ = batch.consistent_index;
  commit_count_++;
  return after_commit();
}

size_t SqliteBackend::recent_slot(mvcc::RevisionKey revision) {
  return static_cast<size_t>(revision.main.value() * 8 + revision.sub) % kRecentRevisionSlots;
}

void SqliteBackend::remember_revisions(const mvcc::WriteBatch& batch) {
  for (const mvcc::RevisionRecord& record : batch.revision_puts) {
    recent_revisions_[recent_slot(record.revision)] = record;
  }
  for (const mvcc::RevisionKey& revision : batch.revision_removals) {
    std::optional<mvcc::RevisionRecord>& slot = recent_revisions_[recent_slot(revision)];
    if (slot && slot->revision == revision) slot.reset();
  }
}

Status SqliteBackend::after_commit() {
  if (options_.sync_every_commit) {
    durable_consistent_index_ = consistent_index_;
    return Status::ok();
  }
  if (++commits_since_sync_ >= options_.commits_per_sync) return sync();
  return Status::ok();
}

Status SqliteBackend::begin_group() {
  if (!options_.group_commits) return Status::ok();
  ASSERT(!in_group_, "groups do not nest");
  RETURN_IF_ERROR(check_usable());
  if (!transaction_open_) {
    vfs_.make_current_for_randomness();
    const int rc = sqlite3_step(begin_->start());
    if (rc != SQLITE_DONE) return error_from(rc, "BEGIN (group)");
    transaction_open_ = true;
  }
  in_group_ = true;
  return Status::ok();
}

Status SqliteBackend::end_group() {
  if (!in_group_) return Status::ok();
  in_group_ = false;
  RETURN_IF_ERROR(check_usable());  // a commit of the group failed: the group is lost
  if (commits_in_transaction_ < options_.commits_per_transaction) return Status::ok();
  return commit_transaction();
}

Status SqliteBackend::flush() {
  if (!transaction_open_) return Status::ok();
  if (in_group_) {
    return Error(ErrorCode::kInternal, "the backend's transaction cannot commit inside a group");
  }
  return commit_transaction();
}

Status SqliteBackend::commit_transaction() {
  ASSERT(transaction_open_, "only an open transaction commits");
  ASSERT(!in_group_, "a group's commits are committed together");
  const bool wrote = commits_in_transaction_ > 0;
  transaction_open_ = false;
  commits_in_transaction_ = 0;
  RETURN_IF_ERROR(check_usable());
  vfs_.make_current_for_randomness();
  Status recorded = wrote ? write_consistent_index(consistent_index_) : Status::ok();
  const int rc = recorded ? sqlite3_step(commit_->start()) : SQLITE_DONE;
  if (!recorded || rc != SQLITE_DONE) {
    Error error = recorded ? error_from(rc, "COMMIT (group)") : recorded.error();
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_step(rollback_->start());
    vfs_.rethrow_if_killed();
    // The transaction's commits are gone but consistent_index_ counted them: refuse further
    // use (Backend::end_group's contract), the member replays them from its log after a
    // restart.
    if (!poisoned_) poisoned_ = error;
    return error;
  }
  vfs_.rethrow_if_killed();
  return after_commit();
}

Status SqliteBackend::sync() {
  RETURN_IF_ERROR(check_usable());
  RETURN_IF_ERROR(flush());
  commits_since_sync_ = 0;
  if (durable_consistent_index_ == consistent_index_) return Status::ok();
  if (options_.sync_every_commit) {
    durable_consistent_index_ = consistent_index_;
    return Status::ok();
  }
  // Under synchronous=NORMAL SQLite fsyncs the WAL before every checkpoint and the database
  // after it, so a checkpoint makes every earlier commit durable (it also keeps the WAL short).
  vfs_.make_current_for_randomness();
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Error error = error_from(rc, "sync (checkpoint)");
    if (vfs_.sync_failed()) poisoned_ = error;
    return error;
  }
  durable_consistent_index_ = consistent_index_;
  return Status::ok();
}

Result<std::optional<mvcc::RevisionRecord>> SqliteBackend::read_revision(
    mvcc::RevisionKey revision) const {
  RETURN_IF_ERROR(check_usable());
  const std::optional<mvcc::RevisionRecord>& recent = recent_revisions_[recent_slot(revision)];
  if (recent && recent->revision == revision) return recent;
  sqlite3_stmt* statement = select_revision_->start();
  sqlite3_bind_int64(statement, 1, revision.main.value());
  sqlite3_bind_int64(statement, 2, revision.sub);
  const int rc = sqlite3_step(statement);
  if (rc == SQLITE_DONE) return std::optional<mvcc::RevisionRecord>();
  if (rc != SQLITE_ROW) return error_from(rc, "reading a revision");
  std::optional<mvcc::RevisionRecord> record = revision_from_row(statement);
  sqlite3_reset(statement);
  return record;
}

Result<std::vector<mvcc::RevisionRecord>> SqliteBackend::read_revisions(mvcc::RevisionKey from,
                                                                        mvcc::RevisionKey until,
                                                                        size_t limit) const {
  RETURN_IF_ERROR(check_usable());
  std::vector<mvcc::RevisionRecord> records;
  if (limit == 0) return records;
  sqlite3_stmt* statement = select_revisions_->start();
  sqlite3_bind_int64(statement, 1, from.main.value());
  sqlite3_bind_int64(statement, 2, from.sub);
  sqlite3_bind_int64(statement, 3, until.main.value());
  sqlite3_bind_int64(statement, 4, until.sub);
  sqlite3_bind_int64(statement, 5, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW)
    records.push_back(revision_from_row(statement));
  if (rc != SQLITE_DONE) return error_from(rc, "reading revisions");
  return records;
}

Result<std::vector<mvcc::LeaseRecord>> SqliteBackend::read_leases() const {
  RETURN_IF_ERROR(check_usable());
  std::vector<mvcc::LeaseRecord> leases;
  sqlite3_stmt* statement = select_leases_->start();
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    leases.push_back(
        mvcc::LeaseRecord{LeaseId(sqlite3_column_int64(statement, 0)), column_bytes(statement, 1)});
  }
  if (rc != SQLITE_DONE) return error_from(rc, "reading leases");
  return leases;
}

Result<std::map<std::string, std::string>> SqliteBackend::read_meta() const {
  RETURN_IF_ERROR(check_usable());
  std::map<std::string, std::string> meta;
  sqlite3_stmt* statement = select_meta_->start();
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    meta[column_bytes(statement, 0)] = column_bytes(statement, 1);
  }
  if (rc != SQLITE_DONE) return error_from(rc, "reading meta");
  return meta;
}

Result<int64_t> SqliteBackend::prepared_pragma_value(Statement& pragma) const {
  sqlite3_stmt* statement = pragma.start();
  const int rc = sqlite3_step(statement);
  if (rc != SQLITE_ROW) return error_from(rc, sqlite3_sql(statement));
  const int64_t value = sqlite3_column_int64(statement, 0);
  sqlite3_reset(statement);
  return value;
}

uint64_t SqliteBackend::size_bytes() const {
  // Pages of the open transaction count too (as bolt's size counts its pending pages).
  Result<int64_t> pages = prepared_pragma_value(*page_count_);
  // The interface has no error path here; a failed read repeats the last known size (the
  // failure itself surfaces on the next commit).
  if (pages) last_size_bytes_ = static_cast<uint64_t>(*pages * page_bytes_);
  return last_size_bytes_;
}

uint64_t SqliteBackend::size_in_use_bytes() const {
  Result<int64_t> pages = prepared_pragma_value(*page_count_);
  Result<int64_t> free_pages = prepared_pragma_value(*freelist_count_);
  if (!pages || !free_pages) return last_size_bytes_;
  return static_cast<uint64_t>((*pages - *free_pages) * page_bytes_);
}

Status SqliteBackend::check_integrity() {
  RETURN_IF_ERROR(check_usable());
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &statement, nullptr);
  if (rc != SQLITE_OK) return error_from(rc, "PRAGMA integrity_check");
  std::string problems;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    const std::string line = column_bytes(statement, 0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  sqlite3_finalize(statement);
  if (rc != SQLITE_DONE) return error_from(rc, "PRAGMA integrity_check");
  if (!problems.empty()) {
    return Error(ErrorCode::kDataCorruption, options_.path + ": " + problems);
  }
  return Status::ok();
}

Status SqliteBackend::checkpoint() {
  RETURN_IF_ERROR(check_usable());
  RETURN_IF_ERROR(flush());
  vfs_.make_current_for_randomness();
  int log_frames = 0;
  int checkpointed_frames = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                           &checkpointed_frames);
  if (rc != SQLITE_OK) {
    Error error = error_from(rc, "checkpoint");
    if (vfs_.sync_failed()) poisoned_ = error;
    return error;
  }
  return Status::ok();
}

Status SqliteBackend::defragment() {
  RETURN_IF_ERROR(checkpoint());
  // VACUUM rebuilds the database into a fresh, dense file (etcd's defrag rewrites the bolt
  // file the same way); the temporary copy lives in memory (temp_store=MEMORY).
  Status vacuumed = execute("VACUUM");
  if (!vacuumed) {
    if (vfs_.sync_failed()) poisoned_ = vacuumed.error();
    return vacuumed;
  }
  return checkpoint();
}

Result<std::string> SqliteBackend::dump() const {
  Result<mvcc::BackendImage> image = mvcc::read_backend_image(*this);
  RETURN_IF_ERROR(image.status());
  return mvcc::encode_backend_image(*image);
}

Result<std::string> SqliteBackend::serialize_database() {
  RETURN_IF_ERROR(check_usable());
  RETURN_IF_ERROR(flush());
  sqlite3_int64 size = 0;
  unsigned char* pages = sqlite3_serialize(db_, "main", &size, 0);
  if (pages == nullptr) return Error(ErrorCode::kIoError, "sqlite3_serialize failed");
  std::string image(reinterpret_cast<const char*>(pages), static_cast<size_t>(size));
  sqlite3_free(pages);
  return image;
}

Status SqliteBackend::replace_contents(const mvcc::BackendImage& image) {
  RETURN_IF_ERROR(execute("DELETE FROM kv; DELETE FROM lease; DELETE FROM meta;"));
  mvcc::WriteBatch batch;
  batch.consistent_index = image.consistent_index;
  batch.revision_puts = image.revisions;
  batch.lease_puts = image.leases;
  batch.meta_puts = image.meta;
  return write_batch(batch);
}

Status SqliteBackend::load(std::string_view image_bytes) {
  // Decode (and checksum) everything before touching the database: a bad image loses nothing.
  Result<mvcc::BackendImage> image = mvcc::decode_backend_image(image_bytes);
  RETURN_IF_ERROR(image.status());
  RETURN_IF_ERROR(flush());
  for (std::optional<mvcc::RevisionRecord>& slot : recent_revisions_) slot.reset();
  RETURN_IF_ERROR(in_transaction([&] { return replace_contents(*image); }));
  consistent_index_ = image->consistent_index;
  commit_count_++;
  // A snapshot install is rare and large: always made durable at once.
  return sync();
}

}  // namespace lockstep::store
