#include "server/daemon/daemon_options.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "server/daemon/member_id.h"

namespace lockstep::daemon {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidInput, std::move(message));
}

// etcd embed/config.go Validate(): the timing rules and their messages.
Status validate_timing(const DaemonOptions& options) {
  if (options.heartbeat_interval_ms <= 0) {
    return invalid("--heartbeat-interval must be >0 (set to " +
                   std::to_string(options.heartbeat_interval_ms) + "ms)");
  }
  if (options.election_timeout_ms <= 0) {
    return invalid("--election-timeout must be >0 (set to " +
                   std::to_string(options.election_timeout_ms) + "ms)");
  }
  if (5 * options.heartbeat_interval_ms > options.election_timeout_ms) {
    return invalid("--election-timeout[" + std::to_string(options.election_timeout_ms) +
                   "ms] should be at least as 5 times as --heartbeat-interval[" +
                   std::to_string(options.heartbeat_interval_ms) + "ms]");
  }
  if (options.election_timeout_ms > kMaxElectionTimeoutMs) {
    return invalid("--election-timeout[" + std::to_string(options.election_timeout_ms) +
                   "ms] is too long, and should be set less than " +
                   std::to_string(kMaxElectionTimeoutMs) + "ms");
  }
  return Status::ok();
}

Status validate_limits(const DaemonOptions& options) {
  if (options.initial_cluster_state != "new" && options.initial_cluster_state != "existing") {
    return invalid("invalid value \"" + options.initial_cluster_state +
                   "\" for flag -initial-cluster-state: valid values are \"new\", \"existing\"");
  }
  if (options.snapshot_count == 0) return invalid("--snapshot-count must be >0");
  if (options.max_txn_ops == 0) return invalid("--max-txn-ops must be >0");
  if (options.max_request_bytes == 0) return invalid("--max-request-bytes must be >0");
  if (options.quota_backend_bytes < 0) return invalid("--quota-backend-bytes must be >=0");
  if (options.quota_backend_bytes > kMaxQuotaBackendBytes) {
    // etcd 3.4 warns and carries on; refusing is clearer than a silent cap.
    return invalid("--quota-backend-bytes " + std::to_string(options.quota_backend_bytes) +
                   " exceeds the maximum " + std::to_string(kMaxQuotaBackendBytes));
  }
  if (options.name.empty()) return invalid("--name must not be empty");
  return Status::ok();
}

// "infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:2380"; a name may repeat to give one
// member several peer URLs (etcd's types.NewURLsMap).
Result<std::vector<ClusterMember>> parse_initial_cluster(const std::string& text,
                                                         const std::string& token) {
  std::map<std::string, std::vector<std::string>> urls_by_name;
  for (const std::string& entry : split(text, ',')) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      return invalid("--initial-cluster: \"" + entry + "\" is not name=url");
    }
    const std::string url = entry.substr(equals + 1);
    Result<server::PeerAddress> address = parse_http_url(url);
    if (!address.is_ok()) return address.error();
    urls_by_name[entry.substr(0, equals)].push_back(url);
  }
  if (urls_by_name.empty()) return invalid("--initial-cluster must not be empty");
  std::vector<ClusterMember> members;
  for (auto& [name, urls] : urls_by_name) {
    const NodeId id = compute_member_id(urls, token);
    for (const ClusterMember& other : members) {
      if (other.id == id) {
        return invalid("--initial-cluster: members " + other.name + " and " + name +
                       " have the same peer URLs");
      }
    }
    members.push_back(ClusterMember{name, urls, id});
  }
  std::sort(members.begin(), members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.id < b.id; });
  return members;
}

