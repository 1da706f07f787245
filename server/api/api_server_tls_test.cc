// The client endpoints over TLS (etcd's https client URLs with --cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth): gRPC and the gateway through HttpServer's TLS
// sessions (gRPC's connections relayed out of TLS), each refusing a client without a
// certificate.
#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "server/api/api_server.h"
#include "server/api/fake_client_api.h"
#include "server/test_pki.h"
#include "server/tls_session.h"

namespace lockstep::api {
namespace {

constexpr auto kRpcDeadline = std::chrono::seconds(10);

std::string file_contents(const std::string& path) {
  Result<std::string> read = server::read_pem_file(path);
  EXPECT_TRUE(read.is_ok()) << read.error();
  return read.is_ok() ? *read : "";
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// One HTTPS request with `client` (a kClient TlsFiles; no certificate when cert_file is empty);
// the reply, or "refused: <why>" when the handshake or the exchange failed.
std::string https_exchange(int port, const server::TlsFiles& client, const std::string& request) {
  Result<std::shared_ptr<const server::TlsContext>> context =
      server::TlsContext::create(server::TlsRole::kClient, client);
  EXPECT_TRUE(context.is_ok()) << context.error();
  const int fd = connect_loopback(port);
  Result<std::unique_ptr<server::TlsSession>> session =
      server::TlsSession::create(**context, fd, "127.0.0.1");
  EXPECT_TRUE(session.is_ok());
  std::string reply;
  server::TlsResult result = (*session)->handshake();
  if (result.status == server::TlsStatus::kDone) result = (*session)->write(request);
  char buffer[4096];
  while (result.status == server::TlsStatus::kDone) {
    result = (*session)->read(buffer);
    if (result.status == server::TlsStatus::kDone) reply.append(buffer, result.bytes);
  }
  session->reset();
  ::close(fd);
  if (reply.empty()) return "refused: " + result.error;
  return reply;
}

class ApiServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path().string() + "/lockstep-api-tls-" +
                 std::to_string(::getpid());
    pki_ = std::make_unique<server::TestPki>(directory_, "ca");
    ApiServerOptions options;
    options.grpc_port = 0;
    options.http_port = 0;
    options.tls = pki_->issue("server");
    options.tls.client_cert_auth = true;
    client_ = pki_->issue("client");
    Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api_, options);
    ASSERT_TRUE(started.is_ok()) << started.error();
    server_ = std::move(started).value();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  // A channel trusting the test CA, with the client certificate unless `anonymous`.
  std::unique_ptr<etcdserverpb::KV::Stub> kv_stub(bool anonymous) {
    grpc::SslCredentialsOptions credentials;
    credentials.pem_root_certs = file_contents(pki_->ca_file());
    if (!anonymous) {
      credentials.pem_private_key = file_contents(client_.key_file);
      credentials.pem_cert_chain = file_contents(client_.cert_file);
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return etcdserverpb::KV::NewStub(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                  grpc::SslCredentials(credentials), arguments));
  }

  grpc::Status put(etcdserverpb::KV::Stub& kv, const std::string& key) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value("over tls");
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
    return kv.Put(&context, request, &response);
  }

  std::string directory_;
  std::unique_ptr<server::TestPki> pki_;
  server::TlsFiles client_;
  fake::FakeClientApi api_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTlsTest, GrpcServesClientsWithACertificateAndRefusesOthers) {
  std::unique_ptr<etcdserverpb::KV::Stub> trusted = kv_stub(/*anonymous=*/false);
  const grpc::Status accepted = put(*trusted, "foo");
  EXPECT_TRUE(accepted.ok()) << accepted.error_message();
  std::unique_ptr<etcdserverpb::KV::Stub> anonymous = kv_stub(/*anonymous=*/true);
  const grpc::Status refused = put(*anonymous, "bar");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
}

TEST_F(ApiServerTlsTest, GatewayServesHttpsToClientsWithACertificateOnly) {
  ASSERT_TRUE(put(*kv_stub(false), "foo").ok());
  const std::string range = R"({"key":"Zm9v"})";  // base64("foo")
  const std::string request =
      "POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(range.size()) +
      "\r\nConnection: close\r\n\r\n" + range;
  const std::string reply = https_exchange(server_->http_port(), client_, request);
  EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"("value":"b3ZlciB0bHM=")"), std::string::npos) << reply;  // "over tls"

  server::TlsFiles no_certificate;
  no_certificate.trusted_ca_file = pki_->ca_file();
  const std::string refused = https_exchange(server_->http_port(), no_certificate, request);
  EXPECT_EQ(refused.rfind("refused: ", 0), 0u) << refused;
}

// etcd serves the gateway on its TLS client port next to gRPC; so does lockstep, choosing by
// the first decrypted bytes (this client offers no ALPN protocol).
TEST_F(ApiServerTlsTest, ClientPortServesGrpcAndTheGatewayInsideTls) {
  ASSERT_TRUE(put(*kv_stub(false), "foo").ok());
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string reply = https_exchange(server_->grpc_port(), client_, request);
  EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"({"health":"true"})"), std::string::npos) << reply;
  EXPECT_TRUE(put(*kv_stub(false), "after").ok());  // gRPC still served on the same port
}

TEST(ApiServerTlsOptions, MissingFilesFailStartupNamingThem) {
  fake::FakeClientApi api;
  ApiServerOptions options;
  options.grpc_port = 0;
  options.http_port = -1;
  options.tls.cert_file = "/nonexistent/server.pem";
  options.tls.key_file = "/nonexistent/server-key.pem";
  Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api, options);
  ASSERT_FALSE(started.is_ok());
  EXPECT_EQ(started.error().detail(), "open /nonexistent/server.pem: No such file or directory");
}

}  // namespace
}  // namespace lockstep::api
