#include "store/memory_disk.h"

#include <algorithm>

#include "core/base/assert.h"

namespace lockstep::store {
namespace {

std::string parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace

struct MemoryDisk::Inode {
  std::string durable;
  std::string current;
  struct PendingWrite {
    uint64_t offset;
    std::string bytes;
    std::optional<uint64_t> truncate_to;  // a truncate instead of a write
  };
  std::vector<PendingWrite> pending;
};

class MemoryDisk::MemoryFile : public env::File {
 public:
  MemoryFile(MemoryDisk& disk, std::shared_ptr<Inode> inode)
      : disk_(disk), inode_(std::move(inode)), generation_(disk.generation_) {}

  Result<std::string> read(uint64_t offset, size_t length) override {
    RETURN_IF_ERROR(check_alive());
    const std::string& bytes = inode_->current;
    if (offset >= bytes.size()) return std::string();
    return bytes.substr(offset, std::min<uint64_t>(length, bytes.size() - offset));
  }

  Status write(uint64_t offset, std::string_view bytes) override {
    RETURN_IF_ERROR(check_alive());
    if (disk_.failing_writes_ > 0) {
      disk_.failing_writes_--;
      return Error(ErrorCode::kIoError, "injected write failure");
    }
    const uint64_t end = offset + bytes.size();
    if (disk_.capacity_bytes_ && end > inode_->current.size() &&
        disk_.total_bytes() + (end - inode_->current.size()) > *disk_.capacity_bytes_) {
      return Error(ErrorCode::kDiskFull, "memory disk capacity reached");
    }
    std::string& current = inode_->current;
    if (current.size() < end) current.resize(end, '\0');
    current.replace(offset, bytes.size(), bytes);
    inode_->pending.push_back({offset, std::string(bytes), std::nullopt});
    return Status::ok();
  }

  Status sync() override {
    RETURN_IF_ERROR(check_alive());
    if (disk_.disk_sync_fails()) return Error(ErrorCode::kIoError, "injected fsync failure");
    inode_->durable = inode_->current;
    inode_->pending.clear();
    disk_.sync_count_++;
    return Status::ok();
  }

  Result<uint64_t> size() override {
    RETURN_IF_ERROR(check_alive());
    return static_cast<uint64_t>(inode_->current.size());
  }

  Status truncate(uint64_t size) override {
    RETURN_IF_ERROR(check_alive());
    inode_->current.resize(size, '\0');
    inode_->pending.push_back({0, {}, size});
    return Status::ok();
  }

 private:
  Status check_alive() const {
    if (generation_ != disk_.generation_) {
      return Error(ErrorCode::kIoError, "file handle from before a crash");
    }
    return Status::ok();
  }

