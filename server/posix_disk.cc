#include "server/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/base/assert.h"
#include "core/env/fiber.h"
#include "server/sync_worker.h"

namespace lockstep::server {
namespace {

// Retries a system call interrupted by a signal (EINTR), the one errno that is never an answer.
template <typename Call>
auto retry_on_interrupt(Call call) {
  for (;;) {
    auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

std::string to_string(std::string_view path) {
  return std::string(path);
}

// The path as the *at() calls want it: "" (the root) becomes ".".
std::string at_path(std::string_view path) {
  return path.empty() ? "." : std::string(path);
}

// Whether a directory entry is a regular file. Subdirectories and anything else are left out
// of list(), as SimDisk does, so code that lists a WAL directory sees the same on both.
bool is_regular_file(int directory_fd, const dirent& entry) {
  if (entry.d_type == DT_REG) return true;
  if (entry.d_type != DT_UNKNOWN) return false;
  // Some file systems (XFS without ftype, some network file systems) leave d_type unknown.
  struct stat info {};
  return ::fstatat(directory_fd, entry.d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(info.st_mode);
}

class PosixFile : public env::File {
 public:
  PosixFile(int fd, std::string path, SyncWorker* sync_worker)
      : fd_(fd), path_(std::move(path)), sync_worker_(sync_worker) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Result<std::string> read(uint64_t offset, size_t length) override {
    std::string bytes(length, '\0');
    size_t filled = 0;
    while (filled < length) {
      const ssize_t got = retry_on_interrupt([&] {
        return ::pread(fd_, bytes.data() + filled, length - filled,
                       static_cast<off_t>(offset + filled));
      });
      if (got < 0) return disk_error_from_errno(errno, "read", path_);
      if (got == 0) break;  // end of file: fewer bytes, as the interface promises
      filled += static_cast<size_t>(got);
    }
    bytes.resize(filled);
    return bytes;
  }

  Status write(uint64_t offset, std::string_view bytes) override {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t put = retry_on_interrupt([&] {
        return ::pwrite(fd_, bytes.data() + written, bytes.size() - written,
                        static_cast<off_t>(offset + written));
      });
      if (put < 0) return disk_error_from_errno(errno, "write", path_);
      // pwrite returns a short count only when the device is full or a limit is hit; the next
      // call reports the errno.
      written += static_cast<size_t>(put);
    }
    return Status::ok();
  }

  Status sync() override {
    if (sync_worker_ != nullptr && env::Fiber::current() != nullptr) {
      return sync_worker_->sync(fd_, path_);
    }
    // fdatasync flushes the data and the metadata needed to read it back (the size after an
    // append), which is all a WAL needs; timestamps are not worth a second journal write.
    if (retry_on_interrupt([&] { return ::fdatasync(fd_); }) != 0) {
      return disk_error_from_errno(errno, "fdatasync", path_);
    }
    return Status::ok();
  }

  Result<uint64_t> size() override {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) return disk_error_from_errno(errno, "fstat", path_);
    return static_cast<uint64_t>(info.st_size);
  }

  Status truncate(uint64_t size) override {
    if (retry_on_interrupt([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return disk_error_from_errno(errno, "ftruncate", path_);
    }
    return Status::ok();
  }

 private:
  int fd_;
  std::string path_;
  SyncWorker* sync_worker_;
};

}  // namespace

Status validate_disk_path(std::string_view path, bool allow_root) {
  if (path.empty()) {
    if (allow_root) return Status::ok();
    return Status(ErrorCode::kInvalidInput, "empty path");
  }
  if (path.size() > kMaxDiskPathBytes) {
    return Status(ErrorCode::kInvalidInput,
                  "path longer than " + std::to_string(kMaxDiskPathBytes) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status(ErrorCode::kInvalidInput, "path contains a NUL byte");
  }
  if (path.front() == '/') {
    return Status(ErrorCode::kInvalidInput,
                  "absolute path escapes the data directory: " + to_string(path));
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view component = path.substr(start, slash - start);
    if (component.empty() || component == "." || component == "..") {
      return Status(
          ErrorCode::kInvalidInput,
          "path component '" + std::string(component) +
              "' is not allowed (paths stay inside the data directory): " + to_string(path));
    }
    start = slash + 1;
  }
  return Status::ok();
}

Error disk_error_from_errno(int error_number, std::string_view operation, std::string_view path) {
  std::string detail =
      std::string(operation) + " " + to_string(path) + ": " + std::strerror(error_number);
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return Error(ErrorCode::kFileNotFound, std::move(detail));
    case ENOSPC:
    case EDQUOT:
      return Error(ErrorCode::kDiskFull, std::move(detail));
    default:
      return Error(ErrorCode::kIoError, std::move(detail));
  }
}

Result<std::unique_ptr<PosixDisk>> PosixDisk::open_root(const std::string& root,
                                                        SyncWorker* sync_worker) {
  if (root.empty()) return Error(ErrorCode::kInvalidInput, "empty data directory");
  // mkdir -p: each prefix that ends at a slash, then the whole path.
  for (size_t slash = root.find('/', 1);; slash = root.find('/', slash + 1)) {
    const std::string prefix = root.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return disk_error_from_errno(errno, "mkdir", prefix);
    }
    if (slash == std::string::npos) break;
  }
  const int fd =
      retry_on_interrupt([&] { return ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return disk_error_from_errno(errno, "open data directory", root);
  return std::unique_ptr<PosixDisk>(new PosixDisk(root, fd, sync_worker));
}

PosixDisk::~PosixDisk() {
  ::close(root_fd_);
}

Result<std::unique_ptr<env::File>> PosixDisk::open(std::string_view path, env::OpenMode mode) {
  RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  int flags = O_RDWR | O_CLOEXEC;
  if (mode == env::OpenMode::kCreateReadWrite) flags |= O_CREAT;
  const std::string name = to_string(path);
  const int fd = retry_on_interrupt([&] { return ::openat(root_fd_, name.c_str(), flags, 0644); });
  if (fd < 0) return disk_error_from_errno(errno, "open", path);
  return std::unique_ptr<env::File>(new PosixFile(fd, name, sync_worker_));
}

Status PosixDisk::remove(std::string_view path) {
  RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  const std::string name = to_string(path);
  if (::unlinkat(root_fd_, name.c_str(), 0) == 0) return Status::ok();
  // Linux answers EISDIR for unlink(2) of a directory; an empty one may be removed too.
  if (errno == EISDIR && ::unlinkat(root_fd_, name.c_str(), AT_REMOVEDIR) == 0) {
    return Status::ok();
  }
  return disk_error_from_errno(errno, "remove", path);
}

Status PosixDisk::rename(std::string_view from, std::string_view to) {
  RETURN_IF_ERROR(validate_disk_path(from, /*allow_root=*/false));
  RETURN_IF_ERROR(validate_disk_path(to, /*allow_root=*/false));
  const std::string from_name = to_string(from);
  const std::string to_name = to_string(to);
  // Files only, as SimDisk: the store renames files into place and never moves directories.
  struct stat info {};
  if (::fstatat(root_fd_, from_name.c_str(), &info, 0) == 0 && S_ISDIR(info.st_mode)) {
    return Status(ErrorCode::kInvalidInput, "rename of a directory is not supported: " + from_name);
  }
  if (::fstatat(root_fd_, to_name.c_str(), &info, 0) == 0 && S_ISDIR(info.st_mode)) {
    return Status(ErrorCode::kInvalidInput, "rename target is a directory: " + to_name);
  }
  if (::renameat(root_fd_, from_name.c_str(), root_fd_, to_name.c_str()) != 0) {
    return disk_error_from_errno(errno, "rename", from_name + " -> " + to_name);
  }
  return Status::ok();
}

bool PosixDisk::exists(std::string_view path) {
  if (!validate_disk_path(path, /*allow_root=*/true).is_ok()) return false;
  struct stat info {};
  return ::fstatat(root_fd_, at_path(path).c_str(), &info, 0) == 0;
}

Result<int> PosixDisk::open_directory(std::string_view directory, const char* operation) {
  RETURN_IF_ERROR(validate_disk_path(directory, /*allow_root=*/true));
  const std::string name = at_path(directory);
  const int fd = retry_on_interrupt(
      [&] { return ::openat(root_fd_, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return disk_error_from_errno(errno, operation, directory);
  return fd;
}

Result<std::vector<std::string>> PosixDisk::list(std::string_view directory) {
  Result<int> fd = open_directory(directory, "list");
  if (!fd.is_ok()) return fd.error();
  DIR* stream = ::fdopendir(*fd);  // owns the descriptor from here on
  if (stream == nullptr) {
    const int error_number = errno;
    ::close(*fd);
    return disk_error_from_errno(error_number, "list", directory);
  }
  const std::string prefix = directory.empty() ? "" : to_string(directory) + "/";
  std::vector<std::string> paths;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    if (is_regular_file(::dirfd(stream), *entry)) paths.push_back(prefix + entry->d_name);
    errno = 0;
  }
  const int read_error = errno;
  ::closedir(stream);
  if (read_error != 0) return disk_error_from_errno(read_error, "list", directory);
  // readdir's order is the file system's hash order; callers (WAL replay) need a stable one.
  std::sort(paths.begin(), paths.end());
  return paths;
}

Status PosixDisk::create_directory(std::string_view directory) {
  RETURN_IF_ERROR(validate_disk_path(directory, /*allow_root=*/false));
  const std::string name = to_string(directory);
  if (::mkdirat(root_fd_, name.c_str(), 0755) == 0) return Status::ok();
  if (errno != EEXIST) return disk_error_from_errno(errno, "mkdir", name);
  // Already there: fine if it is a directory, as SimDisk answers.
  struct stat info {};
  if (::fstatat(root_fd_, name.c_str(), &info, 0) != 0) {
    return disk_error_from_errno(errno, "mkdir", name);
  }
  if (!S_ISDIR(info.st_mode)) {
    return Status(ErrorCode::kInvalidInput, "mkdir " + name + ": exists and is not a directory");
  }
  return Status::ok();
}

Status PosixDisk::sync_directory(std::string_view directory) {
  Result<int> fd = open_directory(directory, "sync directory");
  if (!fd.is_ok()) return fd.error();
  const int synced = retry_on_interrupt([&] { return ::fsync(*fd); });
  const int error_number = errno;
  ::close(*fd);
  if (synced != 0) return disk_error_from_errno(error_number, "fsync directory", directory);
  return Status::ok();
}

}  // namespace lockstep::server
