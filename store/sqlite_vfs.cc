#include "store/sqlite_vfs.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/base/assert.h"
#include "core/env/runtime.h"
#include "store/wal.h"

namespace lockstep::store {
namespace {

// SQLite's epoch for xCurrentTimeInt64 is the Julian day number in milliseconds; the Unix
// epoch (1970-01-01T00:00Z) is Julian day 2440587.5.
constexpr int64_t kUnixEpochJulianMs = 210866760000000;

// One open file. SQLite allocates szOsFile bytes for it and we construct this in place; the
// sqlite3_file header must come first.
struct VfsFile {
  sqlite3_file base;
  SqliteVfs* vfs;
  std::unique_ptr<env::File> file;  // null for a temporary (in-memory) file
  std::string memory;               // a temporary file's bytes
  std::string path;
  bool delete_on_close = false;
  bool directory_sync_pending = false;  // created by this open: its name needs a dir fsync
};

VfsFile& as_vfs_file(sqlite3_file* file) {
  return *reinterpret_cast<VfsFile*>(file);
}
SqliteVfs& as_vfs(sqlite3_vfs* vfs) {
  return *static_cast<SqliteVfs*>(vfs->pAppData);
}

// Runs a VFS callback body that may block the fiber. A fiber killed while blocked throws
// env::FiberKilled, which must not unwind through SQLite's C frames: the call fails instead,
// and so does every later one, without touching the disk (the process is gone).
template <typename Body>
int guarded(SqliteVfs& vfs, int failure_code, Body&& body) {
  if (vfs.killed()) return failure_code;
  try {
    return body();
  } catch (const env::FiberKilled&) {
    vfs.note_killed();
    return failure_code;
  }
}

int io_code_for(const Error& error, int io_code) {
  return error.code() == ErrorCode::kDiskFull ? SQLITE_FULL : io_code;
}

int file_close_unguarded(sqlite3_file* file) {
  VfsFile& vfs_file = as_vfs_file(file);
  int rc = SQLITE_OK;
  if (vfs_file.delete_on_close && vfs_file.file) {
    vfs_file.file.reset();
    Status removed = vfs_file.vfs->disk().remove(vfs_file.path);
    if (!removed) rc = vfs_file.vfs->record(removed.error(), SQLITE_IOERR_DELETE);
  }
  vfs_file.~VfsFile();
  return rc;
}

int file_read_unguarded(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  VfsFile& vfs_file = as_vfs_file(file);
  char* out = static_cast<char*>(buffer);
  size_t got = 0;
  if (!vfs_file.file) {
    const std::string& memory = vfs_file.memory;
    if (static_cast<uint64_t>(offset) < memory.size()) {
      got = std::min<size_t>(amount, memory.size() - offset);
      std::memcpy(out, memory.data() + offset, got);
    }
  } else {
    while (got < static_cast<size_t>(amount)) {
      Result<std::string> chunk = vfs_file.file->read(offset + got, amount - got);
      if (!chunk) return vfs_file.vfs->record(chunk.error(), SQLITE_IOERR_READ);
      if (chunk->empty()) break;
      std::memcpy(out + got, chunk->data(), chunk->size());
      got += chunk->size();
    }
  }
  if (got < static_cast<size_t>(amount)) {
    // SQLite requires the unread part zero-filled on a short read (it reads past the end of
    // journals and WAL files on purpose).
    std::memset(out + got, 0, amount - got);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int file_write_unguarded(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  VfsFile& vfs_file = as_vfs_file(file);
  const std::string_view bytes(static_cast<const char*>(buffer), amount);
  if (!vfs_file.file) {
    std::string& memory = vfs_file.memory;
    if (memory.size() < static_cast<uint64_t>(offset) + amount) memory.resize(offset + amount);
    memory.replace(offset, amount, bytes);
    return SQLITE_OK;
  }
  Status status = vfs_file.file->write(offset, bytes);
  if (!status)
    return vfs_file.vfs->record(status.error(), io_code_for(status.error(), SQLITE_IOERR_WRITE));
  return SQLITE_OK;
}

int file_truncate_unguarded(sqlite3_file* file, sqlite3_int64 size) {
  VfsFile& vfs_file = as_vfs_file(file);
  if (!vfs_file.file) {
    vfs_file.memory.resize(std::min<uint64_t>(vfs_file.memory.size(), size));
    return SQLITE_OK;
  }
  Status status = vfs_file.file->truncate(size);
  if (!status) return vfs_file.vfs->record(status.error(), SQLITE_IOERR_TRUNCATE);
  return SQLITE_OK;
}

int file_sync_unguarded(sqlite3_file* file, int flags) {
  VfsFile& vfs_file = as_vfs_file(file);
  if (!vfs_file.file) return SQLITE_OK;
  Status status = vfs_file.file->sync();
  if (!status) {
    vfs_file.vfs->note_sync_failure();
    return vfs_file.vfs->record(status.error(), SQLITE_IOERR_FSYNC);
  }
  if (vfs_file.directory_sync_pending) {
    Status directory = vfs_file.vfs->disk().sync_directory(parent_directory(vfs_file.path));
    if (!directory) {
      vfs_file.vfs->note_sync_failure();
      return vfs_file.vfs->record(directory.error(), SQLITE_IOERR_DIR_FSYNC);
    }
    vfs_file.directory_sync_pending = false;
  }
  return SQLITE_OK;
}

int file_size_unguarded(sqlite3_file* file, sqlite3_int64* size) {
  VfsFile& vfs_file = as_vfs_file(file);
  if (!vfs_file.file) {
    *size = static_cast<sqlite3_int64>(vfs_file.memory.size());
    return SQLITE_OK;
  }
  Result<uint64_t> bytes = vfs_file.file->size();
  if (!bytes) return vfs_file.vfs->record(bytes.error(), SQLITE_IOERR_FSTAT);
  *size = static_cast<sqlite3_int64>(*bytes);
  return SQLITE_OK;
}

int file_close(sqlite3_file* file) {
  VfsFile& vfs_file = as_vfs_file(file);
  if (vfs_file.vfs->killed()) {
    // No disk work for a dead process, but the object is still destroyed.
    vfs_file.~VfsFile();
    return SQLITE_OK;
  }
  return guarded(*vfs_file.vfs, SQLITE_IOERR_CLOSE, [&] { return file_close_unguarded(file); });
}
int file_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  return guarded(*as_vfs_file(file).vfs, SQLITE_IOERR_READ,
                 [&] { return file_read_unguarded(file, buffer, amount, offset); });
}
int file_write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  return guarded(*as_vfs_file(file).vfs, SQLITE_IOERR_WRITE,
                 [&] { return file_write_unguarded(file, buffer, amount, offset); });
}
int file_truncate(sqlite3_file* file, sqlite3_int64 size) {
  return guarded(*as_vfs_file(file).vfs, SQLITE_IOERR_TRUNCATE,
                 [&] { return file_truncate_unguarded(file, size); });
}
int file_sync(sqlite3_file* file, int flags) {
  return guarded(*as_vfs_file(file).vfs, SQLITE_IOERR_FSYNC,
                 [&] { return file_sync_unguarded(file, flags); });
}
int file_size(sqlite3_file* file, sqlite3_int64* size) {
  return guarded(*as_vfs_file(file).vfs, SQLITE_IOERR_FSTAT,
                 [&] { return file_size_unguarded(file, size); });
}

// One connection per database in one process: locks have nothing to exclude.
int file_lock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int file_unlock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int file_check_reserved_lock(sqlite3_file*, int* result) {
  *result = 0;
  return SQLITE_OK;
}
int file_control(sqlite3_file*, int, void*) {
  return SQLITE_NOTFOUND;
}
int file_sector_size(sqlite3_file*) {
  return kSqliteVfsSectorBytes;
}
// env::Disk never changes bytes a write does not cover, even when a crash tears the write
// (SimDisk keeps a sector-aligned prefix of it), which is what "powersafe overwrite" means.
int file_device_characteristics(sqlite3_file*) {
  return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

const sqlite3_io_methods kIoMethods = {
    1,  // iVersion 1: no shared memory, no mmap (see the class comment)
    file_close,
    file_read,
    file_write,
    file_truncate,
    file_sync,
    file_size,
    file_lock,
    file_unlock,
    file_check_reserved_lock,
    file_control,
    file_sector_size,
    file_device_characteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

int vfs_open(sqlite3_vfs* vfs, const char* path, sqlite3_file* file, int flags, int* out_flags) {
  file->pMethods = nullptr;
  return guarded(as_vfs(vfs), SQLITE_CANTOPEN,
                 [&] { return as_vfs(vfs).open_file(path, file, flags, out_flags); });
}
int vfs_delete(sqlite3_vfs* vfs, const char* path, int sync_directory) {
  return guarded(as_vfs(vfs), SQLITE_IOERR_DELETE,
                 [&] { return as_vfs(vfs).delete_file(path, sync_directory != 0); });
}
int vfs_access(sqlite3_vfs* vfs, const char* path, int flags, int* result) {
  *result = 0;
  return guarded(as_vfs(vfs), SQLITE_IOERR_ACCESS,
                 [&] { return as_vfs(vfs).access(path, flags, result); });
}
int vfs_full_pathname(sqlite3_vfs*, const char* path, int out_bytes, char* out) {
  // Paths are already relative to the process's data directory; SQLite only needs a stable
  // name to derive "-wal" and "-journal" from.
  const size_t length = std::strlen(path);
  if (length + 1 > static_cast<size_t>(out_bytes)) return SQLITE_CANTOPEN;
  std::memcpy(out, path, length + 1);
  return SQLITE_OK;
}
void* vfs_dl_open(sqlite3_vfs*, const char*) {
  return nullptr;
}
void vfs_dl_error(sqlite3_vfs*, int bytes, char* out) {
  if (bytes > 0) std::snprintf(out, bytes, "extensions are not supported by this VFS");
}
void (*vfs_dl_sym(sqlite3_vfs*, void*, const char*))(void) {
  return nullptr;
}
void vfs_dl_close(sqlite3_vfs*, void*) {}
int vfs_randomness(sqlite3_vfs* vfs, int bytes, char* out) {
  as_vfs(vfs).fill_random(bytes, out);
  return bytes;
}
int vfs_sleep(sqlite3_vfs* vfs, int microseconds) {
  return guarded(as_vfs(vfs), 0, [&] { return as_vfs(vfs).sleep_microseconds(microseconds); });
}
int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  *out = as_vfs(vfs).current_time_julian_ms();
  return SQLITE_OK;
}
int vfs_current_time(sqlite3_vfs* vfs, double* out) {
  *out = static_cast<double>(as_vfs(vfs).current_time_julian_ms()) / 86400000.0;
  return SQLITE_OK;
}
int vfs_get_last_error(sqlite3_vfs*, int, char*) {
  return 0;
}

}  // namespace

SqliteVfs::SqliteVfs(env::Disk& disk, SqliteVfsOptions options)
    : disk_(disk), options_(std::move(options)), random_(options_.random_seed) {
  vfs_.iVersion = 2;
  vfs_.szOsFile = sizeof(VfsFile);
  vfs_.mxPathname = kSqliteVfsMaxPathBytes;
  vfs_.zName = options_.name.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = vfs_open;
  vfs_.xDelete = vfs_delete;
  vfs_.xAccess = vfs_access;
  vfs_.xFullPathname = vfs_full_pathname;
  vfs_.xDlOpen = vfs_dl_open;
  vfs_.xDlError = vfs_dl_error;
  vfs_.xDlSym = vfs_dl_sym;
  vfs_.xDlClose = vfs_dl_close;
  vfs_.xRandomness = vfs_randomness;
  vfs_.xSleep = vfs_sleep;
  vfs_.xCurrentTime = vfs_current_time;
  vfs_.xGetLastError = vfs_get_last_error;
  vfs_.xCurrentTimeInt64 = vfs_current_time_int64;
}

Result<std::unique_ptr<SqliteVfs>> SqliteVfs::register_vfs(env::Disk& disk,
                                                           SqliteVfsOptions options) {
  if (options.name.empty()) return Error(ErrorCode::kInvalidInput, "a SQLite VFS needs a name");
  // No memory statistics: with them every SQLite allocation takes a global mutex (about 2%
  // of a simulated run, which allocates for every statement step). Nothing here reads them
  // (sqlite3_memory_used and friends). Only possible before SQLite initializes; if someone
  // initialized it earlier, the call fails harmlessly and statistics stay on.
  static const bool memory_statistics_off [[maybe_unused]] =
      sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  if (sqlite3_initialize() != SQLITE_OK) {
    return Error(ErrorCode::kInternal, "sqlite3_initialize failed");
  }
  if (sqlite3_vfs_find(options.name.c_str()) != nullptr) {
    return Error(ErrorCode::kInvalidInput, "SQLite VFS name already registered: " + options.name);
  }
  std::unique_ptr<SqliteVfs> vfs(new SqliteVfs(disk, std::move(options)));
  if (sqlite3_vfs_register(&vfs->vfs_, /*makeDflt=*/0) != SQLITE_OK) {
    return Error(ErrorCode::kInternal, "sqlite3_vfs_register failed for " + vfs->name());
  }
  return vfs;
}

SqliteVfs::~SqliteVfs() {
  // SQLite falls back to another default if this one was the default.
  sqlite3_vfs_unregister(&vfs_);
}

void SqliteVfs::make_current_for_randomness() {
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
  sqlite3_randomness(0, nullptr);  // documented: resets the PRNG, reseeded on next use
}

void SqliteVfs::rethrow_if_killed() const {
  if (killed_) throw env::FiberKilled{};
}

std::optional<Error> SqliteVfs::take_last_error() {
  std::optional<Error> error = std::move(last_error_);
  last_error_.reset();
  return error;
}

int SqliteVfs::record(const Error& error, int sqlite_code) {
  last_error_ = error;
  return sqlite_code;
}

int SqliteVfs::open_file(const char* path, sqlite3_file* file, int flags, int* out_flags) {
  file->pMethods = nullptr;  // SQLite calls xClose only when pMethods is set
  // Disk work first (it may block, and a killed fiber unwinds from there); the file object
  // is constructed only once nothing can fail.
  std::unique_ptr<env::File> opened_file;
  bool created = false;
  std::string name;
  if (path == nullptr) {
    // A temporary file (sorter, statement journal): scratch space kept in memory.
    name = "temporary-" + std::to_string(++temporary_files_opened_);
  } else {
    name = path;
    const bool create = (flags & SQLITE_OPEN_CREATE) != 0;
    created = !disk_.exists(path);
    Result<std::unique_ptr<env::File>> opened =
        disk_.open(path, create ? env::OpenMode::kCreateReadWrite : env::OpenMode::kReadWrite);
    if (!opened) return record(opened.error(), SQLITE_CANTOPEN);
    opened_file = std::move(opened).value();
  }
  VfsFile* vfs_file = new (file) VfsFile{};
  vfs_file->vfs = this;
  vfs_file->path = std::move(name);
  vfs_file->file = std::move(opened_file);
  vfs_file->delete_on_close = path != nullptr && (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
  vfs_file->directory_sync_pending = created;
  if (out_flags != nullptr) *out_flags = flags;
  vfs_file->base.pMethods = &kIoMethods;
  return SQLITE_OK;
}

int SqliteVfs::delete_file(const char* path, bool sync_directory) {
  Status removed = disk_.remove(path);
  if (!removed) {
    if (removed.code() == ErrorCode::kFileNotFound) return SQLITE_IOERR_DELETE_NOENT;
    return record(removed.error(), SQLITE_IOERR_DELETE);
  }
  if (sync_directory) {
    Status synced = disk_.sync_directory(parent_directory(path));
    if (!synced) return record(synced.error(), SQLITE_IOERR_DIR_FSYNC);
  }
  return SQLITE_OK;
}

int SqliteVfs::access(const char* path, int flags, int* result) {
  *result = 0;
  if (!disk_.exists(path)) return SQLITE_OK;
  if (flags != SQLITE_ACCESS_EXISTS) {
    *result = 1;  // every file of the process's disk is readable and writable
    return SQLITE_OK;
  }
  // As SQLite's unix VFS: an empty file does not "exist" (a journal or WAL file left empty
  // holds nothing to recover).
  Result<std::unique_ptr<env::File>> file = disk_.open(path, env::OpenMode::kReadWrite);
  if (!file) return record(file.error(), SQLITE_IOERR_ACCESS);
  Result<uint64_t> size = (*file)->size();
  if (!size) return record(size.error(), SQLITE_IOERR_ACCESS);
  *result = *size > 0 ? 1 : 0;
  return SQLITE_OK;
}

void SqliteVfs::fill_random(int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(random_.next_u64());
}

int SqliteVfs::sleep_microseconds(int microseconds) {
  if (options_.runtime != nullptr)
    options_.runtime->sleep_for(std::chrono::microseconds(microseconds));
  return microseconds;
}

int64_t SqliteVfs::current_time_julian_ms() {
  const int64_t unix_ms = options_.clock ? options_.clock().nanoseconds() / 1'000'000 : 0;
  return kUnixEpochJulianMs + unix_ms;
}

}  // namespace lockstep::store
