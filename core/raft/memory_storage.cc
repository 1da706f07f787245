#include "core/raft/memory_storage.h"

#include <string>

namespace lockstep::raft {

MemoryStorage::MemoryStorage() {
  entries_.push_back(Entry{});
}

void MemoryStorage::set_conf_state(const ConfState& conf_state) {
  snapshot_.metadata.conf_state = conf_state;
}

size_t MemoryStorage::offset_of(LogIndex index) const {
  ASSERT(index >= entries_.front().index, "offset_of a compacted index");
  return static_cast<size_t>(index.value() - entries_.front().index.value());
}

std::optional<Term> MemoryStorage::term(LogIndex index) const {
  if (index < entries_.front().index || index > last_index()) return std::nullopt;
  return entries_[offset_of(index)].term;
}

const Entry* MemoryStorage::entry(LogIndex index) const {
  if (index < first_index() || index > last_index()) return nullptr;
  return &entries_[offset_of(index)];
}

std::optional<std::vector<Entry>> MemoryStorage::entries(LogIndex low, LogIndex high,
                                                         uint64_t max_bytes) const {
  if (low < first_index()) return std::nullopt;
  ASSERT(high <= last_index().next(), "entries() beyond the end of the stable log");
  std::vector<Entry> result;
  uint64_t bytes = 0;
  for (LogIndex index = low; index < high; index = index.next()) {
    const Entry& entry = entries_[offset_of(index)];
    bytes += entry.data.size();
    if (!result.empty() && bytes > max_bytes) break;
    result.push_back(entry);
  }
  return result;
}

Status MemoryStorage::apply_snapshot(Snapshot snapshot) {
  if (snapshot.metadata.index < snapshot_.metadata.index) {
    return Status(ErrorCode::kInvalidInput, "snapshot at index " +
                                                std::to_string(snapshot.metadata.index.value()) +
                                                " is older than the one held");
  }
  entries_.clear();
  entries_.push_back(Entry{.term = snapshot.metadata.term, .index = snapshot.metadata.index});
  snapshot_ = std::move(snapshot);
  return Status::ok();
}

Result<Snapshot> MemoryStorage::create_snapshot(LogIndex index, const ConfState& conf_state,
                                                std::string data) {
  if (index <= snapshot_.metadata.index) {
    return Result<Snapshot>(ErrorCode::kInvalidInput, "snapshot index is not newer");
  }
  if (index > last_index()) {
    return Result<Snapshot>(ErrorCode::kInvalidInput, "snapshot index is beyond the log");
  }
  snapshot_.metadata.index = index;
  snapshot_.metadata.term = entries_[offset_of(index)].term;
  snapshot_.metadata.conf_state = conf_state;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::compact(LogIndex index) {
  if (index <= entries_.front().index) return Status::ok();  // already compacted
  if (index > last_index()) {
    return Status(ErrorCode::kInvalidInput, "compact beyond the last index");
  }
  if (index > snapshot_.metadata.index) {
    return Status(ErrorCode::kInvalidInput, "compact beyond the snapshot: entries would be lost");
  }
  const size_t drop = offset_of(index);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  entries_.front().data.clear();
  entries_.front().type = EntryType::kNormal;
  return Status::ok();
}

Status MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::ok();
  const LogIndex first_new = entries.front().index;
  if (first_new > last_index().next()) {
    return Status(ErrorCode::kInvalidInput,
                  "append leaves a gap after index " + std::to_string(last_index().value()));
  }
  // Entries at or below the snapshot are already covered by it.
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index < first_index()) ++skip;
  if (skip == entries.size()) return Status::ok();
  entries_.resize(offset_of(entries[skip].index));
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip),
                  entries.end());
  return Status::ok();
}

}  // namespace lockstep::raft
