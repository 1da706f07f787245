#include "sim/disk_state.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/base/assert.h"

namespace lockstep::sim {

std::string_view parent_directory(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

namespace {

// Paths are relative, '/'-separated, without empty, "." or ".." components.
Status validate_path(std::string_view path) {
  if (path.empty()) return Status(ErrorCode::kInvalidInput, "empty path");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      return Status(ErrorCode::kInvalidInput, "bad path '" + std::string(path) + "'");
    }
    start = end + 1;
  }
  return Status::ok();
}

bool is_direct_child(std::string_view path, std::string_view directory) {
  return parent_directory(path) == directory;
}

}  // namespace

DiskState::Inode& DiskState::inode_at(InodeId inode) {
  auto found = inodes_.find(inode);
  ASSERT(found != inodes_.end(), "operation on an inode that does not exist");
  return found->second;
}

const DiskState::Inode& DiskState::inode_at(InodeId inode) const {
  auto found = inodes_.find(inode);
  ASSERT(found != inodes_.end(), "operation on an inode that does not exist");
  return found->second;
}

bool DiskState::parent_is_directory(std::string_view path) const {
  const std::string_view parent = parent_directory(path);
  if (parent.empty()) return true;
  auto found = current_entries_.find(parent);
  return found != current_entries_.end() && found->second.directory;
}

bool DiskState::should_fail(uint32_t& next_count, double probability, Random& random) {
  if (next_count > 0) {
    --next_count;
    return true;
  }
  return random.chance(probability);
}

void DiskState::set_current(Inode& inode, std::string bytes) {
  used_bytes_ = used_bytes_ - inode.current.size() + bytes.size();
  inode.current = std::move(bytes);
}

Result<DiskState::InodeId> DiskState::open(std::string_view path, env::OpenMode mode) {
  RETURN_IF_ERROR(validate_path(path));
  auto found = current_entries_.find(path);
  if (found != current_entries_.end()) {
    if (found->second.directory) {
      return Error(ErrorCode::kInvalidInput, "'" + std::string(path) + "' is a directory");
    }
    return found->second.inode;
  }
  if (mode != env::OpenMode::kCreateReadWrite) {
    return Error(ErrorCode::kFileNotFound, std::string(path));
  }
  if (!parent_is_directory(path)) {
    return Error(ErrorCode::kFileNotFound,
                 "no directory '" + std::string(parent_directory(path)) + "'");
  }
  const InodeId inode = next_inode_++;
  inodes_.emplace(inode, Inode{});
  current_entries_.emplace(std::string(path), Entry{false, inode});
  return inode;
}

Status DiskState::remove(std::string_view path) {
  RETURN_IF_ERROR(validate_path(path));
  auto found = current_entries_.find(path);
  if (found == current_entries_.end()) return Status(ErrorCode::kFileNotFound, std::string(path));
  if (found->second.directory) {
    const std::string prefix = std::string(path) + "/";
    auto child = current_entries_.lower_bound(prefix);
    if (child != current_entries_.end() && child->first.starts_with(prefix)) {
      return Status(ErrorCode::kIoError, "directory not empty: " + std::string(path));
    }
  }
  current_entries_.erase(found);
  collect_unreferenced_inodes();
  return Status::ok();
}

Status DiskState::rename(std::string_view from, std::string_view to) {
  RETURN_IF_ERROR(validate_path(from));
  RETURN_IF_ERROR(validate_path(to));
  auto source = current_entries_.find(from);
  if (source == current_entries_.end()) return Status(ErrorCode::kFileNotFound, std::string(from));
  if (source->second.directory) {
    return Status(ErrorCode::kInvalidInput, "rename of a directory is not supported");
  }
  if (!parent_is_directory(to)) {
    return Status(ErrorCode::kFileNotFound,
                  "no directory '" + std::string(parent_directory(to)) + "'");
  }
  auto target = current_entries_.find(to);
  if (target != current_entries_.end() && target->second.directory) {
    return Status(ErrorCode::kInvalidInput, "rename target is a directory");
  }
  const Entry moved = source->second;
  current_entries_.erase(source);
  // POSIX rename replaces an existing target atomically.
  current_entries_.insert_or_assign(std::string(to), moved);
  collect_unreferenced_inodes();
  return Status::ok();
}