  MemoryDisk& disk_;
  std::shared_ptr<Inode> inode_;
  uint64_t generation_;
};

MemoryDisk::MemoryDisk() {
  directories_[""] = true;
}
MemoryDisk::~MemoryDisk() = default;

Result<std::unique_ptr<env::File>> MemoryDisk::open(std::string_view path, env::OpenMode mode) {
  auto found = names_.find(path);
  if (found == names_.end()) {
    if (mode != env::OpenMode::kCreateReadWrite) {
      return Error(ErrorCode::kFileNotFound, std::string(path));
    }
    if (!directories_.contains(parent_of(path))) {
      return Error(ErrorCode::kFileNotFound, "no directory for " + std::string(path));
    }
    found = names_.emplace(std::string(path), std::make_shared<Inode>()).first;
  }
  return std::unique_ptr<env::File>(new MemoryFile(*this, found->second));
}

Status MemoryDisk::remove(std::string_view path) {
  auto found = names_.find(path);
  if (found == names_.end()) return Error(ErrorCode::kFileNotFound, std::string(path));
  names_.erase(found);
  return Status::ok();
}

Status MemoryDisk::rename(std::string_view from, std::string_view to) {
  auto found = names_.find(from);
  if (found == names_.end()) return Error(ErrorCode::kFileNotFound, std::string(from));
  std::shared_ptr<Inode> inode = found->second;
  names_.erase(found);
  names_[std::string(to)] = std::move(inode);
  return Status::ok();
}

bool MemoryDisk::exists(std::string_view path) {
  return names_.contains(path) || directories_.contains(path);
}

Result<std::vector<std::string>> MemoryDisk::list(std::string_view directory) {
  if (!directories_.contains(directory)) {
    return Error(ErrorCode::kFileNotFound, std::string(directory));
  }
  std::vector<std::string> paths;
  for (const auto& [path, inode] : names_) {
    if (parent_of(path) == directory) paths.push_back(path);
  }
  return paths;
}

Status MemoryDisk::create_directory(std::string_view directory) {
  directories_.emplace(std::string(directory), false);
  return Status::ok();
}

Status MemoryDisk::sync_directory(std::string_view directory) {
  if (!directories_.contains(directory)) {
    return Error(ErrorCode::kFileNotFound, std::string(directory));
  }
  if (disk_sync_fails()) return Error(ErrorCode::kIoError, "injected directory fsync failure");
  for (auto& [path, durable] : directories_) {
    if (!path.empty() && parent_of(path) == directory) durable = true;
  }
  std::erase_if(durable_names_,
                [&](const auto& item) { return parent_of(item.first) == directory; });
  for (const auto& [path, inode] : names_) {
    if (parent_of(path) == directory) durable_names_[path] = inode;
  }
  return Status::ok();
}

bool MemoryDisk::disk_sync_fails() {
  if (sync_failure_countdown_) {
    if (*sync_failure_countdown_ == 0) {
      sync_failure_countdown_.reset();
      return true;
    }
    --*sync_failure_countdown_;
  }
  if (failing_syncs_ == 0) return false;
  failing_syncs_--;
  return true;
}

void MemoryDisk::crash(CrashMode mode, Random& random) {
  generation_++;
  std::vector<std::shared_ptr<Inode>> inodes;
  for (auto& [path, inode] : names_) inodes.push_back(inode);
  for (auto& [path, inode] : durable_names_) inodes.push_back(inode);
  for (const std::shared_ptr<Inode>& inode : inodes) {
    if (mode == CrashMode::kKeep) {
      inode->durable = inode->current;
    } else if (mode == CrashMode::kTorn) {
      for (const Inode::PendingWrite& write : inode->pending) {
        const uint64_t choice = random.below(3);
        if (choice == 0) continue;  // lost
        if (write.truncate_to) {
          inode->durable.resize(*write.truncate_to, '\0');
          continue;
        }
        const size_t kept = choice == 1 ? write.bytes.size() : random.below(write.bytes.size() + 1);
        const uint64_t end = write.offset + kept;
        if (inode->durable.size() < end) inode->durable.resize(end, '\0');
        inode->durable.replace(write.offset, kept, write.bytes.substr(0, kept));
      }
    }
    inode->pending.clear();
    inode->current = inode->durable;
  }
  if (mode == CrashMode::kKeep) {
    durable_names_ = names_;
    for (auto& [directory, durable] : directories_) durable = true;
  } else {
    names_ = durable_names_;
    std::erase_if(directories_, [](const auto& item) { return !item.second; });
  }
}

void MemoryDisk::flip_bit(std::string_view path, uint64_t offset, int bit) {
  auto found = names_.find(path);
  ASSERT(found != names_.end(), "flip_bit needs an existing file");
  Inode& inode = *found->second;
  ASSERT(offset < inode.current.size(), "flip_bit inside the file");
  inode.current[offset] = static_cast<char>(inode.current[offset] ^ (1 << bit));
  if (offset < inode.durable.size()) {
    inode.durable[offset] = static_cast<char>(inode.durable[offset] ^ (1 << bit));
  }
}

std::optional<std::string> MemoryDisk::contents(std::string_view path) const {
  auto found = names_.find(path);
  if (found == names_.end()) return std::nullopt;
  return found->second->current;
}

uint64_t MemoryDisk::total_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, inode] : names_) total += inode->current.size();
  return total;
}

}  // namespace lockstep::store
