// `lockstep bench etcd <put|range|txn-put|watch-latency|lease-keepalive|lease-grant-revoke>`:
// etcd's benchmark workloads against any etcd v3 endpoint (etcd itself or the lockstep daemon).
// Prints throughput, latency percentiles and a one-line JSON summary; docs/benchmarks/daemon.md
// records the results.
//
// Compiled to nothing when server/api (which needs gRPC) is not part of the build: the
// server/api CMakeLists defines LOCKSTEP_HAVE_ETCD_API when it links itself into the cli.
#ifdef LOCKSTEP_HAVE_ETCD_API

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "server/api/channel_pool.h"
#include "server/api/etcd_benchmark.h"

namespace lockstep::cli {
namespace {

// Flag values as parsed; `endpoints` stays a string until run time so a bad list is reported
// with the same exit code (2) as other bad input.
struct EtcdBenchFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string consistency = "l";
  std::vector<int> server_pids;
  api::BenchmarkOptions options;
};

void run(api::BenchmarkKind kind, EtcdBenchFlags& flags) {
  if (flags.endpoints.find("https://") != std::string::npos && !flags.options.tls.enabled()) {
    std::fprintf(stderr, "error: https endpoints need --cacert\n");
    set_exit_code(2);
    return;
  }
  Result<std::vector<std::string>> endpoints = api::parse_endpoint_list(flags.endpoints);
  if (!endpoints.is_ok()) {
    std::fprintf(stderr, "error: %s\n", endpoints.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  if (flags.consistency != "l" && flags.consistency != "s") {
    std::fprintf(stderr, "error: --consistency must be l (linearizable) or s (serializable)\n");
    set_exit_code(2);
    return;
  }
  flags.options.endpoints = std::move(endpoints).value();
  flags.options.serializable = flags.consistency == "s";
  flags.options.server_pids = flags.server_pids;
  const Status valid = api::validate(kind, flags.options);
  if (!valid.is_ok()) {
    std::fprintf(stderr, "error: %s\n", valid.to_string().c_str());
    set_exit_code(2);
    return;
  }
  const Result<api::BenchmarkResult> result = api::run_benchmark(kind, flags.options);
  if (!result.is_ok()) {
    std::fprintf(stderr, "error: %s\n", result.error().to_string().c_str());
    set_exit_code(1);
    return;
  }
  std::fputs(api::format_text(*result).c_str(), stdout);
  std::printf("%s\n", api::format_json_line(*result).c_str());
  // Failed requests make the numbers suspect; say so in the exit code, keep the numbers.
  if (result->failed > 0) set_exit_code(1);
}

void add_common_flags(CLI::App& command, EtcdBenchFlags& flags) {
  api::BenchmarkOptions& options = flags.options;
  command.add_option("--endpoints", flags.endpoints, "Comma-separated host:port list")
      ->capture_default_str();
  command.add_option("--conns", options.connection_count, "gRPC connections (TCP) to open")
      ->capture_default_str();
  command.add_option("--clients", options.client_count, "Concurrent clients sharing the conns")
      ->capture_default_str();
  command.add_option("--total", options.total_operations, "Requests to send in all")
      ->capture_default_str();
  command.add_option("--key-size", options.key_size_bytes, "Key size in bytes")
      ->capture_default_str();
  command.add_option("--val-size", options.value_size_bytes, "Value size in bytes")
      ->capture_default_str();
  command.add_option("--key-space-size", options.key_space_size, "Distinct keys to write")
      ->capture_default_str();
  command.add_flag("--sequential-keys", options.sequential_keys,
                   "Write keys in order instead of at random");
  command.add_option("--seed", options.seed, "Seed of the random key choice")
      ->capture_default_str();
  command
      .add_option("--client-threads", options.client_thread_count,
                  "put, range, txn-put: threads driving the clients' calls (0: one per core)")
      ->capture_default_str();
  command.add_option("--server-pid", flags.server_pids,
                     "Server process(es) whose max VmRSS to report (repeatable)");
  command.add_option("--cacert", options.tls.ca_file,
                     "Verify the servers' certificates with this CA bundle (enables TLS)");
  // etcdctl's --key is taken here by the key range and watch-latency use.
  command.add_option("--cert", options.tls.cert_file, "Client certificate (with --cert-key)");
  command.add_option("--cert-key", options.tls.key_file, "Client certificate's key (with --cert)");
}

void add_etcd_bench_command(CLI::App& parent) {
  CLI::App* etcd = parent.add_subcommand(
      "etcd",
      "etcd's benchmark workloads against any etcd v3 endpoint (etcd or the lockstep daemon).\n"
      "Example: lockstep bench etcd put --endpoints 127.0.0.1:2379 --conns 10 --clients 100 "
      "--total 20000 --key-size 8 --val-size 256 --key-space-size 100000");
  etcd->require_subcommand(1);
  // The flags outlive parsing: the callbacks run after CLI11 has filled them in.
  static EtcdBenchFlags flags;

  CLI::App* put = etcd->add_subcommand("put", "Put random (or --sequential-keys) keys");
  add_common_flags(*put, flags);
  put->callback([] { run(api::BenchmarkKind::kPut, flags); });

  CLI::App* range = etcd->add_subcommand("range", "Range one key, linearizable or serializable");
  add_common_flags(*range, flags);
  range->add_option("--key", flags.options.key, "The key to read (written once first)")
      ->capture_default_str();
  range->add_option("--consistency", flags.consistency, "l (linearizable) or s (serializable)")
      ->capture_default_str();
  range->callback([] { run(api::BenchmarkKind::kRange, flags); });

  CLI::App* txn_put = etcd->add_subcommand("txn-put", "Txn whose success branch puts keys");
  add_common_flags(*txn_put, flags);
  txn_put->add_option("--txn-ops", flags.options.txn_operation_count, "Puts per txn")
      ->capture_default_str();
  txn_put->callback([] { run(api::BenchmarkKind::kTxnPut, flags); });

  CLI::App* watch = etcd->add_subcommand(
      "watch-latency", "Time from issuing a put to each watcher receiving its event");
  add_common_flags(*watch, flags);
  watch->add_option("--key", flags.options.key, "The key to watch and put")->capture_default_str();
  watch->add_option("--watchers", flags.options.watcher_count, "Watch streams on the key")
      ->capture_default_str();
  watch->callback([] { run(api::BenchmarkKind::kWatchLatency, flags); });

  CLI::App* keep_alive = etcd->add_subcommand(
      "lease-keepalive",
      "Each client grants a lease, then renews it on one keep-alive stream, closed loop");
  add_common_flags(*keep_alive, flags);
  keep_alive->add_option("--ttl", flags.options.lease_ttl_seconds, "Lease TTL in seconds")
      ->capture_default_str();
  keep_alive->callback([] { run(api::BenchmarkKind::kLeaseKeepAlive, flags); });

  CLI::App* grant_revoke = etcd->add_subcommand(
      "lease-grant-revoke", "Grant a lease and revoke it (one operation: two Raft writes)");
  add_common_flags(*grant_revoke, flags);
  grant_revoke->add_option("--ttl", flags.options.lease_ttl_seconds, "Lease TTL in seconds")
      ->capture_default_str();
  grant_revoke->callback([] { run(api::BenchmarkKind::kLeaseGrantRevoke, flags); });
}

const CommandRegistration registration("bench", "etcd", add_etcd_bench_command);

}  // namespace
}  // namespace lockstep::cli

#endif  // LOCKSTEP_HAVE_ETCD_API
