#include "server/daemon/daemon_options.h"

#include <gtest/gtest.h>

namespace lockstep::daemon {
namespace {

DaemonOptions three_members(const std::string& name, int index) {
  DaemonOptions options;
  options.name = name;
  options.initial_cluster =
      "m1=http://127.0.0.1:12380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380";
  options.initial_advertise_peer_urls = "http://127.0.0.1:" + std::to_string(index) + "2380";
  options.listen_peer_urls = options.initial_advertise_peer_urls;
  options.listen_client_urls = "http://127.0.0.1:" + std::to_string(index) + "2379";
  return options;
}

std::string error_of(const DaemonOptions& options) {
  Result<DaemonPlan> plan = plan_daemon(options);
  return plan.is_ok() ? "ok" : plan.error().detail();
}

TEST(DaemonOptionsTest, EveryMemberDerivesTheSameIdsAndClusterId) {
  Result<DaemonPlan> first = plan_daemon(three_members("m1", 1));
  Result<DaemonPlan> second = plan_daemon(three_members("m2", 2));
  ASSERT_TRUE(first.is_ok()) << first.error().to_string();
  ASSERT_TRUE(second.is_ok()) << second.error().to_string();
  EXPECT_NE(first->self, second->self);
  EXPECT_EQ(first->cluster_id, second->cluster_id);
  EXPECT_EQ(first->member.initial_voters, second->member.initial_voters);
  EXPECT_EQ(first->member.initial_voters.size(), 3u);
  EXPECT_EQ(first->peers.at(second->self).port, 22380);
  EXPECT_EQ(first->listen_client.port, 12379);
  EXPECT_EQ(first->data_dir, "m1.etcd");
}

TEST(DaemonOptionsTest, TimingFlagsFollowEtcdRules) {
  DaemonOptions options = three_members("m1", 1);
  options.heartbeat_interval_ms = 100;
  options.election_timeout_ms = 400;
  EXPECT_EQ(error_of(options),
            "--election-timeout[400ms] should be at least as 5 times as "
            "--heartbeat-interval[100ms]");
  options.election_timeout_ms = 60000;
  EXPECT_EQ(error_of(options),
            "--election-timeout[60000ms] is too long, and should be set less than 50000ms");
  options.heartbeat_interval_ms = 0;
  EXPECT_EQ(error_of(options), "--heartbeat-interval must be >0 (set to 0ms)");
  options.heartbeat_interval_ms = 50;
  options.election_timeout_ms = 500;
  Result<DaemonPlan> plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->member.election_timeout_ticks, 10);
  EXPECT_EQ(plan->member.tick_interval, std::chrono::milliseconds(50));
}

TEST(DaemonOptionsTest, BadClusterFlagsAreClearErrors) {
  DaemonOptions options = three_members("m4", 1);
  EXPECT_EQ(error_of(options),
            "couldn't find local name \"m4\" in the initial cluster configuration");
  options = three_members("m1", 2);
  EXPECT_NE(error_of(options).find("missing from --initial-advertise-peer-urls"),
            std::string::npos);
  options = three_members("m1", 1);
  options.initial_cluster_state = "old";
  EXPECT_NE(error_of(options).find("valid values are \"new\", \"existing\""), std::string::npos);
  options = three_members("m1", 1);
  options.initial_cluster = "m1=127.0.0.1:12380";
  EXPECT_NE(error_of(options).find("URL scheme must be http"), std::string::npos);
  options = three_members("m1", 1);
  options.listen_client_urls = "https://127.0.0.1:2379";
  EXPECT_NE(error_of(options).find("TLS"), std::string::npos);
}

// etcd embed/etcd.go and pkg/transport: https URLs need a key pair; files given for http URLs
// are ignored with etcd's warnings.
TEST(DaemonOptionsTest, TlsFlagsFollowEtcdRules) {
  DaemonOptions options = three_members("m1", 1);
  options.listen_client_urls = "https://127.0.0.1:12379";
  EXPECT_EQ(error_of(options),
            "TLS key/cert (--cert-file, --key-file) must be provided for client url "
            "https://127.0.0.1:12379 with HTTPS scheme");
  options.client_tls.cert_file = "server.pem";
  EXPECT_EQ(error_of(options),
            "KeyFile and CertFile must both be present[key: , cert: server.pem]");
  options.client_tls.key_file = "server-key.pem";
  options.client_tls.client_cert_auth = true;
  EXPECT_EQ(error_of(options),
            "--client-cert-auth needs --trusted-ca-file to verify client certificates");
  options.client_tls.trusted_ca_file = "ca.pem";
  Result<DaemonPlan> plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_EQ(plan->client_tls.cert_file, "server.pem");
  EXPECT_TRUE(plan->client_tls.client_cert_auth);
  EXPECT_TRUE(plan->peer_tls.empty()) << "peer URLs are http";

  options = three_members("m1", 1);
  options.client_tls.cert_file = "server.pem";
  options.client_tls.key_file = "server-key.pem";
  options.peer_tls = options.client_tls;
  options.peer_tls.client_cert_auth = true;
  plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_TRUE(plan->client_tls.empty()) << "http client URL: the files are ignored, as etcd";
  EXPECT_TRUE(plan->peer_tls.empty());
  ASSERT_EQ(plan->warnings.size(), 3u);
  EXPECT_EQ(plan->warnings[2],
            "The scheme of peer url http://127.0.0.1:12380 is HTTP while client cert auth "
            "(--peer-client-cert-auth) is enabled. Ignored client cert auth for this url.");

  options = three_members("m1", 1);
  options.initial_cluster =
      "m1=https://127.0.0.1:12380,m2=https://127.0.0.1:22380,m3=https://127.0.0.1:32380";
  options.initial_advertise_peer_urls = "https://127.0.0.1:12380";
  EXPECT_EQ(error_of(options),
            "peer URLs mix http and https (http://127.0.0.1:12380, https://127.0.0.1:12380); "
            "lockstep's peer transport is all TLS or all plain");
  options.listen_peer_urls = "https://127.0.0.1:12380";
  EXPECT_EQ(error_of(options),
            "cannot listen on TLS for 127.0.0.1:12380: KeyFile and CertFile are not presented");
  options.peer_tls.cert_file = "peer.pem";
  options.peer_tls.key_file = "peer-key.pem";
  options.peer_tls.client_cert_auth = true;
  EXPECT_EQ(error_of(options),
            "--peer-client-cert-auth needs --peer-trusted-ca-file to verify peer certificates");
  options.peer_tls.trusted_ca_file = "ca.pem";
  plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_EQ(plan->peer_tls.trusted_ca_file, "ca.pem");
  EXPECT_TRUE(plan->warnings.empty());
}

// m1 of three_members() with https peer URLs everywhere.
DaemonOptions https_peers(DaemonOptions options) {
  options.initial_cluster =
      "m1=https://127.0.0.1:12380,m2=https://127.0.0.1:22380,m3=https://127.0.0.1:32380";
  options.initial_advertise_peer_urls = "https://127.0.0.1:12380";
  options.listen_peer_urls = "https://127.0.0.1:12380";
  return options;
}

// etcd's --auto-tls and --peer-auto-tls: with https URLs and no key pair, a self-signed
// certificate under <data-dir>/fixtures/{client,peer} for the listen URLs' hosts; members skip
// verifying each other's. Given files win, with etcd's warning.
TEST(DaemonOptionsTest, AutoTlsPlansSelfSignedCertificates) {
  DaemonOptions options = https_peers(three_members("m1", 1));
  options.data_dir = "/data/m1";
  options.listen_client_urls = "https://127.0.0.1:12379,https://localhost:12379";
  options.client_auto_tls = true;
  options.peer_auto_tls = true;
  Result<DaemonPlan> plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  ASSERT_TRUE(plan->client_self_signed.has_value());
  EXPECT_EQ(plan->client_tls.cert_file, "/data/m1/fixtures/client/cert.pem");
  EXPECT_EQ(plan->client_tls.key_file, "/data/m1/fixtures/client/key.pem");
  EXPECT_EQ(plan->client_self_signed->cert_file, plan->client_tls.cert_file);
  EXPECT_EQ(plan->client_self_signed->hosts, (std::vector<std::string>{"127.0.0.1", "localhost"}));
  EXPECT_FALSE(plan->client_tls.insecure_skip_verify);
  ASSERT_TRUE(plan->peer_self_signed.has_value());
  EXPECT_EQ(plan->peer_tls.cert_file, "/data/m1/fixtures/peer/cert.pem");
  EXPECT_EQ(plan->peer_self_signed->hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(plan->peer_tls.insecure_skip_verify);
  EXPECT_TRUE(plan->warnings.empty());

  options.client_tls.cert_file = "server.pem";
  options.client_tls.key_file = "server-key.pem";
  plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_FALSE(plan->client_self_signed.has_value());
  EXPECT_EQ(plan->client_tls.cert_file, "server.pem");
  EXPECT_EQ(plan->warnings, std::vector<std::string>{"ignoring client auto TLS since certs given"});

  // On http URLs there is nothing to make.
  options = three_members("m1", 1);
  options.client_auto_tls = true;
  options.peer_auto_tls = true;
  plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_FALSE(plan->client_self_signed.has_value());
  EXPECT_FALSE(plan->peer_self_signed.has_value());
  EXPECT_TRUE(plan->client_tls.empty());
}

// etcd's --cipher-suites: Go's names for client and peer TLS alike; an unknown name (TLS 1.3
// suites included: Go does not let them be chosen) fails startup with etcd's message, even
// without TLS.
TEST(DaemonOptionsTest, CipherSuitesApplyToClientAndPeerTls) {
  DaemonOptions options = three_members("m1", 1);
  options.cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256";
  EXPECT_EQ(error_of(options), "unexpected TLS cipher suite \"TLS_AES_128_GCM_SHA256\"");
  options.cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
  Result<DaemonPlan> plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_EQ(plan->client_tls.cipher_list, "");  // no TLS, nothing to restrict

  options = https_peers(options);
  options.listen_client_urls = "https://127.0.0.1:12379";
  options.client_auto_tls = true;
  options.peer_auto_tls = true;
  plan = plan_daemon(options);
  ASSERT_TRUE(plan.is_ok()) << plan.error();
  EXPECT_EQ(plan->client_tls.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(plan->peer_tls.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256");
}

}  // namespace
}  // namespace lockstep::daemon
