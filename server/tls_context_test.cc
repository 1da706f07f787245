#include "server/tls_context.h"

#include <gtest/gtest.h>

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
