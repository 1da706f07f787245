#include "server/tls_context.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "server/test_pki.h"
#include "server/tls_session.h"

namespace lockstep::server {
namespace {

// etcd's --cipher-suites takes Go's names; OpenSSL wants its own, colon-separated.
TEST(TlsContext, GoCipherSuiteNamesBecomeAnOpenSslList) {
  Result<std::string> list = go_cipher_suites_to_openssl(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305");
  ASSERT_TRUE(list.is_ok()) << list.error();
  EXPECT_EQ(*list, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305");
  Result<std::string> none = go_cipher_suites_to_openssl("");
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(*none, "");
}

TEST(TlsContext, UnknownCipherSuiteGetsEtcdsError) {
  // TLS 1.3 suites are not configurable in Go, so etcd refuses their names too.
  for (const std::string name : {"TLS_BOGUS", "TLS_AES_128_GCM_SHA256"}) {
    Result<std::string> list =
        go_cipher_suites_to_openssl("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256," + name);
    ASSERT_FALSE(list.is_ok());
    EXPECT_EQ(list.error().detail(), "unexpected TLS cipher suite \"" + name + "\"");
  }
}

}  // namespace
}  // namespace lockstep::server

namespace lockstep::server {
namespace {

// The dialling side (a member's peer transport) reloads too: the next session after its key
// pair was rotated is built from the new files, and a CRL that cannot be parsed fails startup.
TEST(TlsContextReload, DiallingSideLoadsRotatedFilesForTheNextSession) {
  const std::string directory = std::filesystem::temp_directory_path().string() +
                                "/lockstep-tls-reload-" + std::to_string(::getpid());
  TestPki pki(directory, "ca");
  const TlsFiles files = pki.issue("peer");
  Result<std::shared_ptr<const TlsContext>> context = TlsContext::create(TlsRole::kClient, files);
  ASSERT_TRUE(context.is_ok()) << context.error();
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair.data()), 0);
  EXPECT_TRUE(TlsSession::create(**context, pair[0]).is_ok());
  EXPECT_EQ((*context)->reloads(), 0u);

  const TlsFiles rotated = pki.issue("peer-rotated");
  std::filesystem::rename(rotated.key_file, files.key_file);
  std::filesystem::rename(rotated.cert_file, files.cert_file);
  EXPECT_TRUE(TlsSession::create(**context, pair[0]).is_ok());
  EXPECT_EQ((*context)->reloads(), 1u);
  EXPECT_TRUE(TlsSession::create(**context, pair[0]).is_ok());
  EXPECT_EQ((*context)->reloads(), 1u) << "unchanged files are not loaded again";

  TlsFiles with_crl = pki.issue("server");
  with_crl.crl_file = directory + "/not-a-crl.pem";
  { std::ofstream(with_crl.crl_file) << "garbage\n"; }
  Result<std::shared_ptr<const TlsContext>> refused =
      TlsContext::create(TlsRole::kServer, with_crl);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.error().to_string().find("not-a-crl.pem"), std::string::npos)
      << refused.error();
  ::close(pair[0]);
  ::close(pair[1]);
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace lockstep::server