bool DiskState::exists(std::string_view path) const {
  return current_entries_.contains(path);
}

Result<std::vector<std::string>> DiskState::list(std::string_view directory) const {
  if (!directory.empty()) {
    auto found = current_entries_.find(directory);
    if (found == current_entries_.end() || !found->second.directory) {
      return Error(ErrorCode::kFileNotFound, std::string(directory));
    }
  }
  std::vector<std::string> files;
  for (const auto& [path, entry] : current_entries_) {
    if (!entry.directory && is_direct_child(path, directory)) files.push_back(path);
  }
  return files;
}

Status DiskState::create_directory(std::string_view directory) {
  RETURN_IF_ERROR(validate_path(directory));
  auto found = current_entries_.find(directory);
  if (found != current_entries_.end()) {
    if (found->second.directory) return Status::ok();
    return Status(ErrorCode::kInvalidInput, "'" + std::string(directory) + "' is a file");
  }
  if (!parent_is_directory(directory)) {
    return Status(ErrorCode::kFileNotFound,
                  "no directory '" + std::string(parent_directory(directory)) + "'");
  }
  current_entries_.emplace(std::string(directory), Entry{true, 0});
  return Status::ok();
}

Status DiskState::sync_directory(std::string_view directory, Random& random) {
  if (!directory.empty()) {
    auto found = current_entries_.find(directory);
    if (found == current_entries_.end() || !found->second.directory) {
      return Status(ErrorCode::kFileNotFound, std::string(directory));
    }
  }
  if (should_fail(faults_.fail_next_syncs, faults_.sync_error_probability, random)) {
    return Status(ErrorCode::kIoError, "fsync of directory '" + std::string(directory) + "'");
  }
  // The directory's durable entries become exactly its current entries.
  std::erase_if(durable_entries_, [&](const auto& item) {
    return is_direct_child(item.first, directory) && !current_entries_.contains(item.first);
  });
  for (const auto& [path, entry] : current_entries_) {
    if (is_direct_child(path, directory)) durable_entries_.insert_or_assign(path, entry);
  }
  collect_unreferenced_inodes();
  return Status::ok();
}

Result<std::string> DiskState::read(InodeId inode, uint64_t offset, size_t length) const {
  const std::string& bytes = inode_at(inode).current;
  if (offset >= bytes.size()) return std::string();
  return bytes.substr(offset, length);
}

void DiskState::apply(std::string& bytes, const PendingOp& op, std::string_view data) {
  if (op.is_truncate) {
    bytes.resize(op.offset);
    return;
  }
  // Every byte a member writes passes through here, and most writes append (WAL records,
  // SQLite's WAL frames): append in place instead of zero-filling the new tail first and
  // then overwriting it.
  if (op.offset >= bytes.size()) {
    bytes.resize(op.offset);  // a hole before the write reads as zeros, as in POSIX
    bytes.append(data);
    return;
  }
  const size_t inside = std::min<size_t>(data.size(), bytes.size() - op.offset);
  std::memcpy(bytes.data() + op.offset, data.data(), inside);
  bytes.append(data.substr(inside));
}

std::string_view DiskState::op_bytes(const Inode& inode, const PendingOp& op) {
  if (op.is_truncate) return {};
  if (op.bytes_saved) return op.bytes;
  return std::string_view(inode.current).substr(op.offset, op.length);
}

void DiskState::save_overwritten_ops(Inode& inode, uint64_t begin, uint64_t end) {
  if (begin >= inode.unsaved_end || begin >= end) return;
  uint64_t unsaved_end = 0;
  for (PendingOp& op : inode.pending) {
    if (op.is_truncate || op.bytes_saved) continue;
    if (op.offset < end && begin < op.offset + op.length) {
      op.bytes.assign(inode.current, op.offset, op.length);
      op.bytes_saved = true;
    } else {
      unsaved_end = std::max(unsaved_end, op.offset + op.length);
    }
  }
  inode.unsaved_end = unsaved_end;
}

void DiskState::clear_pending(Inode& inode) {
  inode.pending.clear();
  inode.unsaved_end = 0;
}

