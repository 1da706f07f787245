#pragma once

#include <cstdint>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/backend.h"

namespace lockstep::daemon {

// etcd 3.4's Maintenance.HashKV value (mvcc/kvstore.go hashKV), computed over the same data
// so that `etcdctl endpoint hashkv` can compare a lockstep member with another member, or
// with an etcd that applied the same writes: CRC-32C (Castagnoli) of the bucket name "key",
// then, in revision order, every record of etcd's key bucket with main revision <= `at`:
//   - its bolt key: main and sub revision as 8-byte big-endian integers joined by '_', with a
//     trailing 't' for a tombstone;
//   - its bolt value: the marshalled mvccpb.KeyValue (for a tombstone etcd stores only the
//     key).
// A record at or below `compact_revision` counts only if it is in etcd's keep set at `at`
// (each live key's latest revision), and never as a tombstone (etcd 3.4's compaction removed
// those). Checked against etcd 3.4.23 (tests/etcdctl/etcdctl_differential_test.sh).
Result<uint32_t> etcd_hash_kv(const mvcc::Backend& backend, Revision at, Revision compact_revision);

}  // namespace lockstep::daemon
