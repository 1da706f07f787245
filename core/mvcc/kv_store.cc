#include "core/mvcc/kv_store.h"

#include <algorithm>

#include "core/base/crc32c.h"
#include "core/mvcc/byte_codec.h"
#include "core/mvcc/key_value_codec.h"
#include "core/mvcc/meta_keys.h"

namespace lockstep::mvcc {
namespace {

// Records read per backend call while rebuilding the index at boot.
constexpr size_t kRestorePageRecords = 4096;

constexpr RevisionKey kFirstRevisionKey{Revision(0), 0};
constexpr RevisionKey kPastLastRevisionKey{Revision(INT64_MAX), INT64_MAX};

}  // namespace

// ---- KvStore ----

Status KvStore::restore() {
  KeyIndex index;
  Revision current{1};
  Revision compact{-1};
  Result<std::map<std::string, std::string>> meta = backend_.read_meta();
  if (!meta.is_ok()) return meta.error();
  if (auto it = meta->find(std::string(kMetaCompactRevision)); it != meta->end()) {
    Result<Revision> decoded = decode_meta_revision(it->second);
    if (!decoded.is_ok()) return decoded.error();
    compact = *decoded;
  }
  RevisionKey from = kFirstRevisionKey;
  while (true) {
    Result<std::vector<RevisionRecord>> page =
        backend_.read_revisions(from, kPastLastRevisionKey, kRestorePageRecords);
    if (!page.is_ok()) return page.error();
    for (const RevisionRecord& record : *page) {
      Result<KeyValue> key_value = decode_key_value(record.data);
      if (!key_value.is_ok()) return key_value.error();
      current = std::max(current, record.revision.main);
      if (record.tombstone && !index.contains(key_value->key)) {
        // A key's surviving history starts with a tombstone only when a compaction at exactly
        // its revision kept it (KeyHistory::compact); etcd forgot such a tombstone at boot and
        // lost the delete event after a restart (etcd-io/etcd#19179, fixed by #19188).
        if (record.revision.main != compact) {
          return Error(ErrorCode::kDataCorruption, "tombstone for a key that does not exist");
        }
        index.restore_tombstone(key_value->key, record.revision);
      } else if (record.tombstone) {
        // Two tombstones in a row: the key was already deleted.
        if (!index.get(key_value->key, Revision(INT64_MAX)).has_value()) {
          return Error(ErrorCode::kDataCorruption, "tombstone for a key that does not exist");
        }
        index.tombstone(key_value->key, record.revision);
      } else if (!index.contains(key_value->key)) {
        // The oldest surviving record of a key: compaction may have removed the start of its
        // generation, so creation and version come from the record (etcd keyIndex.restore).
        index.restore(key_value->key, RevisionKey{key_value->create_revision, 0}, record.revision,
                      key_value->version);
      } else {
        index.put(key_value->key, record.revision);
      }
    }
    if (page->size() < kRestorePageRecords) break;
    from = RevisionKey{page->back().revision.main, page->back().revision.sub + 1};
  }
  // The revision is at least the compaction revision (etcd kvstore.restore does the same):
  // compaction keeps every record at its revision now, but a backend written before that
  // (or by etcd before #18274) may lack a tombstone at the compaction revision.
  current = std::max(current, compact);
  index_ = std::move(index);
  current_revision_ = current;
  compact_revision_ = compact;
  return Status::ok();
}

Result<RangeResult> KvStore::range(const KeyRange& range, const RangeOptions& options) const {
  return range_at(range, options, current_revision_, nullptr);
}

Result<RangeResult> KvStore::range_at(const KeyRange& range, const RangeOptions& options,
                                      Revision current,
                                      const std::map<RevisionKey, KeyValue>* pending) const {
  Revision at = options.revision;
  if (at <= Revision(0)) at = current;
  if (at > current) return Error(ErrorCode::kFutureRevision);
  if (at < compact_revision_) return Error(ErrorCode::kCompacted);
  RangeResult result;
  result.revision = current;
  const int64_t limit = options.count_only ? 0 : options.limit;
  std::vector<KeyIndex::Entry> entries = index_.range(range, at, limit, result.count);
  if (options.count_only) return result;
  result.kvs.reserve(entries.size());
  for (const KeyIndex::Entry& entry : entries) {
    if (pending != nullptr) {
      auto it = pending->find(entry.version.modified);
      if (it != pending->end()) {
        result.kvs.push_back(it->second);
        continue;
      }
    }
    Result<KeyValue> key_value = read_key_value(entry.version.modified);
    if (!key_value.is_ok()) return key_value.error();
    result.kvs.push_back(std::move(*key_value));
  }
  return result;
}

Result<KeyValue> KvStore::read_key_value(RevisionKey revision) const {
  Result<std::optional<RevisionRecord>> record = backend_.read_revision(revision);
  if (!record.is_ok()) return record.error();
  if (!record->has_value()) {
    // The index names this revision, so the backend must hold it.
    return Error(ErrorCode::kDataCorruption, "indexed revision missing from the backend");
  }
  return decode_key_value((*record)->data);
}

Status KvStore::compact(Revision revision, WriteBatch& batch) {
  if (revision <= compact_revision_) return Error(ErrorCode::kCompacted);
  if (revision > current_revision_) return Error(ErrorCode::kFutureRevision);
  index_.compact(revision, batch.revision_removals);
  std::sort(batch.revision_removals.begin(), batch.revision_removals.end());
  batch.meta_puts[std::string(kMetaCompactRevision)] = encode_meta_revision(revision);
  compact_revision_ = revision;
  return Status::ok();
}

Result<std::vector<Event>> KvStore::history(Revision from, Revision until, size_t max_records,
                                            Revision& next) const {
  ASSERT(max_records > 0, "a history read must be able to make progress");
  std::vector<Event> events;
  next = from;
  if (from >= until) return events;
  // Read one record past the budget so a revision cut by the page can be detected.
  Result<std::vector<RevisionRecord>> records =
      backend_.read_revisions(RevisionKey{from, 0}, RevisionKey{until, 0}, max_records + 1);
  if (!records.is_ok()) return records.error();
  size_t usable = records->size();
  if (usable > max_records) {
    // Drop the records of the last, possibly incomplete revision, unless it is the only one
    // (then read it whole: one revision is never split).
    const Revision cut = (*records)[max_records].revision.main;
    size_t first_of_cut = max_records;
    while (first_of_cut > 0 && (*records)[first_of_cut - 1].revision.main == cut) --first_of_cut;
    if (first_of_cut == 0) {
      records = backend_.read_revisions(RevisionKey{cut, 0}, RevisionKey{cut.next(), 0}, SIZE_MAX);
      if (!records.is_ok()) return records.error();
      usable = records->size();
      next = cut.next();
    } else {
      usable = first_of_cut;
      next = cut;
    }
  } else {
    next = until;
  }
  events.reserve(usable);
  for (size_t index = 0; index < usable; ++index) {
    const RevisionRecord& record = (*records)[index];
    Result<KeyValue> key_value = decode_key_value(record.data);
    if (!key_value.is_ok()) return key_value.error();
    Event event;
    if (record.tombstone) {
      event.type = EventType::kDelete;
      event.kv.key = std::move(key_value->key);
      event.kv.mod_revision = record.revision.main;
    } else {
      event.type = EventType::kPut;
      event.kv = std::move(*key_value);
    }
    events.push_back(std::move(event));
  }
  return events;
}

Result<std::vector<KeyValue>> KvStore::live_key_values() const {
  std::vector<KeyValue> result;
  std::vector<RevisionKey> revisions;
  index_.for_each_live([&](const std::string&, const KeyHistory& history) {
    revisions.push_back(history.last_modified());
  });
  result.reserve(revisions.size());
  for (const RevisionKey& revision : revisions) {
    Result<KeyValue> key_value = read_key_value(revision);
    if (!key_value.is_ok()) return key_value.error();
    result.push_back(std::move(*key_value));
  }
  return result;
}

Result<KvStore::HashKv> KvStore::hash_kv(Revision at) const {
  if (at <= Revision(0)) at = current_revision_;
  if (at > current_revision_) return Error(ErrorCode::kFutureRevision);
  if (at < compact_revision_) return Error(ErrorCode::kCompacted);
  HashKv result;
  result.revision = at;
  result.compact_revision = compact_revision_;
  uint32_t hash = 0;
  RevisionKey from = kFirstRevisionKey;
  const RevisionKey until{at.next(), 0};
  while (true) {
    Result<std::vector<RevisionRecord>> page =
        backend_.read_revisions(from, until, kRestorePageRecords);
    if (!page.is_ok()) return page.error();
    for (const RevisionRecord& record : *page) {
      ByteWriter header;
      header.put_signed(record.revision.main.value());
      header.put_signed(record.revision.sub);
      header.put_varint(record.tombstone ? 1 : 0);
      header.put_varint(record.data.size());
      hash = crc32c_extend(hash, header.bytes());
      hash = crc32c_extend(hash, record.data);
    }
    if (page->size() < kRestorePageRecords) break;
    from = RevisionKey{page->back().revision.main, page->back().revision.sub + 1};
  }
  result.hash = hash;
  return result;
}

// ---- WriteTxn ----

KvStore::WriteTxn::WriteTxn(KvStore& store, WriteBatch& batch)
    : store_(store), batch_(batch), begin_revision_(store.current_revision_) {}

Revision KvStore::WriteTxn::revision() const {
  return changes_.empty() ? begin_revision_ : begin_revision_.next();
}

RevisionKey KvStore::WriteTxn::next_revision() const {
  return RevisionKey{begin_revision_.next(), static_cast<int64_t>(changes_.size())};
}

Result<RangeResult> KvStore::WriteTxn::range(const KeyRange& range,
                                             const RangeOptions& options) const {
  ASSERT(!ended_, "a transaction is not used after end()");
  return store_.range_at(range, options, revision(), &pending_);
}

Result<std::optional<KeyValue>> KvStore::WriteTxn::put(const std::string& key,
                                                       const std::string& value, LeaseId lease) {
  ASSERT(!ended_, "a transaction is not used after end()");
  const RevisionKey revision = next_revision();
  std::optional<KeyValue> previous;
  if (auto version = store_.index_.get(key, revision.main)) {
    auto it = pending_.find(version->modified);
    if (it != pending_.end()) {
      previous = it->second;
    } else {
      Result<KeyValue> read = store_.read_key_value(version->modified);
      if (!read.is_ok()) return read.error();
      previous = std::move(*read);
    }
  }
  KeyValue key_value;
  key_value.key = key;
  key_value.create_revision = previous ? previous->create_revision : revision.main;
  key_value.mod_revision = revision.main;
  key_value.version = previous ? previous->version + 1 : 1;
  key_value.value = value;
  key_value.lease = lease;

  store_.index_.put(key, revision);
  batch_.revision_puts.push_back(RevisionRecord{revision, false, encode_key_value(key_value)});
  pending_.emplace(revision, key_value);
  changes_.push_back(Event{EventType::kPut, std::move(key_value), previous});
  return previous;
}

Result<std::vector<KeyValue>> KvStore::WriteTxn::delete_range(const KeyRange& range) {
  ASSERT(!ended_, "a transaction is not used after end()");
  Result<RangeResult> existing = this->range(range, RangeOptions{});
  if (!existing.is_ok()) return existing.error();
  for (const KeyValue& previous : existing->kvs) {
    const RevisionKey revision = next_revision();
    // etcd stores a tombstone as a KeyValue holding only the key.
    KeyValue tombstone;
    tombstone.key = previous.key;
    store_.index_.tombstone(previous.key, revision);
    batch_.revision_puts.push_back(RevisionRecord{revision, true, encode_key_value(tombstone)});
    tombstone.mod_revision = revision.main;
    changes_.push_back(Event{EventType::kDelete, std::move(tombstone), previous});
  }
  return std::move(existing->kvs);
}

Revision KvStore::WriteTxn::end() {
  ASSERT(!ended_, "end() once");
  ended_ = true;
  if (!changes_.empty()) store_.current_revision_ = begin_revision_.next();
  return store_.current_revision_;
}

}  // namespace lockstep::mvcc