// etcd etcdserver/config.go: the member's own entry must be in --initial-cluster with the same
// URLs as --initial-advertise-peer-urls.
Result<NodeId> find_self(const DaemonOptions& options, const std::vector<ClusterMember>& members) {
  std::vector<std::string> advertised = split(options.initial_advertise_peer_urls, ',');
  std::sort(advertised.begin(), advertised.end());
  for (const ClusterMember& member : members) {
    if (member.name != options.name) continue;
    std::vector<std::string> listed = member.peer_urls;
    std::sort(listed.begin(), listed.end());
    if (listed != advertised) {
      return invalid(
          "--initial-cluster has " + options.name + "=" + member.peer_urls.front() +
          " but missing from --initial-advertise-peer-urls=" + options.initial_advertise_peer_urls);
    }
    return member.id;
  }
  return invalid("couldn't find local name \"" + options.name +
                 "\" in the initial cluster configuration");
}

Result<server::PeerAddress> first_url(const std::string& flag, const std::string& urls) {
  std::vector<std::string> parts = split(urls, ',');
  if (parts.empty()) return invalid(flag + " must not be empty");
  for (const std::string& url : parts) {
    Result<server::PeerAddress> address = parse_http_url(url);
    if (!address.is_ok()) return invalid(flag + ": " + address.error().detail());
  }
  return parse_http_url(parts.front());
}

// etcd embed/config.go ClientSelfCert/PeerSelfCert: with --auto-tls (--peer-auto-tls) and no
// key pair, a self-signed certificate for the hosts of the listen URLs, under
// <data-dir>/fixtures/<kind>. Only for https URLs: on http ones it would be ignored anyway.
std::optional<server::SelfSignedCertificate> plan_self_signed(bool auto_tls,
                                                              const std::vector<std::string>& urls,
                                                              server::TlsFiles& files,
                                                              const std::string& kind,
                                                              DaemonPlan& plan) {
  if (!auto_tls) return std::nullopt;
  if (!files.empty()) {
    plan.warnings.push_back("ignoring " + kind + " auto TLS since certs given");
    return std::nullopt;
  }
  if (urls.empty() || !is_https_url(urls.front())) return std::nullopt;
  server::SelfSignedCertificate wanted;
  const std::string directory = plan.data_dir + "/fixtures/" + kind;
  wanted.cert_file = directory + "/cert.pem";
  wanted.key_file = directory + "/key.pem";
  for (const std::string& url : urls) {
    Result<server::PeerAddress> address = parse_http_url(url);
    if (address.is_ok()) wanted.hosts.push_back(address->host);
  }
  files.cert_file = wanted.cert_file;
  files.key_file = wanted.key_file;
  return wanted;
}

// etcd embed/etcd.go configureClientListeners: an https client URL needs a key pair; the
// files are ignored, with a warning, for an http one. lockstep serves the first URL only.
Status plan_client_tls(const DaemonOptions& options, DaemonPlan& plan) {
  const std::vector<std::string> urls = split(options.listen_client_urls, ',');
  server::TlsFiles files = options.client_tls;
  plan.client_self_signed = plan_self_signed(options.client_auto_tls, urls, files, "client", plan);
  for (const std::string& url : urls) {
    if (!is_https_url(url)) {
      if (!files.empty()) {
        plan.warnings.push_back("The scheme of client url " + url +
                                " is HTTP while key/cert files are presented. Ignored key/cert "
                                "files.");
      }
      if (files.client_cert_auth) {
        plan.warnings.push_back("The scheme of client url " + url +
                                " is HTTP while client cert auth (--client-cert-auth) is "
                                "enabled. Ignored client cert auth for this url.");
      }
    } else if (files.empty()) {
      return invalid("TLS key/cert (--cert-file, --key-file) must be provided for client url " +
                     url + " with HTTPS scheme");
    }
  }
  if (urls.empty() || !is_https_url(urls.front())) return Status::ok();
  if (files.cert_file.empty() || files.key_file.empty()) {
    return invalid("KeyFile and CertFile must both be present[key: " + files.key_file +
                   ", cert: " + files.cert_file + "]");
  }
  if (files.client_cert_auth && files.trusted_ca_file.empty()) {
    return invalid("--client-cert-auth needs --trusted-ca-file to verify client certificates");
  }
  plan.client_tls = files;
  return Status::ok();
}

