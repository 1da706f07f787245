#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "server/api/channel_pool.h"
#include "server/api/latency_recorder.h"

namespace lockstep::api {

// The workloads of etcd's own benchmark tool (tools/benchmark), run against any etcd v3
// endpoint: etcd itself or the lockstep daemon.
enum class BenchmarkKind {
  kPut,           // Put of key-size/val-size bytes over a key space
  kRange,         // Range of one key, linearizable (ReadIndex) or serializable (local)
  kTxnPut,        // Txn whose success branch puts txn-ops distinct keys
  kWatchLatency,  // time from issuing a Put to each watcher receiving its event
  // Each client grants one lease, then renews it on one LeaseKeepAlive stream, sending the
  // next keep-alive when the previous answer arrives (one stream per client, as clientv3's
  // KeepAlive and `etcdctl lease keep-alive` use; etcd's benchmark opens a stream per
  // KeepAliveOnce instead, which also times the stream's setup).
  kLeaseKeepAlive,
  kLeaseGrantRevoke,  // LeaseGrant then LeaseRevoke of that lease: two Raft writes per op
};

std::string_view benchmark_kind_name(BenchmarkKind kind);
std::optional<BenchmarkKind> parse_benchmark_kind(std::string_view name);

// Flag names follow etcd's benchmark (--conns, --clients, --total, --key-size, ...).
struct BenchmarkOptions {
  static constexpr int64_t kMaxTotalOperations = 100'000'000;
  static constexpr int kMaxClients = 10'000;
  static constexpr int kMaxConnections = 1'000;
  static constexpr int kMaxWatchers = 10'000;
  static constexpr int kMaxKeySizeBytes = 1024 * 1024;
  static constexpr int kMaxValueSizeBytes = 16 * 1024 * 1024;
  static constexpr int kMaxTxnOperations = 128;                  // etcd's default --max-txn-ops
  static constexpr int64_t kMaxLeaseTtlSeconds = 9'000'000'000;  // etcd's MaxLeaseTTL

  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  int connection_count = 1;
  int client_count = 1;
  int64_t total_operations = 10'000;
  int key_size_bytes = 8;
  int value_size_bytes = 8;
  int64_t key_space_size = 1;
  bool sequential_keys = false;
  uint64_t seed = 1;            // random key choice, per client: seed + client index
  std::string key = "foo";      // the key range and watch-latency use
  bool serializable = false;    // range
  int txn_operation_count = 1;  // txn-put
  // put, range and txn-put: threads that drive the clients' calls (async_closed_loop.h);
  // 0 means one per core. The other workloads run a thread per client.
  int client_thread_count = 0;
  int watcher_count = 10;  // watch-latency: one Watch stream each
  // lease-keepalive and lease-grant-revoke: the TTL asked for (etcd's benchmark uses 100 s,
  // long enough that no lease expires while keep-alives wait for an answer).
  int64_t lease_ttl_seconds = 100;
  std::vector<int> server_pids;  // processes whose max VmRSS is reported
  ChannelTls tls;                // --cacert, --cert, --key
};

// Bad flag values, caught before any connection is made.
Status validate(BenchmarkKind kind, const BenchmarkOptions& options);

struct BenchmarkResult {
  BenchmarkKind kind = BenchmarkKind::kPut;
  BenchmarkOptions options;
  int64_t succeeded = 0;
  int64_t failed = 0;
  double elapsed_seconds = 0;
  double operations_per_second = 0;  // succeeded / elapsed (events/s for watch-latency)
  LatencySummary latency;
  std::map<std::string, int64_t> error_counts;  // "OUT_OF_RANGE: etcdserver: ..." -> count
  std::map<int, int64_t> server_max_resident_set_kib;
};

// Runs one benchmark to completion. Errors are for bad options or endpoints that cannot be
// reached; failed requests during the run are counted in the result instead.
Result<BenchmarkResult> run_benchmark(BenchmarkKind kind, const BenchmarkOptions& options);

// Human-readable summary (several lines) and a one-line JSON summary for scripts.
std::string format_text(const BenchmarkResult& result);
std::string format_json_line(const BenchmarkResult& result);

// The key for index `index`: decimal, zero-padded to exactly key_size_bytes (validate()
// checks the key space fits), so keys sort in index order like etcd's benchmark keys do.
std::string benchmark_key(int64_t index, int key_size_bytes);

}  // namespace lockstep::api