void DiskState::undo(std::string& bytes, const PendingOp& op) {
  if (op.is_truncate) {
    bytes.append(op.replaced);  // the tail a shrinking truncate cut off
  } else {
    std::memcpy(bytes.data() + op.offset, op.replaced.data(), op.replaced.size());
  }
  bytes.resize(op.size_before);
}

std::string DiskState::durable_bytes(const Inode& inode) {
  if (inode.durable) return *inode.durable;
  std::string bytes = inode.current;
  for (auto op = inode.pending.rbegin(); op != inode.pending.rend(); ++op) undo(bytes, *op);
  return bytes;
}

uint64_t DiskState::durable_size(const Inode& inode) {
  if (inode.durable) return inode.durable->size();
  return inode.pending.empty() ? inode.current.size() : inode.pending.front().size_before;
}

void DiskState::store_durable(Inode& inode) {
  if (!inode.durable) inode.durable = durable_bytes(inode);
}

void DiskState::apply_pending(Inode& inode, PendingOp op, std::string_view data) {
  const uint64_t size_before = inode.current.size();
  // The bytes this op changes: earlier pending writes there keep a copy of theirs first.
  const uint64_t changed_end = op.is_truncate ? size_before : op.offset + data.size();
  save_overwritten_ops(inode, op.offset, changed_end);
  if (!inode.durable) {
    op.size_before = size_before;
    if (op.offset < size_before) {
      op.replaced.assign(inode.current, op.offset,
                         std::min<uint64_t>(changed_end, size_before) - op.offset);
    }
  }
  apply(inode.current, op, data);
  used_bytes_ = used_bytes_ - size_before + inode.current.size();
  if (!op.is_truncate) {
    op.length = data.size();
    inode.unsaved_end = std::max(inode.unsaved_end, op.offset + op.length);
  }
  inode.pending.push_back(std::move(op));
}

Status DiskState::write(InodeId inode_id, uint64_t offset, std::string_view bytes, Random& random) {
  Inode& inode = inode_at(inode_id);
  if (should_fail(faults_.fail_next_writes, faults_.write_error_probability, random)) {
    return Status(ErrorCode::kIoError, "write");
  }
  const uint64_t new_size = std::max<uint64_t>(inode.current.size(), offset + bytes.size());
  const uint64_t growth = new_size - inode.current.size();
  if (used_bytes_ + growth > faults_.capacity_bytes) {
    return Status(ErrorCode::kDiskFull, "capacity " + std::to_string(faults_.capacity_bytes));
  }
  PendingOp op;
  op.offset = offset;
  apply_pending(inode, std::move(op), bytes);
  return Status::ok();
}

Status DiskState::truncate(InodeId inode_id, uint64_t size, Random& random) {
  Inode& inode = inode_at(inode_id);
  if (should_fail(faults_.fail_next_writes, faults_.write_error_probability, random)) {
    return Status(ErrorCode::kIoError, "truncate");
  }
  if (size > inode.current.size() &&
      used_bytes_ + (size - inode.current.size()) > faults_.capacity_bytes) {
    return Status(ErrorCode::kDiskFull, "capacity " + std::to_string(faults_.capacity_bytes));
  }
  // In place: a journal truncated on every commit must not cost a copy of the file.
  PendingOp op;
  op.is_truncate = true;
  op.offset = size;
  apply_pending(inode, std::move(op), {});
  return Status::ok();
}

Result<uint64_t> DiskState::sync(InodeId inode_id, Random& random) {
  Inode& inode = inode_at(inode_id);
  if (should_fail(faults_.fail_next_syncs, faults_.sync_error_probability, random)) {
    // fsyncgate: the kernel forgets the dirty pages, so these writes never become durable,
    // while later ones still can: from here on the durable bytes are stored.
    store_durable(inode);
    for (PendingOp& op : inode.pending) op.lost_to_failed_sync = true;
    return Error(ErrorCode::kIoError, "fsync");
  }
  if (faults_.fsync_lies) return uint64_t{0};
  if (!inode.durable) {
    // Every pending op becomes durable: the durable bytes are now `current` itself.
    const uint64_t made_durable = inode.pending.size();
    clear_pending(inode);
    return made_durable;
  }
  uint64_t made_durable = 0;
  std::vector<PendingOp> still_pending;
  for (PendingOp& op : inode.pending) {
    if (op.lost_to_failed_sync) {
      still_pending.push_back(std::move(op));
      continue;
    }
    apply(*inode.durable, op, op_bytes(inode, op));
    ++made_durable;
  }
  inode.pending = std::move(still_pending);
  // Nothing pending: the durable bytes equal `current` again and need not be stored.
  if (inode.pending.empty()) inode.durable.reset();
  return made_durable;
}