// etcd embed/etcd.go configurePeerListeners and pkg/transport's TLS listener. lockstep has one
// transport per member, so every peer URL (listened on, advertised, in --initial-cluster) must
// share one scheme.
Status plan_peer_tls(const DaemonOptions& options, DaemonPlan& plan) {
  std::vector<std::string> urls = split(options.listen_peer_urls, ',');
  for (const std::string& url : split(options.initial_advertise_peer_urls, ','))
    urls.push_back(url);
  for (const ClusterMember& member : plan.members) {
    for (const std::string& url : member.peer_urls) urls.push_back(url);
  }
  if (urls.empty()) return Status::ok();
  const bool https = is_https_url(urls.front());
  for (const std::string& url : urls) {
    if (is_https_url(url) != https) {
      return invalid("peer URLs mix http and https (" + urls.front() + ", " + url +
                     "); lockstep's peer transport is all TLS or all plain");
    }
  }
  server::TlsFiles files = options.peer_tls;
  plan.peer_self_signed = plan_self_signed(
      options.peer_auto_tls, split(options.listen_peer_urls, ','), files, "peer", plan);
  // etcd's TLSInfo.ClientConfig for a self-signed certificate: the other members' are
  // self-signed too, so nothing can vouch for them (InsecureSkipVerify).
  if (plan.peer_self_signed) files.insecure_skip_verify = true;
  if (!https) {
    const std::string url = split(options.listen_peer_urls, ',').front();
    if (!files.empty()) {
      plan.warnings.push_back("The scheme of peer url " + url +
                              " is HTTP while peer key/cert files are presented. Ignored peer "
                              "key/cert files.");
    }
    if (files.client_cert_auth) {
      plan.warnings.push_back("The scheme of peer url " + url +
                              " is HTTP while client cert auth (--peer-client-cert-auth) is "
                              "enabled. Ignored client cert auth for this url.");
    }
    return Status::ok();
  }
  if (files.empty()) {
    return invalid("cannot listen on TLS for " + plan.listen_peer.to_string() +
                   ": KeyFile and CertFile are not presented");
  }
  if (files.cert_file.empty() || files.key_file.empty()) {
    return invalid("KeyFile and CertFile must both be present[key: " + files.key_file +
                   ", cert: " + files.cert_file + "]");
  }
  if (files.client_cert_auth && files.trusted_ca_file.empty()) {
    return invalid(
        "--peer-client-cert-auth needs --peer-trusted-ca-file to verify peer certificates");
  }
  plan.peer_tls = files;
  return Status::ok();
}

node::MemberConfig member_config(const DaemonOptions& options, const DaemonPlan& plan) {
  node::MemberConfig config;
  config.id = plan.self;
  config.cluster_id = plan.cluster_id;
  // A member joining an existing cluster (--initial-cluster-state existing, after `member
  // add`) is given the cluster as it is now by --initial-cluster. It starts from the other
  // members as voters and learns itself, and every later change, by applying the leader's
  // log (its own ConfChange is in it), or the leader's snapshot, which carries the whole
  // membership. Founding members are configuration, not log entries, so without this the
  // joiner would apply its own addition onto an empty membership and lead alone.
  const bool joining = options.initial_cluster_state == "existing";
  for (const ClusterMember& member : plan.members) {
    if (joining && member.id == plan.self) continue;
    config.initial_voters.push_back(member.id);
  }
  // One logical tick per heartbeat, as etcd (TickMs): the election timeout in ticks.
  config.tick_interval = std::chrono::milliseconds(options.heartbeat_interval_ms);
  config.heartbeat_interval_ticks = 1;
  config.election_timeout_ticks =
      static_cast<int>(options.election_timeout_ms / options.heartbeat_interval_ms);
  // etcd's request timeout: 5 s plus twice the election timeout.
  config.request_timeout = std::chrono::milliseconds(5000 + 2 * options.election_timeout_ms);
  config.max_request_bytes = options.max_request_bytes;
  config.max_txn_ops = options.max_txn_ops;
  // etcd: 0 means the default quota (2 GiB).
  config.quota_backend_bytes = static_cast<uint64_t>(
      options.quota_backend_bytes == 0 ? kDefaultQuotaBackendBytes : options.quota_backend_bytes);
  config.snapshot_count = options.snapshot_count;
  return config;
}

}  // namespace

