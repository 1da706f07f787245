#include "server/self_signed_certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "server/tls_context.h"
#include "server/tls_session.h"

namespace lockstep::server {
namespace {

class SelfSignedCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char directory[] = "/tmp/lockstep-self-signed-XXXXXX";
    ASSERT_NE(::mkdtemp(directory), nullptr);
    directory_ = directory;
    wanted_.cert_file = directory_ + "/fixtures/client/cert.pem";
    wanted_.key_file = directory_ + "/fixtures/client/key.pem";
    wanted_.hosts = {"127.0.0.1", "localhost"};
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  X509* load_certificate() const {
    FILE* file = std::fopen(wanted_.cert_file.c_str(), "r");
    if (file == nullptr) return nullptr;
    X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    return certificate;
  }

  std::string directory_;
  SelfSignedCertificate wanted_;
};

std::string file_contents(const std::string& path) {
  Result<std::string> contents = read_pem_file(path);
  return contents.is_ok() ? *contents : "";
}

// etcd's transport.SelfCert: a certificate for the listen hosts, signed by its own key.
TEST_F(SelfSignedCertificateTest, NamesTheHostsAndSignsItself) {
  ASSERT_TRUE(ensure_self_signed_certificate(wanted_).is_ok());
  struct stat key_stat {};
  ASSERT_EQ(::stat(wanted_.key_file.c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  EXPECT_EQ(file_contents(wanted_.key_file).rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);

  X509* certificate = load_certificate();
  ASSERT_NE(certificate, nullptr);
  EXPECT_EQ(X509_check_ip_asc(certificate, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(certificate, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(certificate, "example.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_verify(certificate, X509_get0_pubkey(certificate)), 1);  // self-signed
  EXPECT_EQ(X509_check_ca(certificate), 0);                               // CA:FALSE
  EXPECT_NE(X509_get_extended_key_usage(certificate) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(certificate)), 521);
  char subject[64];
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  EXPECT_STREQ(subject, "/O=etcd");
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate),
                           X509_get0_notAfter(certificate)),
            1);
  EXPECT_EQ(days, 365);
  X509_free(certificate);

  // The key belongs to the certificate: a server can be built from the pair.
  TlsFiles files;
  files.cert_file = wanted_.cert_file;
  files.key_file = wanted_.key_file;
  EXPECT_TRUE(TlsContext::create(TlsRole::kServer, files).is_ok());
}

// A restart keeps the certificate (clients may have pinned it), as etcd does.
TEST_F(SelfSignedCertificateTest, ExistingFilesAreKept) {
  ASSERT_TRUE(ensure_self_signed_certificate(wanted_).is_ok());
  const std::string certificate = file_contents(wanted_.cert_file);
  const std::string key = file_contents(wanted_.key_file);
  ASSERT_TRUE(ensure_self_signed_certificate(wanted_).is_ok());
  EXPECT_EQ(file_contents(wanted_.cert_file), certificate);
  EXPECT_EQ(file_contents(wanted_.key_file), key);
  // Only a missing file makes a new pair.
  std::filesystem::remove(wanted_.cert_file);
  ASSERT_TRUE(ensure_self_signed_certificate(wanted_).is_ok());
  EXPECT_NE(file_contents(wanted_.cert_file), certificate);
  EXPECT_NE(file_contents(wanted_.key_file), key);
}

// Handshakes over a socketpair: "ok", or the client's error.
std::string handshake(const TlsFiles& server_files, const TlsFiles& client_files) {
  int sockets[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets), 0);
  Result<std::shared_ptr<const TlsContext>> server =
      TlsContext::create(TlsRole::kServer, server_files);
  Result<std::shared_ptr<const TlsContext>> client =
      TlsContext::create(TlsRole::kClient, client_files);
  EXPECT_TRUE(server.is_ok() && client.is_ok());
  std::future<void> accepting = std::async(std::launch::async, [&] {
    Result<std::unique_ptr<TlsSession>> session = TlsSession::create(**server, sockets[0]);
    (*session)->handshake();
    ::shutdown(sockets[0], SHUT_RDWR);
  });
  Result<std::unique_ptr<TlsSession>> session =
      TlsSession::create(**client, sockets[1], "127.0.0.1");
  const TlsResult result = (*session)->handshake();
  session->reset();
  ::shutdown(sockets[1], SHUT_RDWR);
  accepting.get();
  ::close(sockets[0]);
  ::close(sockets[1]);
  return result.status == TlsStatus::kDone ? "ok" : result.error;
}

// etcd dials a peer that uses --peer-auto-tls with InsecureSkipVerify; without it, nobody
// vouches for the certificate.
TEST_F(SelfSignedCertificateTest, OnlyAClientThatSkipsVerificationAcceptsIt) {
  ASSERT_TRUE(ensure_self_signed_certificate(wanted_).is_ok());
  TlsFiles server_files;
  server_files.cert_file = wanted_.cert_file;
  server_files.key_file = wanted_.key_file;
  TlsFiles skipping;
  skipping.insecure_skip_verify = true;
  EXPECT_EQ(handshake(server_files, skipping), "ok");
  const std::string verifying = handshake(server_files, TlsFiles{});
  EXPECT_NE(verifying.find("certificate verify failed"), std::string::npos) << verifying;
}

}  // namespace
}  // namespace lockstep::server