uint64_t DiskState::size(InodeId inode) const {
  return inode_at(inode).current.size();
}

void DiskState::add_handle(InodeId inode) {
  ++inode_at(inode).open_handles;
}

void DiskState::release_handle(InodeId inode_id, uint64_t handle_generation) {
  if (handle_generation != generation_) return;  // the crash already forgot this handle
  Inode& inode = inode_at(inode_id);
  ASSERT(inode.open_handles > 0, "handle released twice");
  --inode.open_handles;
  collect_unreferenced_inodes();
}

void DiskState::apply_torn(std::string& bytes, const PendingOp& op, std::string_view data,
                           Random& random) {
  if (op.is_truncate) {
    // A truncate is one metadata update: it happens or it does not.
    if (random.chance(0.5)) apply(bytes, op, data);
    return;
  }
  // Sector boundaries strictly inside the write: the surviving prefix ends at one of them.
  const uint64_t end = op.offset + data.size();
  const uint64_t first_boundary = (op.offset / kSectorBytes + 1) * kSectorBytes;
  if (first_boundary >= end) return;  // fits in one sector: atomic, so torn means lost
  const uint64_t boundaries = (end - 1 - first_boundary) / kSectorBytes + 1;
  const uint64_t cut = first_boundary + random.below(boundaries) * kSectorBytes;
  apply(bytes, op, data.substr(0, cut - op.offset));
}

void DiskState::resolve_inode(Inode& inode, CrashMode mode, Random& random) {
  std::string result = durable_bytes(inode);
  // Writes an fsync failed on never reach the disk, whatever the mode.
  std::vector<const PendingOp*> candidates;
  for (const PendingOp& op : inode.pending) {
    if (!op.lost_to_failed_sync) candidates.push_back(&op);
  }
  switch (mode) {
    case CrashMode::kDropAll:
      break;
    case CrashMode::kKeepAll:
      for (const PendingOp* op : candidates) apply(result, *op, op_bytes(inode, *op));
      break;
    case CrashMode::kTorn: {
      const uint64_t survivors = random.below(candidates.size() + 1);
      for (uint64_t index = 0; index < survivors; ++index) {
        apply(result, *candidates[index], op_bytes(inode, *candidates[index]));
      }
      if (survivors < candidates.size()) {
        const PendingOp& torn = *candidates[survivors];
        apply_torn(result, torn, op_bytes(inode, torn), random);
      }
      break;
    }
    case CrashMode::kRandom:
      for (const PendingOp* op : candidates) {
        switch (random.below(3)) {
          case 0:
            break;
          case 1:
            apply(result, *op, op_bytes(inode, *op));
            break;
          default:
            apply_torn(result, *op, op_bytes(inode, *op), random);
            break;
        }
      }
      break;
  }
  clear_pending(inode);
  inode.durable.reset();
  set_current(inode, std::move(result));
}