bool is_https_url(const std::string& url) {
  return url.rfind("https://", 0) == 0;
}

Result<server::PeerAddress> parse_http_url(const std::string& url) {
  const std::string scheme = is_https_url(url) ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) {
    return invalid("URL scheme must be http or https: " + url);
  }
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return invalid("URL must not have a path: " + url);
  Result<server::PeerAddress> address = server::parse_peer_address(rest);
  if (!address.is_ok()) return invalid("URL address " + url + " must be host:port");
  return address;
}

Result<DaemonPlan> plan_daemon(const DaemonOptions& options) {
  RETURN_IF_ERROR(validate_limits(options));
  RETURN_IF_ERROR(validate_timing(options));
  DaemonPlan plan;
  plan.name = options.name;
  plan.data_dir = options.data_dir.empty() ? options.name + ".etcd" : options.data_dir;
  const std::string initial_cluster = options.initial_cluster.empty()
                                          ? options.name + "=" + options.initial_advertise_peer_urls
                                          : options.initial_cluster;
  Result<std::vector<ClusterMember>> members =
      parse_initial_cluster(initial_cluster, options.initial_cluster_token);
  if (!members.is_ok()) return members.error();
  plan.members = std::move(members).value();
  Result<NodeId> self = find_self(options, plan.members);
  if (!self.is_ok()) return self.error();
  plan.self = *self;
  std::vector<NodeId> ids;
  for (const ClusterMember& member : plan.members) {
    // etcd's joiner fetches the cluster id from its peers; lockstep's derives it from the
    // members it joins, which is right while those are the founding members.
    const bool joiner = options.initial_cluster_state == "existing" && member.id == plan.self;
    if (!joiner) ids.push_back(member.id);
    plan.peers[member.id] = parse_http_url(member.peer_urls.front()).value();
  }
  plan.cluster_id = compute_cluster_id(ids);
  Result<server::PeerAddress> listen_peer =
      first_url("--listen-peer-urls", options.listen_peer_urls);
  if (!listen_peer.is_ok()) return listen_peer.error();
  plan.listen_peer = *listen_peer;
  Result<server::PeerAddress> listen_client =
      first_url("--listen-client-urls", options.listen_client_urls);
  if (!listen_client.is_ok()) return listen_client.error();
  plan.listen_client = *listen_client;
  Result<server::PeerAddress> advertise_client =
      first_url("--advertise-client-urls", options.advertise_client_urls);
  if (!advertise_client.is_ok()) return advertise_client.error();
  plan.advertise_client_urls = split(options.advertise_client_urls, ',');
  plan.cluster_token = options.initial_cluster_token;
  plan.member = member_config(options, plan);
  plan.gateway_port = options.gateway_port;
  plan.max_request_bytes = options.max_request_bytes;
  RETURN_IF_ERROR(plan_client_tls(options, plan));
  RETURN_IF_ERROR(plan_peer_tls(options, plan));
  // etcd embed/config.go updateCipherSuites: one list for the client and the peer TLS.
  Result<std::string> ciphers = server::go_cipher_suites_to_openssl(options.cipher_suites);
  if (!ciphers.is_ok()) return ciphers.error();
  if (!plan.client_tls.empty()) plan.client_tls.cipher_list = *ciphers;
  if (!plan.peer_tls.empty()) plan.peer_tls.cipher_list = *ciphers;
  return plan;
}

}  // namespace lockstep::daemon
