#include "core/mvcc/memory_backend.h"

#include "core/mvcc/backend_image.h"

namespace lockstep::mvcc {
namespace {

// Per-record overhead counted in the size, standing in for the revision key (etcd: 17 bytes)
// and page bookkeeping, so empty values still occupy space.
constexpr uint64_t kRecordOverheadBytes = 17;

uint64_t revision_bytes(const std::string& data) {
  return kRecordOverheadBytes + data.size();
}

}  // namespace

void MemoryBackend::account_removed(uint64_t bytes) {
  ASSERT(in_use_bytes_ >= bytes, "removing more bytes than were ever added");
  in_use_bytes_ -= bytes;
  free_bytes_ += bytes;
}

Status MemoryBackend::commit(const WriteBatch& batch) {
  ASSERT(batch.consistent_index >= consistent_index_,
         "the applied index only moves forward (a replayed entry must be skipped by the caller)");
  for (const RevisionRecord& record : batch.revision_puts) {
    auto [it, inserted] =
        revisions_.emplace(record.revision, StoredRevision{record.tombstone, record.data});
    ASSERT(inserted, "a revision is written once: revisions never get reused");
    account_added(revision_bytes(it->second.data));
  }
  for (const RevisionKey& revision : batch.revision_removals) {
    auto it = revisions_.find(revision);
    if (it == revisions_.end()) continue;
    account_removed(revision_bytes(it->second.data));
    revisions_.erase(it);
  }
  for (const LeaseRecord& lease : batch.lease_puts) {
    auto it = leases_.find(lease.id);
    if (it != leases_.end()) account_removed(kRecordOverheadBytes + it->second.size());
    leases_[lease.id] = lease.data;
    account_added(kRecordOverheadBytes + lease.data.size());
  }
  for (LeaseId id : batch.lease_removals) {
    auto it = leases_.find(id);
    if (it == leases_.end()) continue;
    account_removed(kRecordOverheadBytes + it->second.size());
    leases_.erase(it);
  }
  for (const auto& [name, value] : batch.meta_puts) meta_[name] = value;
  consistent_index_ = batch.consistent_index;
  ++commit_count_;
  return Status::ok();
}

Result<std::optional<RevisionRecord>> MemoryBackend::read_revision(RevisionKey revision) const {
  auto it = revisions_.find(revision);
  if (it == revisions_.end()) return std::optional<RevisionRecord>();
  return std::optional<RevisionRecord>(
      RevisionRecord{revision, it->second.tombstone, it->second.data});
}

Result<std::vector<RevisionRecord>> MemoryBackend::read_revisions(RevisionKey from,
                                                                  RevisionKey until,
                                                                  size_t limit) const {
  std::vector<RevisionRecord> records;
  for (auto it = revisions_.lower_bound(from);
       it != revisions_.end() && it->first < until && records.size() < limit; ++it) {
    records.push_back(RevisionRecord{it->first, it->second.tombstone, it->second.data});
  }
  return records;
}

Result<std::vector<LeaseRecord>> MemoryBackend::read_leases() const {
  std::vector<LeaseRecord> leases;
  leases.reserve(leases_.size());
  for (const auto& [id, data] : leases_) leases.push_back(LeaseRecord{id, data});
  return leases;
}

Result<std::map<std::string, std::string>> MemoryBackend::read_meta() const {
  return meta_;
}

Status MemoryBackend::defragment() {
  free_bytes_ = 0;
  return Status::ok();
}

Result<std::string> MemoryBackend::dump() const {
  Result<BackendImage> image = read_backend_image(*this);
  if (!image.is_ok()) return image.error();
  return encode_backend_image(*image);
}

Status MemoryBackend::load(std::string_view bytes) {
  Result<BackendImage> image = decode_backend_image(bytes);
  if (!image.is_ok()) return image.error();
  // Decoding succeeded, so nothing below can fail: the swap is all-or-nothing.
  std::map<RevisionKey, StoredRevision> revisions;
  std::map<LeaseId, std::string> leases;
  uint64_t in_use_bytes = 0;
  for (RevisionRecord& record : image->revisions) {
    in_use_bytes += revision_bytes(record.data);
    revisions.emplace(record.revision, StoredRevision{record.tombstone, std::move(record.data)});
  }
  for (LeaseRecord& lease : image->leases) {
    in_use_bytes += kRecordOverheadBytes + lease.data.size();
    leases.emplace(lease.id, std::move(lease.data));
  }
  revisions_ = std::move(revisions);
  leases_ = std::move(leases);
  meta_ = std::move(image->meta);
  consistent_index_ = image->consistent_index;
  in_use_bytes_ = in_use_bytes;
  free_bytes_ = 0;
  return Status::ok();
}

}  // namespace lockstep::mvcc
