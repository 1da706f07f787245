#include "server/daemon/etcd_hash_kv.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/crc32c.h"
#include "core/mvcc/key_value_codec.h"
#include "server/api/proto_convert.h"

namespace lockstep::daemon {
namespace {

// Records read per backend call (bounded memory whatever the store's size).
constexpr size_t kHashPageRecords = 1024;

void append_big_endian(std::string& out, int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
}

// etcd's revToBytes (+ appendMarkTombstone): the key of the record in the bolt key bucket.
std::string bolt_key(const mvcc::RevisionRecord& record) {
  std::string key;
  key.reserve(18);
  append_big_endian(key, record.revision.main.value());
  key.push_back('_');
  append_big_endian(key, record.revision.sub);
  if (record.tombstone) key.push_back('t');
  return key;
}

// The bolt value: the marshalled mvccpb.KeyValue; a delete stores KeyValue{Key: key} only.
Result<std::string> bolt_value(const mvcc::RevisionRecord& record,
                               const mvcc::KeyValue& key_value) {
  mvccpb::KeyValue proto;
  if (record.tombstone) {
    proto.set_key(key_value.key);
  } else {
    proto = api::to_proto(key_value);
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    return Error(ErrorCode::kInternal, "mvccpb.KeyValue does not serialize");
  }
  return bytes;
}

// Calls `visit(record, key_value)` for every record with main revision <= `at`, in order.
template <typename Visit>
Status for_each_record(const mvcc::Backend& backend, Revision at, Visit visit) {
  mvcc::RevisionKey from{Revision(0), 0};
  const mvcc::RevisionKey until{at.next(), 0};
  while (true) {
    Result<std::vector<mvcc::RevisionRecord>> page =
        backend.read_revisions(from, until, kHashPageRecords);
    if (!page.is_ok()) return page.error();
    for (const mvcc::RevisionRecord& record : *page) {
      Result<mvcc::KeyValue> key_value = mvcc::decode_key_value(record.data);
      if (!key_value.is_ok()) return key_value.error();
      RETURN_IF_ERROR(visit(record, *key_value));
    }
    if (page->size() < kHashPageRecords) return Status::ok();
    from = mvcc::RevisionKey{page->back().revision.main, page->back().revision.sub + 1};
  }
}

}  // namespace

Result<uint32_t> etcd_hash_kv(const mvcc::Backend& backend, Revision at,
                              Revision compact_revision) {
  // etcd's keep set (kvindex.Keep(at)): the latest revision <= `at` of every key that is live
  // at `at`. hashKV counts a record at or below the compaction revision only if it is in
  // there (unless the set is empty).
  std::map<std::string, mvcc::RevisionRecord> latest;
  RETURN_IF_ERROR(for_each_record(
      backend, at,
      [&](const mvcc::RevisionRecord& record, const mvcc::KeyValue& key_value) -> Status {
        latest[key_value.key] = mvcc::RevisionRecord{record.revision, record.tombstone, {}};
        return Status::ok();
      }));
  std::set<mvcc::RevisionKey> keep;
  for (const auto& [key, record] : latest) {
    if (!record.tombstone) keep.insert(record.revision);
  }
  uint32_t hash = crc32c("key");
  RETURN_IF_ERROR(for_each_record(
      backend, at,
      [&](const mvcc::RevisionRecord& record, const mvcc::KeyValue& key_value) -> Status {
        if (record.revision.main <= compact_revision) {
          // etcd 3.4's compaction removed every tombstone this low (lockstep keeps the one at
          // the compaction revision for resumed watches, etcd#18274).
          if (record.tombstone) return Status::ok();
          if (!keep.empty() && !keep.contains(record.revision)) return Status::ok();
        }
        Result<std::string> value = bolt_value(record, key_value);
        if (!value.is_ok()) return value.error();
        hash = crc32c_extend(hash, bolt_key(record));
        hash = crc32c_extend(hash, *value);
        return Status::ok();
      }));
  return hash;
}

}  // namespace lockstep::daemon
