#pragma once

#include <cstddef>
#include <cstdint>

namespace lockstep::limits {

// etcd's defaults (etcd 3.4 embed.Config and etcdserver), so behaviour at the edges matches.
inline constexpr size_t kMaxRequestBytesDefault = 1536 * 1024;  // --max-request-bytes, 1.5 MiB
inline constexpr size_t kMaxTxnOpsDefault = 128;                // --max-txn-ops
inline constexpr int64_t kMinLeaseTtlSeconds = 1;
inline constexpr int64_t kMaxLeaseTtlSeconds = 9'000'000'000;   // etcd's MaxLeaseTTL
inline constexpr uint64_t kQuotaBackendBytesDefault = 2ull * 1024 * 1024 * 1024;  // 2 GiB

// Bounds of the simulated and real runtimes.
inline constexpr size_t kMaxMessageBytes = 16 * 1024 * 1024;  // one network message or frame
inline constexpr size_t kMaxFibersPerProcess = 4096;
inline constexpr size_t kFiberStackBytes = 256 * 1024;

}  // namespace lockstep::limits
