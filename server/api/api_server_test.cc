// The assembled endpoints: gRPC and the HTTP gateway on free ports, over real sockets.
#include "server/api/api_server.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/api/fake_client_api.h"

namespace lockstep::api {
namespace {

// Sends raw bytes to 127.0.0.1:port and reads until the server closes the connection.
std::string exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  ssize_t received;
  while ((received = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    reply.append(buffer, static_cast<size_t>(received));
  }
  ::close(fd);
  return reply;
}

std::string post(const std::string& path, const std::string& body, bool keep_alive = false) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         (keep_alive ? "" : "\r\nConnection: close") + "\r\n\r\n" + body;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions options;
    options.grpc_port = 0;
    options.http_port = 0;
    Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api_, options);
    ASSERT_TRUE(started.is_ok()) << started.error();
    server_ = std::move(started).value();
  }

  fake::FakeClientApi api_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, GatewayAnswersOverHttpWithKeepAlive) {
  // Two requests on one connection: the first keeps it open, the second closes it.
  const std::string reply =
      exchange(server_->http_port(), post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})", true) +
                                         post("/v3/kv/range", R"({"key":"Zm9v"})"));
  const size_t first = reply.find("HTTP/1.1 200 OK");
  ASSERT_NE(first, std::string::npos) << reply;
  ASSERT_NE(reply.find("HTTP/1.1 200 OK", first + 1), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"("value":"YmFy")"), std::string::npos) << reply;
}

TEST_F(ApiServerTest, GrpcAndHttpShareTheMember) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto kv = etcdserverpb::KV::NewStub(channel);
  etcdserverpb::PutRequest put;
  put.set_key("foo");
  put.set_value("from grpc");
  etcdserverpb::PutResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(kv->Put(&context, put, &response).ok());
  const std::string reply =
      exchange(server_->http_port(), post("/v3/kv/range", R"({"key":"Zm9v"})"));
  EXPECT_NE(reply.find(R"("value":"ZnJvbSBncnBj")"), std::string::npos) << reply;  // base64
}

TEST_F(ApiServerTest, BadHttpIsRefusedWithAStatus) {
  EXPECT_NE(exchange(server_->http_port(), "NONSENSE\r\n\r\n").find("HTTP/1.1 400"),
            std::string::npos);
  EXPECT_NE(
      exchange(server_->http_port(), "POST /v3/kv/put HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
          .find("HTTP/1.1 413"),
      std::string::npos);
  EXPECT_NE(exchange(server_->http_port(),
                     "POST /v3/kv/put HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .find("HTTP/1.1 411"),
            std::string::npos);
  EXPECT_NE(
      exchange(server_->http_port(), "GET /health HTTP/1.0\r\n\r\n").find("{\"health\":\"true\"}"),
      std::string::npos);
}

// etcd's one client port (cmux): HTTP/2 from gRPC clients and HTTP/1.1 on the same port.
TEST(ApiServerSharedPortTest, GrpcAndHttpOnOnePort) {
  fake::FakeClientApi api;
  ApiServerOptions options;
  options.grpc_port = 0;
  options.share_grpc_port = true;
  Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api, options);
  ASSERT_TRUE(started.is_ok()) << started.error();
  ApiServer& server = **started;
  ASSERT_EQ(server.http_port(), server.grpc_port());
  // Several connections, each with several calls: a handed-over descriptor left blocking
  // would stall gRPC's pollers and time these out.
  for (int connection = 0; connection < 3; ++connection) {
    grpc::ChannelArguments arguments;
    arguments.SetInt("connection", connection);  // a distinct channel, so a new connection
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.grpc_port()),
                                             grpc::InsecureChannelCredentials(), arguments);
    auto kv = etcdserverpb::KV::NewStub(channel);
    for (int call = 0; call < 5; ++call) {
      etcdserverpb::PutRequest put;
      put.set_key("foo");
      put.set_value("from grpc");
      etcdserverpb::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      ASSERT_TRUE(kv->Put(&context, put, &response).ok());
    }
  }
  const std::string reply = exchange(server.grpc_port(), post("/v3/kv/range", R"({"key":"Zm9v"})"));
  EXPECT_NE(reply.find(R"("value":"ZnJvbSBncnBj")"), std::string::npos) << reply;
  EXPECT_NE(exchange(server.grpc_port(), "GET /health HTTP/1.0\r\n\r\n").find("health"),
            std::string::npos);
}

TEST(HttpRequestHead, ParsesMethodPathLengthAndConnection) {
  const Result<HttpRequestHead> head = parse_http_request_head(
      "POST /v3/kv/range?x=1 HTTP/1.1\r\nContent-Length: 12\r\nConnection: Close");
  ASSERT_TRUE(head.is_ok());
  EXPECT_EQ(head->method, "POST");
  EXPECT_EQ(head->path, "/v3/kv/range");
  EXPECT_EQ(head->content_length, 12u);
  EXPECT_FALSE(head->keep_alive);
  EXPECT_FALSE(parse_http_request_head("POST /x HTTP/1.1\r\nContent-Length: -1").is_ok());
  EXPECT_FALSE(parse_http_request_head("POST /x SPDY/3").is_ok());
  EXPECT_FALSE(parse_http_request_head("POST /x HTTP/1.1\r\nno colon here").is_ok());
}

}  // namespace
}  // namespace lockstep::api