void DiskState::resolve_namespace(CrashMode mode, Random& random) {
  Namespace resolved;
  // Walk the union of both namespaces in path order; each differing path keeps its durable or
  // its current form.
  auto durable = durable_entries_.begin();
  auto current = current_entries_.begin();
  while (durable != durable_entries_.end() || current != current_entries_.end()) {
    std::string path;
    std::optional<Entry> durable_entry;
    std::optional<Entry> current_entry;
    if (current == current_entries_.end() ||
        (durable != durable_entries_.end() && durable->first < current->first)) {
      path = durable->first;
      durable_entry = durable->second;
      ++durable;
    } else if (durable == durable_entries_.end() || current->first < durable->first) {
      path = current->first;
      current_entry = current->second;
      ++current;
    } else {
      path = durable->first;
      durable_entry = durable->second;
      current_entry = current->second;
      ++durable;
      ++current;
    }
    std::optional<Entry> chosen = durable_entry;
    if (durable_entry != current_entry) {
      bool keep_current = false;
      switch (mode) {
        case CrashMode::kDropAll:
          keep_current = false;
          break;
        case CrashMode::kKeepAll:
          keep_current = true;
          break;
        case CrashMode::kTorn:
        case CrashMode::kRandom:
          keep_current = random.chance(0.5);
          break;
      }
      if (keep_current) chosen = current_entry;
    }
    if (!chosen) continue;
    // Parents sort before their children, so an orphan is seen after its parent's fate.
    const std::string_view parent = parent_directory(path);
    if (!parent.empty()) {
      auto parent_entry = resolved.find(parent);
      if (parent_entry == resolved.end() || !parent_entry->second.directory) continue;
    }
    resolved.emplace(std::move(path), *chosen);
  }
  durable_entries_ = resolved;
  current_entries_ = std::move(resolved);
}

void DiskState::crash(CrashMode mode, Random& random) {
  ++generation_;
  for (auto& [id, inode] : inodes_) inode.open_handles = 0;
  resolve_namespace(mode, random);
  collect_unreferenced_inodes();
  for (auto& [id, inode] : inodes_) resolve_inode(inode, mode, random);
}

void DiskState::collect_unreferenced_inodes() {
  std::vector<InodeId> referenced;
  for (const auto& [path, entry] : durable_entries_) {
    if (!entry.directory) referenced.push_back(entry.inode);
  }
  for (const auto& [path, entry] : current_entries_) {
    if (!entry.directory) referenced.push_back(entry.inode);
  }
  std::sort(referenced.begin(), referenced.end());
  std::erase_if(inodes_, [&](const auto& item) {
    const bool unreferenced =
        !std::binary_search(referenced.begin(), referenced.end(), item.first) &&
        item.second.open_handles == 0;
    if (unreferenced) used_bytes_ -= item.second.current.size();
    return unreferenced;
  });
}

Status DiskState::flip_bit(std::string_view path, uint64_t bit_index) {
  auto found = durable_entries_.find(path);
  if (found == durable_entries_.end() || found->second.directory) {
    return Status(ErrorCode::kFileNotFound, "no durable file '" + std::string(path) + "'");
  }
  Inode& inode = inode_at(found->second.inode);
  if (bit_index / 8 >= durable_size(inode)) {
    return Status(ErrorCode::kInvalidInput, "bit beyond the durable bytes");
  }
  store_durable(inode);
  std::string& durable = *inode.durable;
  durable[bit_index / 8] = static_cast<char>(durable[bit_index / 8] ^ (1 << (bit_index % 8)));
  // The page cache re-reads the damaged sector unless a pending write covers it.
  std::string current = durable;
  for (const PendingOp& op : inode.pending) apply(current, op, op_bytes(inode, op));
  set_current(inode, std::move(current));
  return Status::ok();
}

Status DiskState::flip_random_bit(std::string_view path, Random& random) {
  auto found = durable_entries_.find(path);
  if (found == durable_entries_.end() || found->second.directory) {
    return Status(ErrorCode::kFileNotFound, "no durable file '" + std::string(path) + "'");
  }
  const uint64_t bytes = durable_size(inode_at(found->second.inode));
  if (bytes == 0) return Status(ErrorCode::kInvalidInput, "file has no durable bytes");
  return flip_bit(path, random.below(bytes * 8));
}

std::optional<std::string> DiskState::durable_contents(std::string_view path) const {
  auto found = durable_entries_.find(path);
  if (found == durable_entries_.end() || found->second.directory) return std::nullopt;
  return durable_bytes(inode_at(found->second.inode));
}

std::optional<std::string> DiskState::current_contents(std::string_view path) const {
  auto found = current_entries_.find(path);
  if (found == current_entries_.end() || found->second.directory) return std::nullopt;
  return inode_at(found->second.inode).current;
}

bool DiskState::durably_exists(std::string_view path) const {
  return durable_entries_.contains(path);
}

}  // namespace lockstep::sim
