// TcpNetwork inside TLS (etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file,
// --peer-client-cert-auth): frames flow over mutually authenticated sessions, and a peer whose
// certificate another CA signed, or that speaks plain TCP, never gets a frame delivered.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "server/real_runtime.h"
#include "server/tcp_network.h"
#include "server/test_pki.h"
#include "server/tls_session.h"

namespace lockstep::server {
namespace {

constexpr Duration kTestDeadline = std::chrono::seconds(20);
// How long a rejected peer keeps trying before the test looks at what arrived.
constexpr Duration kRejectionWindow = std::chrono::milliseconds(600);

std::string scratch_directory(const std::string& test) {
  const std::string path = std::filesystem::temp_directory_path().string() + "/lockstep-tls-" +
                           test + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(path);
  return path;
}

std::shared_ptr<const TlsContext> context(TlsRole role, const TlsFiles& files) {
  Result<std::shared_ptr<const TlsContext>> created = TlsContext::create(role, files);
  EXPECT_TRUE(created.is_ok()) << created.error();
  return created.is_ok() ? *created : nullptr;
}

struct TlsNode {
  TlsFiles files;   // what the node presents and trusts
  bool tls = true;  // false: plain TCP both ways
};

// Two or more TcpNetworks on one RealRuntime, each with its own certificate.
class TlsCluster {
 public:
  explicit TlsCluster(const std::vector<TlsNode>& nodes) : runtime_({NodeId(1), 7, nullptr}) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      TcpNetworkOptions options;
      options.self = NodeId(i + 1);
      options.listen = PeerAddress{"127.0.0.1", 0};
      if (nodes[i].tls) {
        TlsFiles server_files = nodes[i].files;
        server_files.client_cert_auth = true;
        options.accept_tls = context(TlsRole::kServer, server_files);
        options.dial_tls = context(TlsRole::kClient, nodes[i].files);
      }
      Result<std::unique_ptr<TcpNetwork>> started =
          TcpNetwork::start(runtime_.loop(), runtime_, options);
      EXPECT_TRUE(started.is_ok()) << started.error();
      networks_.push_back(std::move(started).value());
    }
    for (size_t i = 0; i < networks_.size(); ++i) {
      for (size_t j = 0; j < networks_.size(); ++j) {
        const PeerAddress address{"127.0.0.1", networks_[j]->listen_port()};
        EXPECT_TRUE(networks_[i]->set_peer_address(NodeId(j + 1), address).is_ok());
      }
    }
  }

  TcpNetwork& node(uint64_t id) { return *networks_.at(id - 1); }
  RealRuntime& runtime() { return runtime_; }

  void run(std::function<void()> body) {
    bool finished = false;
    runtime_.spawn("test", [&] {
      body();
      finished = true;
      runtime_.request_stop();
    });
    runtime_.spawn("watchdog", [&] {
      runtime_.sleep_for(kTestDeadline);
      ADD_FAILURE() << "test body did not finish within the deadline";
      runtime_.request_stop();
    });
    runtime_.run();
    EXPECT_TRUE(finished);
  }

 private:
  RealRuntime runtime_;
  std::vector<std::unique_ptr<TcpNetwork>> networks_;
};

TEST(TcpNetworkTls, MutuallyAuthenticatedPeersExchangeLargeAndSmallFramesInOrder) {
  const std::string directory = scratch_directory("mutual");
  TestPki pki(directory, "ca");
  TlsCluster cluster({{pki.issue("m1")}, {pki.issue("m2")}});
  cluster.run([&] {
    // Large frames exceed socket buffers and TLS records, so writes come back partial and
    // WANT_WRITE; the stream must resume mid-frame.
    const std::string large(3 * 1024 * 1024 + 17, 'x');
    constexpr int kMessages = 500;
    for (int i = 0; i < kMessages; ++i) {
      cluster.node(1).send(NodeId(2),
                           i % 100 == 0 ? large + std::to_string(i) : "1->2 #" + std::to_string(i));
      cluster.node(2).send(NodeId(1), "2->1 #" + std::to_string(i));
    }
    for (int i = 0; i < kMessages; ++i) {
      std::optional<env::Message> at_two =
          cluster.node(2).receive(cluster.runtime().now() + kTestDeadline);
      ASSERT_TRUE(at_two.has_value());
      EXPECT_EQ(at_two->from, NodeId(1));
      ASSERT_EQ(at_two->payload,
                i % 100 == 0 ? large + std::to_string(i) : "1->2 #" + std::to_string(i));
      std::optional<env::Message> at_one =
          cluster.node(1).receive(cluster.runtime().now() + kTestDeadline);
      ASSERT_TRUE(at_one.has_value());
      ASSERT_EQ(at_one->payload, "2->1 #" + std::to_string(i));
    }
    EXPECT_EQ(cluster.node(1).stats().tls_handshakes_failed, 0u);
    EXPECT_EQ(cluster.node(2).stats().tls_handshakes_failed, 0u);
  });
  std::filesystem::remove_all(directory);
}

