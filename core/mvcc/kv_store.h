#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/event.h"
#include "core/mvcc/key_index.h"
#include "core/mvcc/key_value.h"

namespace lockstep::mvcc {

// Options of a raw MVCC range (etcd mvcc.RangeOptions); sorting and filters live above.
struct RangeOptions {
  int64_t limit = 0;  // 0 = no limit
  Revision revision;  // <= 0: the current revision
  bool count_only = false;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  Revision revision;  // the store's current revision (etcd reports it, not the read revision)
  int64_t count = 0;  // keys in the range at the read revision, ignoring the limit
};

// etcd's mvcc store: the revision clock, the key index and the key-value records, written
// through a Backend. Every write goes through a WriteTxn, which gets one main revision for
// all of its changes (sub revisions 0, 1, ... inside it) and bumps the store revision only
// if it changed something (etcd storeTxnWrite.End).
//
// A fresh store is at revision 1 and the first write gets revision 2, as in etcd.
class KvStore {
 public:
  class WriteTxn;

  explicit KvStore(Backend& backend) : backend_(backend) {}
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // Rebuilds the key index and revisions from the backend (boot, snapshot install).
  Status restore();

  Revision current_revision() const { return current_revision_; }
  // The last compaction revision, or -1 when the store was never compacted (etcd's
  // compactMainRev starts at -1).
  Revision compact_revision() const { return compact_revision_; }

  // A read at options.revision (etcd rangeKeys): kFutureRevision beyond the current
  // revision, kCompacted below the compaction revision.
  Result<RangeResult> range(const KeyRange& range, const RangeOptions& options) const;

  // Compacts at `revision` (etcd kvstore.Compact): kCompacted if at or below the previous
  // compaction revision, kFutureRevision beyond the current revision. The physical removals
  // and the new compaction revision go into `batch`.
  Status compact(Revision revision, WriteBatch& batch);

  // History for watchers: the events of revisions in [from, until), ascending, reading at
  // most `max_records` backend records (never splitting a revision unless one revision alone
  // exceeds it). `next` receives the first revision not yet returned. prev_kv is not filled.
  Result<std::vector<Event>> history(Revision from, Revision until, size_t max_records,
                                     Revision& next) const;

  // The KeyValue stored at `revision` (a live record), read from the backend.
  Result<KeyValue> read_key_value(RevisionKey revision) const;

  // Keys that exist now with their current KeyValue (boot-time rebuild of lease attachments).
  Result<std::vector<KeyValue>> live_key_values() const;

  size_t key_count() const { return index_.key_count(); }

  // etcd's HashKV: a checksum of the key-value history up to `at` (0 = current), so that
  // members can be compared for divergence at the same revision (etcd's corruption check).
  // Members that applied the same entries hold the same records (compaction is part of the
  // apply), so equal states give equal hashes. kFutureRevision / kCompacted as for a range.
  struct HashKv {
    uint32_t hash = 0;
    Revision revision;          // the revision hashed up to
    Revision compact_revision;  // the compaction revision the hash starts from
  };
  Result<HashKv> hash_kv(Revision at) const;

 private:
  friend class WriteTxn;

  Result<RangeResult> range_at(const KeyRange& range, const RangeOptions& options, Revision current,
                               const std::map<RevisionKey, KeyValue>* pending) const;

  Backend& backend_;
  KeyIndex index_;
  Revision current_revision_{1};
  Revision compact_revision_{-1};
};

// One write transaction. Reads inside it see its own earlier writes (etcd storeTxnWrite reads
// at beginRev+1 once it has changes). Records go into the caller's WriteBatch; nothing is
// visible to other readers of the backend until the caller commits that batch.
class KvStore::WriteTxn {
 public:
  WriteTxn(KvStore& store, WriteBatch& batch);
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;

  // The revision this transaction reads at (and writes at, once it has changes).
  Revision revision() const;

  Result<RangeResult> range(const KeyRange& range, const RangeOptions& options) const;
  // Writes `key` and returns the previous KeyValue if the key existed.
  Result<std::optional<KeyValue>> put(const std::string& key, const std::string& value,
                                      LeaseId lease);
  // Deletes the keys of `range` (tombstones) and returns their previous KeyValues.
  Result<std::vector<KeyValue>> delete_range(const KeyRange& range);

  // Every change so far, in order; each with prev_kv (the version it replaced, if any).
  const std::vector<Event>& changes() const { return changes_; }

  // Ends the transaction: the store revision moves to revision() if anything changed.
  // Returns the store revision afterwards.
  Revision end();

 private:
  RevisionKey next_revision() const;

  KvStore& store_;
  WriteBatch& batch_;
  Revision begin_revision_;
  std::vector<Event> changes_;
  std::map<RevisionKey, KeyValue> pending_;  // written but not yet committed to the backend
  bool ended_ = false;
};

}  // namespace lockstep::mvcc
