#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/node/member_config.h"
#include "server/peer_address.h"
#include "server/self_signed_certificate.h"
#include "server/tls_context.h"

namespace lockstep::daemon {

// etcd's limits on the timing flags (etcd embed/config.go: maxElectionMs).
inline constexpr int64_t kMaxElectionTimeoutMs = 50'000;
// etcd 3.4's defaults.
inline constexpr uint64_t kDefaultSnapshotCount = 100'000;
inline constexpr int64_t kDefaultQuotaBackendBytes = 2LL * 1024 * 1024 * 1024;
inline constexpr int64_t kMaxQuotaBackendBytes = 8LL * 1024 * 1024 * 1024;

// `lockstep serve`'s flags, spelled and defaulted as etcd 3.4's.
struct DaemonOptions {
  std::string name = "default";
  std::string data_dir;  // empty: "<name>.etcd", as etcd
  std::string listen_client_urls = "http://localhost:2379";
  std::string advertise_client_urls = "http://localhost:2379";
  std::string listen_peer_urls = "http://localhost:2380";
  std::string initial_advertise_peer_urls = "http://localhost:2380";
  std::string initial_cluster;  // empty: "<name>=<initial-advertise-peer-urls>", as etcd
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "etcd-cluster";
  int64_t heartbeat_interval_ms = 100;
  int64_t election_timeout_ms = 1000;
  uint64_t snapshot_count = kDefaultSnapshotCount;
  int64_t quota_backend_bytes = 0;  // 0: etcd's default (2 GiB)
  uint64_t max_request_bytes = 1536 * 1024;
  uint64_t max_txn_ops = 128;
  // lockstep's own: a separate port for the JSON gateway, /health, /version and /metrics.
  // -1 (the default) serves them on the client port like etcd, when it is plain HTTP.
  int gateway_port = -1;
  // --cert-file, --key-file, --trusted-ca-file, --client-cert-auth: TLS on https client URLs.
  server::TlsFiles client_tls;
  // --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth: TLS
  // between members when the peer URLs are https.
  server::TlsFiles peer_tls;
  // --cipher-suites: Go's TLS 1.2 suite names, comma-separated, for client and peer TLS alike.
  std::string cipher_suites;
  // --auto-tls, --peer-auto-tls: with https URLs and no --cert-file/--key-file (--peer-*), a
  // self-signed certificate made at startup under <data-dir>/fixtures/{client,peer}.
  bool client_auto_tls = false;
  bool peer_auto_tls = false;
};

// One member of --initial-cluster.
struct ClusterMember {
  std::string name;
  std::vector<std::string> peer_urls;
  NodeId id;
};

// The validated plan the daemon runs: every flag checked and every id derived.
struct DaemonPlan {
  std::string name;
  std::string data_dir;
  NodeId self;
  uint64_t cluster_id = 0;
  std::string cluster_token;  // --initial-cluster-token
  std::vector<std::string> advertise_client_urls;
  std::vector<ClusterMember> members;           // ascending by id
  std::map<NodeId, server::PeerAddress> peers;  // every member's first peer URL
  server::PeerAddress listen_peer;
  server::PeerAddress listen_client;
  node::MemberConfig member;
  int gateway_port = -1;
  size_t max_request_bytes = 0;
  // The TLS files in force: empty for http URLs (etcd ignores the files there, with a warning).
  server::TlsFiles client_tls;
  server::TlsFiles peer_tls;
  // --auto-tls, --peer-auto-tls in force: the certificates to make (if missing) before serving;
  // client_tls / peer_tls name their files.
  std::optional<server::SelfSignedCertificate> client_self_signed;
  std::optional<server::SelfSignedCertificate> peer_self_signed;
  // etcd's startup warnings for flags that have no effect (printed by `lockstep serve`).
  std::vector<std::string> warnings;
};

// A URL of the form http://host:port or https://host:port. kInvalidInput otherwise.
Result<server::PeerAddress> parse_http_url(const std::string& url);
bool is_https_url(const std::string& url);

// Checks the flags the way etcd does (with etcd's messages where etcd has one) and derives the
// member ids. Errors are kInvalidInput with a message fit for the command line.
Result<DaemonPlan> plan_daemon(const DaemonOptions& options);

}  // namespace lockstep::daemon
