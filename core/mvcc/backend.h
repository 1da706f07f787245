#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/revision_key.h"

namespace lockstep::mvcc {

// One record of the key-value bucket: the state of one key after one change, in the spirit of
// etcd's `key` bucket where the bolt key is the revision and the value is the marshalled
// mvccpb.KeyValue. `data` is opaque to the backend (the MVCC layer encodes it with
// key_value_codec.h); the backend only orders records by `revision`.
struct RevisionRecord {
  RevisionKey revision{};
  // A delete writes a tombstone record (etcd appends 't' to the bolt key). Kept beside the
  // data so that a backend can report it without decoding.
  bool tombstone = false;
  std::string data{};

  bool operator==(const RevisionRecord&) const = default;
};

// One record of the lease bucket (etcd's `lease` bucket, leasepb.Lease). `data` is opaque to
// the backend (encoded by the lessor).
struct LeaseRecord {
  LeaseId id{};
  std::string data{};

  bool operator==(const LeaseRecord&) const = default;
};

// Everything one applied Raft entry changes, committed atomically together with
// `consistent_index` (etcd's `meta/consistent_index`). Because the index and the effects
// land in the same atomic commit, a node that crashes and replays its log can skip every
// entry at or below the persisted index and apply the rest exactly once.
struct WriteBatch {
  // The applied Raft index this batch belongs to. Must not go backwards; an empty batch
  // that only advances the index is valid (entries with no store effect, e.g. a failed txn).
  LogIndex consistent_index{};
  // New records of the key-value bucket. A revision never gets written twice.
  std::vector<RevisionRecord> revision_puts{};
  // Revisions removed by compaction (physical removal; the MVCC layer chooses them from its
  // key index so that the latest version of every key at or below the compaction revision
  // stays). Removing a revision that is absent is not an error.
  std::vector<RevisionKey> revision_removals{};
  // Lease bucket: puts replace the record with the same id; removing an absent id is fine.
  std::vector<LeaseRecord> lease_puts{};
  std::vector<LeaseId> lease_removals{};
  // Meta bucket entries by name (e.g. the compaction revisions, see meta_keys.h). A put
  // replaces the previous value.
  std::map<std::string, std::string> meta_puts{};

  bool empty_of_changes() const {
    return revision_puts.empty() && revision_removals.empty() && lease_puts.empty() &&
           lease_removals.empty() && meta_puts.empty();
  }
};

// The persistence interface the MVCC store writes through. Implementations: MemoryBackend
// (tests, simulation without a disk model) and store/'s SQLite backend over the Disk
// interface. The interface is byte-oriented and small on purpose: the MVCC layer owns every
// encoding, the backend owns durability and ordering.
//
// Failure model: reads and commits return a Status/Result because a real disk fails (EIO,
// ENOSPC, corruption); the MVCC layer turns such failures into errors of the request, and
// the node decides whether to crash. A failed commit must leave the backend as it was before
// the commit (all of the batch or none of it).
class Backend {
 public:
  virtual ~Backend() = default;

  // ---- Writes ----

  // Applies `batch` atomically and durably (when this returns ok, a crash keeps the whole
  // batch; when it fails, none of it is visible). ASSERT-level contract: the batch's
  // consistent_index is >= consistent_index().
  virtual Status commit(const WriteBatch& batch) = 0;

  // Bracket the commits of one run of applied Raft entries (the member calls them around the
  // committed entries of one Ready). A backend may then write the whole run as one storage
  // transaction, or share one transaction among several runs (etcd's backend likewise
  // batches many applies into one bolt commit); reads see each commit() at once. If a commit()
  // inside a group or end_group() fails, the commits of the open transaction may be lost and
  // the backend refuses further use: the member must stop and replay them from its Raft log.
  // Default: every commit stands alone.
  virtual Status begin_group() { return Status::ok(); }
  virtual Status end_group() { return Status::ok(); }

  // ---- Reads ----

  // The index of the last committed batch (0 for a fresh backend).
  virtual LogIndex consistent_index() const = 0;

  // One record by revision, or nullopt when absent (never written, or compacted away).
  virtual Result<std::optional<RevisionRecord>> read_revision(RevisionKey revision) const = 0;

  // Records with `from <= revision < until`, ascending, at most `limit` of them (the caller
  // pages by calling again from the last revision's successor). Used to rebuild the key index
  // at boot and by slow watchers catching up on history.
  virtual Result<std::vector<RevisionRecord>> read_revisions(RevisionKey from, RevisionKey until,
                                                             size_t limit) const = 0;

  // All lease records, ascending by id.
  virtual Result<std::vector<LeaseRecord>> read_leases() const = 0;

  // All meta entries.
  virtual Result<std::map<std::string, std::string>> read_meta() const = 0;

  // ---- Size and maintenance ----

  // Bytes the backend occupies (etcd's dbSize, incl. free space not yet returned).
  virtual uint64_t size_bytes() const = 0;
  // Bytes holding live data (etcd's dbSizeInUse). <= size_bytes().
  virtual uint64_t size_in_use_bytes() const = 0;
  // Returns free space (etcd's defragment): afterwards size_bytes() is close to
  // size_in_use_bytes(). Contents are unchanged.
  virtual Status defragment() = 0;

  // ---- Snapshots (Raft InstallSnapshot carries the whole store) ----

  // The complete contents (every bucket and the consistent index) as one byte string in the
  // canonical image format of backend_image.h, so that any backend kind can load an image
  // made by any other (a cluster may mix MemoryBackend and the SQLite backend).
  virtual Result<std::string> dump() const = 0;
  // Replaces the complete contents with `image` (from dump()). Atomic like commit(): on
  // failure (a corrupt or truncated image: kDataCorruption) the previous contents stay.
  virtual Status load(std::string_view image) = 0;
};

}  // namespace lockstep::mvcc
