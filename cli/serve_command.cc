// `lockstep serve`: one member of an etcd-compatible lockstep cluster on real sockets and disk
// (server/daemon), with etcd 3.4's flags. Clients speak etcd's v3 gRPC API on the client URL;
// members speak lockstep's framed TCP protocol on the peer URL.
//
// Compiled to nothing when server/daemon is not part of the build (it needs gRPC): the
// server/daemon CMakeLists defines LOCKSTEP_HAVE_DAEMON when it links itself into the cli.
#ifdef LOCKSTEP_HAVE_DAEMON

#include <cstdio>
#include <memory>

#include "cli/command_registry.h"
#include "server/daemon/daemon.h"

namespace lockstep::cli {
namespace {

void run_serve(const daemon::DaemonOptions& options) {
  Result<daemon::DaemonPlan> plan = daemon::plan_daemon(options);
  if (!plan.is_ok()) {
    std::fprintf(stderr, "lockstep serve: %s\n", plan.error().detail().c_str());
    set_exit_code(2);
    return;
  }
  for (const std::string& warning : plan->warnings) {
    std::fprintf(stderr, "lockstep serve: warning: %s\n", warning.c_str());
  }
  Status stopped = daemon::run_daemon(*plan);
  if (!stopped.is_ok()) {
    std::fprintf(stderr, "lockstep serve: %s\n", stopped.to_string().c_str());
    set_exit_code(1);
  }
}

void add_cluster_flags(CLI::App& command, daemon::DaemonOptions& options) {
  command.add_option("--name", options.name, "Human-readable name for this member")
      ->capture_default_str();
  command.add_option("--data-dir", options.data_dir,
                     "Path to the data directory (default: <name>.etcd)");
  command
      .add_option("--listen-client-urls", options.listen_client_urls,
                  "URL to listen on for client traffic (etcd v3 gRPC); the first is used")
      ->capture_default_str();
  command
      .add_option("--advertise-client-urls", options.advertise_client_urls,
                  "Client URL to advertise to the rest of the cluster")
      ->capture_default_str();
  command
      .add_option("--listen-peer-urls", options.listen_peer_urls,
                  "URL to listen on for peer traffic; the first is used")
      ->capture_default_str();
  command
      .add_option("--initial-advertise-peer-urls", options.initial_advertise_peer_urls,
                  "This member's peer URLs to advertise to the rest of the cluster")
      ->capture_default_str();
  command.add_option("--initial-cluster", options.initial_cluster,
                     "Initial cluster configuration for bootstrapping, name=url,... "
                     "(default: <name>=<initial-advertise-peer-urls>)");
  command
      .add_option("--initial-cluster-state", options.initial_cluster_state,
                  "Initial cluster state ('new' or 'existing')")
      ->capture_default_str();
  command
      .add_option("--initial-cluster-token", options.initial_cluster_token,
                  "Initial cluster token for the etcd cluster during bootstrap (part of every "
                  "member id)")
      ->capture_default_str();
}

void add_tuning_flags(CLI::App& command, daemon::DaemonOptions& options) {
  command
      .add_option("--heartbeat-interval", options.heartbeat_interval_ms,
                  "Time (in milliseconds) of a heartbeat interval")
      ->capture_default_str();
  command
      .add_option("--election-timeout", options.election_timeout_ms,
                  "Time (in milliseconds) for an election to timeout (at least 5x "
                  "--heartbeat-interval, at most 50000)")
      ->capture_default_str();
  command
      .add_option("--snapshot-count", options.snapshot_count,
                  "Number of committed transactions to trigger a snapshot to disk")
      ->capture_default_str();
  command.add_option("--quota-backend-bytes", options.quota_backend_bytes,
                     "Raise alarms when backend size exceeds the given quota (0 defaults to "
                     "low space quota); accepted and validated, not enforced yet");
  command
      .add_option("--max-request-bytes", options.max_request_bytes,
                  "Maximum client request size in bytes the server will accept")
      ->capture_default_str();
  command
      .add_option("--max-txn-ops", options.max_txn_ops,
                  "Maximum number of operations permitted in a transaction")
      ->capture_default_str();
  command
      .add_option("--gateway-port", options.gateway_port,
                  "Separate port for the JSON gateway, /health, /version and /metrics "
                  "(lockstep's own flag); -1 serves them on the client port only, like etcd "
                  "(over TLS too with https client URLs)")
      ->capture_default_str();
}

// etcd's security flags: TLS for clients (https client URLs) and between members (https peer
// URLs).
void add_security_flags(CLI::App& command, daemon::DaemonOptions& options) {
  command.add_option("--cert-file", options.client_tls.cert_file,
                     "Path to the client server TLS cert file");
  command.add_option("--key-file", options.client_tls.key_file,
                     "Path to the client server TLS key file");
  command.add_option("--trusted-ca-file", options.client_tls.trusted_ca_file,
                     "Path to the client server TLS trusted CA cert file");
  command.add_flag("--client-cert-auth", options.client_tls.client_cert_auth,
                   "Enable client cert authentication (needs --trusted-ca-file)");
  command.add_option("--client-crl-file", options.client_tls.crl_file,
                     "Path to the client certificate revocation list file (a revoked client "
                     "certificate is refused; re-read when the file changes)");
  command.add_option("--peer-cert-file", options.peer_tls.cert_file,
                     "Path to the peer server TLS cert file");
  command.add_option("--peer-key-file", options.peer_tls.key_file,
                     "Path to the peer server TLS key file");
  command.add_option("--peer-trusted-ca-file", options.peer_tls.trusted_ca_file,
                     "Path to the peer server TLS trusted CA file");
  command.add_flag("--peer-client-cert-auth", options.peer_tls.client_cert_auth,
                   "Enable peer client cert authentication (needs --peer-trusted-ca-file)");
  command.add_option("--peer-crl-file", options.peer_tls.crl_file,
                     "Path to the peer certificate revocation list file (a member presenting a "
                     "revoked certificate is refused; re-read when the file changes)");
  command.add_option("--cipher-suites", options.cipher_suites,
                     "Comma-separated list of supported TLS 1.2 cipher suites, Go's names "
                     "(e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), for client and peer TLS; "
                     "empty: the defaults");
  command.add_flag("--auto-tls", options.client_auto_tls,
                   "Client TLS using a generated self-signed certificate (in "
                   "<data-dir>/fixtures/client) when --cert-file/--key-file are not given");
  command.add_flag("--peer-auto-tls", options.peer_auto_tls,
                   "Peer TLS using a generated self-signed certificate (in "
                   "<data-dir>/fixtures/peer) when --peer-cert-file/--peer-key-file are not "
                   "given; members then do not verify each other's certificates");
  command.add_option("--peer-cert-allowed-cn", options.peer_tls.allowed_cn,
                     "Allowed CommonName of the other members' peer certificates (etcd's "
                     "--peer-cert-allowed-cn; checked when accepting and when dialling)");
}

void add_serve_command(CLI::App& parent) {
  auto options = std::make_shared<daemon::DaemonOptions>();
  CLI::App* command = parent.add_subcommand(
      "serve", "Run one member of an etcd-compatible lockstep cluster (etcd 3.4's flags)");
  add_cluster_flags(*command, *options);
  add_tuning_flags(*command, *options);
  add_security_flags(*command, *options);
  command->footer(
      "Member ids are etcd's: the first 8 bytes of SHA-1(sorted peer URLs + "
      "--initial-cluster-token).\n"
      "Example (three members on one host, one per terminal; n = 1, 2, 3):\n"
      "  lockstep serve --name m$n --data-dir /tmp/m$n \\\n"
      "    --listen-client-urls http://127.0.0.1:${n}2379 "
      "--advertise-client-urls http://127.0.0.1:${n}2379 \\\n"
      "    --listen-peer-urls http://127.0.0.1:${n}2380 "
      "--initial-advertise-peer-urls http://127.0.0.1:${n}2380 \\\n"
      "    --initial-cluster "
      "m1=http://127.0.0.1:12380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380\n"
      "  ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:12379 put greeting hello\n"
      "SIGTERM or SIGINT stops the member; restart it with the same flags and --data-dir.\n"
      "TLS (as etcd): https client URLs need --cert-file and --key-file (--trusted-ca-file and\n"
      "--client-cert-auth to require client certificates); https peer URLs need --peer-cert-file\n"
      "and --peer-key-file (--peer-trusted-ca-file, --peer-client-cert-auth). Then:\n"
      "  etcdctl --endpoints https://127.0.0.1:12379 --cacert ca.pem --cert client.pem "
      "--key client-key.pem get greeting\n"
      "--auto-tls (--peer-auto-tls) makes a self-signed certificate instead; then:\n"
      "  etcdctl --endpoints https://127.0.0.1:12379 --insecure-skip-tls-verify "
      "--insecure-transport=false get greeting");
  command->callback([options] { run_serve(*options); });
}

const CommandRegistration registration("", "serve", add_serve_command);

}  // namespace
}  // namespace lockstep::cli

#endif  // LOCKSTEP_HAVE_DAEMON
