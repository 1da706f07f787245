#pragma once

#include <map>
#include <string>

#include "core/mvcc/backend.h"

namespace lockstep::mvcc {

// Backend kept in ordered maps: for unit tests and for simulations that do not model a disk.
// Every commit is trivially atomic and durable for the lifetime of the object. Sizes count
// the bytes of keys and values; "free space" is what removals left behind until
// defragment() (mirroring how bbolt keeps freed pages), so size/defragment tests are
// meaningful against it too.
class MemoryBackend final : public Backend {
 public:
  MemoryBackend() = default;

  Status commit(const WriteBatch& batch) override;

  LogIndex consistent_index() const override { return consistent_index_; }
  Result<std::optional<RevisionRecord>> read_revision(RevisionKey revision) const override;
  Result<std::vector<RevisionRecord>> read_revisions(RevisionKey from, RevisionKey until,
                                                     size_t limit) const override;
  Result<std::vector<LeaseRecord>> read_leases() const override;
  Result<std::map<std::string, std::string>> read_meta() const override;

  uint64_t size_bytes() const override { return in_use_bytes_ + free_bytes_; }
  uint64_t size_in_use_bytes() const override { return in_use_bytes_; }
  Status defragment() override;

  Result<std::string> dump() const override;
  Status load(std::string_view image) override;

  // Counts for tests.
  size_t revision_count() const { return revisions_.size(); }
  size_t commit_count() const { return commit_count_; }

 private:
  struct StoredRevision {
    bool tombstone = false;
    std::string data;
  };

  void account_added(uint64_t bytes) { in_use_bytes_ += bytes; }
  void account_removed(uint64_t bytes);

  LogIndex consistent_index_;
  std::map<RevisionKey, StoredRevision> revisions_;
  std::map<LeaseId, std::string> leases_;
  std::map<std::string, std::string> meta_;
  uint64_t in_use_bytes_ = 0;
  uint64_t free_bytes_ = 0;
  size_t commit_count_ = 0;
};

}  // namespace lockstep::mvcc