TEST(TcpNetworkTls, PeerWithCertificateFromAnotherCaIsRejectedBothWays) {
  const std::string directory = scratch_directory("untrusted");
  TestPki pki(directory, "ca");
  TestPki rogue(directory, "rogue-ca");
  // Node 2 trusts the cluster's CA but holds a certificate the rogue CA signed: node 1 must
  // refuse it as a client (--peer-client-cert-auth) and as a server (verification on dial).
  TlsFiles impostor = rogue.issue("impostor");
  impostor.trusted_ca_file = pki.ca_file();
  TlsCluster cluster({{pki.issue("m1")}, {impostor}});
  cluster.run([&] {
    const Instant until = cluster.runtime().now() + kRejectionWindow;
    while (cluster.runtime().now() < until) {
      cluster.node(1).send(NodeId(2), "secret");
      cluster.node(2).send(NodeId(1), "forged");
      cluster.runtime().sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_FALSE(cluster.node(1).receive(cluster.runtime().now()).has_value());
    EXPECT_FALSE(cluster.node(2).receive(cluster.runtime().now()).has_value());
    EXPECT_EQ(cluster.node(1).stats().messages_received, 0u);
    EXPECT_EQ(cluster.node(2).stats().messages_received, 0u);
    EXPECT_GT(cluster.node(1).stats().tls_handshakes_failed, 0u)
        << "node 1 saw the impostor's certificate and refused it";
    EXPECT_GT(cluster.node(1).stats().connections_rejected, 0u);
    // TLS 1.3 lets the impostor finish its side of the handshake before node 1 refuses it; it
    // must still back off (20, 40, 80... ms) rather than redial at once: at most 6 dials fit
    // in the window, however fast the machine.
    EXPECT_LE(cluster.node(1).stats().connections_rejected, 8u);
  });
  std::filesystem::remove_all(directory);
}

TEST(TcpNetworkTls, PlainPeerCannotTalkToTlsPeer) {
  const std::string directory = scratch_directory("plain");
  TestPki pki(directory, "ca");
  TlsCluster cluster({{pki.issue("m1")}, {TlsFiles{}, /*tls=*/false}});
  cluster.run([&] {
    const Instant until = cluster.runtime().now() + kRejectionWindow;
    while (cluster.runtime().now() < until) {
      cluster.node(2).send(NodeId(1), "plaintext");
      cluster.runtime().sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(cluster.node(1).stats().messages_received, 0u);
    EXPECT_GT(cluster.node(1).stats().tls_handshakes_failed, 0u)
        << "a frame header is no TLS ClientHello";
  });
  std::filesystem::remove_all(directory);
}

TEST(TlsContext, ChecksItsFilesWithMessagesNamingThem) {
  const std::string directory = scratch_directory("files");
  TestPki pki(directory, "ca");
  const TlsFiles good = pki.issue("m1");

  TlsFiles no_key = good;
  no_key.key_file.clear();
  Result<std::shared_ptr<const TlsContext>> created = TlsContext::create(TlsRole::kServer, no_key);
  ASSERT_FALSE(created.is_ok());
  EXPECT_EQ(created.error().detail(),
            "KeyFile and CertFile must both be present[key: , cert: " + good.cert_file + "]");

  TlsFiles missing = good;
  missing.cert_file = directory + "/absent.pem";
  created = TlsContext::create(TlsRole::kServer, missing);
  ASSERT_FALSE(created.is_ok());
  EXPECT_EQ(created.error().detail(), "open " + missing.cert_file + ": No such file or directory");

  TlsFiles mismatched = good;
  mismatched.key_file = pki.issue("m2").key_file;
  created = TlsContext::create(TlsRole::kServer, mismatched);
  ASSERT_FALSE(created.is_ok());
  EXPECT_NE(created.error().detail().find("does not match certificate"), std::string::npos)
      << created.error();

  TlsFiles not_pem = good;
  not_pem.trusted_ca_file = directory + "/garbage.pem";
  std::FILE* garbage = std::fopen(not_pem.trusted_ca_file.c_str(), "w");
  ASSERT_NE(garbage, nullptr);
  std::fputs("not a certificate\n", garbage);
  std::fclose(garbage);
  created = TlsContext::create(TlsRole::kClient, not_pem);
  ASSERT_FALSE(created.is_ok());
  EXPECT_EQ(created.error().detail(), not_pem.trusted_ca_file + " holds no PEM block");

  TlsFiles auth_without_ca = good;
  auth_without_ca.trusted_ca_file.clear();
  auth_without_ca.client_cert_auth = true;
  EXPECT_FALSE(TlsContext::create(TlsRole::kServer, auth_without_ca).is_ok());
  EXPECT_TRUE(TlsContext::create(TlsRole::kServer, good).is_ok());
  EXPECT_TRUE(TlsContext::create(TlsRole::kClient, good).is_ok());
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace lockstep::server
