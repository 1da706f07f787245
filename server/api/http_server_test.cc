// HttpServer over TLS (etcd's https client URLs, the JSON gateway's path): HTTP/1.1 served on
// the relay's event loops. The handler stands in for the gateway and answers from its own
// thread, as the gateway does from a member's completion.
#include "server/api/http_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/api/tls_test_client.h"
#include "server/test_pki.h"

namespace lockstep::api {
namespace {

// Answers every request on one worker thread, with the path as the body (or `body_bytes` of
// filler when set), counting the requests it was given.
class AnsweringThread {
 public:
  AnsweringThread() : worker_([this] { run(); }) {}
  ~AnsweringThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }
  HttpServer::Handler handler() {
    return [this](std::string_view method, std::string_view path, std::string_view body,
                  HttpRespond respond) {
      requests_.fetch_add(1);
      HttpResponse response;
      response.body = body_bytes_ > 0 ? std::string(body_bytes_, 'r')
                                      : std::string(method) + " " + std::string(path) + " " +
                                            std::to_string(body.size());
      std::lock_guard lock(mutex_);
      pending_.emplace_back(std::move(respond), std::move(response));
      wake_.notify_one();
    };
  }
  uint64_t requests() const { return requests_.load(); }
  void set_body_bytes(size_t bytes) { body_bytes_ = bytes; }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      auto [respond, response] = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      respond(std::move(response));
      lock.lock();
    }
  }

  std::atomic<uint64_t> requests_{0};
  size_t body_bytes_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<HttpRespond, HttpResponse>> pending_;
  bool stopping_ = false;
  std::thread worker_;
};

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path().string() + "/lockstep-https-" +
                 std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pki_ = std::make_unique<server::TestPki>(directory_, "ca");
    server::TlsFiles server_files = pki_->issue("server");
    server_files.client_cert_auth = true;
    Result<std::shared_ptr<const server::TlsContext>> server_context =
        server::TlsContext::create(server::TlsRole::kServer, server_files);
    ASSERT_TRUE(server_context.is_ok()) << server_context.error();
    Result<std::shared_ptr<const server::TlsContext>> client_context =
        server::TlsContext::create(server::TlsRole::kClient, pki_->issue("client"));
    ASSERT_TRUE(client_context.is_ok()) << client_context.error();
    client_context_ = *client_context;
    // HTTP/1.1 only, as on etcd's --listen-client-http-urls (no HTTP/2 handoff to gRPC).
    Result<std::unique_ptr<HttpServer>> server =
        HttpServer::start("127.0.0.1", 0, answering_.handler(), nullptr, *server_context);
    ASSERT_TRUE(server.is_ok()) << server.error();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  std::unique_ptr<Client> connect() {
    return std::make_unique<Client>(server_->port(), *client_context_);
  }

  // The response (Content-Length framed) at the front of `buffered`, once it is complete.
  static std::optional<std::string> take_response(std::string& buffered) {
    const size_t head_end = buffered.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    const size_t length_at = buffered.find("Content-Length: ");
    if (length_at == std::string::npos || length_at > head_end) return "no Content-Length";
    const size_t length = std::stoul(buffered.substr(length_at + 16));
    if (buffered.size() < head_end + 4 + length) return std::nullopt;
    std::string response = buffered.substr(0, head_end + 4 + length);
    buffered.erase(0, response.size());
    return response;
  }
  // Reads one response off a blocking `client`; "" when the connection ended.
  static std::string read_response(Client& client, std::string& buffered) {
    while (true) {
      if (std::optional<std::string> response = take_response(buffered)) return *response;
      char chunk[16 * 1024];
      const TlsResult received = client.tls->read(chunk);
      if (received.status != TlsStatus::kDone) return "";
      buffered.append(chunk, received.bytes);
    }
  }
  static std::string body_of(const std::string& response) {
    const size_t head_end = response.find("\r\n\r\n");
    return head_end == std::string::npos ? "" : response.substr(head_end + 4);
  }

  std::string directory_;
  std::unique_ptr<server::TestPki> pki_;
  std::shared_ptr<const server::TlsContext> client_context_;
  AnsweringThread answering_;
  std::unique_ptr<HttpServer> server_;
};

// More connections than the thread-per-connection server allowed (256, then a 503), all open
// at once before any request, each served twice over keep-alive.
TEST_F(HttpServerTlsTest, ServesManyConcurrentKeepAliveConnections) {
  constexpr int kConnections = 320;
  std::vector<std::unique_ptr<Client>> clients;
  for (int at = 0; at < kConnections; ++at) {
    clients.push_back(connect());
    ASSERT_TRUE(clients.back()->connected())
        << at << ": " << clients.back()->handshake_result.error;
  }
  for (int round = 0; round < 2; ++round) {
    for (int at = 0; at < kConnections; ++at) {
      const std::string request = "GET /c" + std::to_string(at) + " HTTP/1.1\r\nHost: x\r\n\r\n";
      ASSERT_EQ(clients[static_cast<size_t>(at)]->write_all(request).status, TlsStatus::kDone);
    }
    for (int at = 0; at < kConnections; ++at) {
      std::string buffered;
      const std::string response = read_response(*clients[static_cast<size_t>(at)], buffered);
      ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK")) << at << ": " << response;
      EXPECT_EQ(body_of(response), "GET /c" + std::to_string(at) + " 0");
    }
  }
  EXPECT_EQ(answering_.requests(), 2u * kConnections);
}

// Requests sent back to back in one write are answered in order on the same connection; a
// final "Connection: close" ends it after its answer.
TEST_F(HttpServerTlsTest, PipelinedRequestsAreAnsweredInOrder) {
  constexpr int kRequests = 50;
  std::string requests;
  for (int at = 0; at < kRequests; ++at) {
    const std::string body(static_cast<size_t>(at), 'b');
    requests += "POST /p" + std::to_string(at) +
                " HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  requests += "GET /last HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::unique_ptr<Client> client = connect();
  ASSERT_EQ(client->write_all(requests).status, TlsStatus::kDone);
  std::string buffered;
  for (int at = 0; at < kRequests; ++at) {
    const std::string response = read_response(*client, buffered);
    ASSERT_EQ(body_of(response), "POST /p" + std::to_string(at) + " " + std::to_string(at));
  }
  const std::string last = read_response(*client, buffered);
  EXPECT_EQ(body_of(last), "GET /last 0");
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  std::string after;
  EXPECT_EQ(client->read_to_end(after), TlsStatus::kClosed);
  EXPECT_EQ(after, "");
}

// A client's half-close (close_notify after its requests): every request already sent is
// answered, in order, and then the server closes (etcd's gateway, Go's net/http, does the
// same for requests it has read).
TEST_F(HttpServerTlsTest, HalfClosedClientGetsItsAnswers) {
  std::unique_ptr<Client> client = connect();
  ASSERT_EQ(client->write_all("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n").status,
            TlsStatus::kDone);
  client->tls->close_notify();
  std::string buffered;
  EXPECT_EQ(body_of(read_response(*client, buffered)), "GET /1 0");
  EXPECT_EQ(body_of(read_response(*client, buffered)), "GET /2 0");
  std::string after;
  EXPECT_EQ(client->read_to_end(after), TlsStatus::kClosed);
  EXPECT_EQ(after, "");
}

// A client that pipelines requests without reading the answers: the server stops taking its
// requests once the answers back up (bounded memory, and the client's writes stall), other
// clients are served meanwhile, and once the client reads, every request it sent is
// answered.
TEST_F(HttpServerTlsTest, SlowReaderIsHeldBackWithoutUnboundedBuffering) {
  constexpr size_t kBodyBytes = 16 * 1024;
  answering_.set_body_bytes(kBodyBytes);
  const std::string request =
      "POST /slow HTTP/1.1\r\nContent-Length: " + std::to_string(kBodyBytes) + "\r\n\r\n" +
      std::string(kBodyBytes, 'q');
  // 256 MiB of requests (and as much in answers) offered; the loopback's socket buffers hold
  // a few tens of MiB each way (tcp_rmem's maximum here is 32 MiB).
  constexpr size_t kOffered = 256u << 20;
  std::unique_ptr<Client> slow = connect();
  ASSERT_TRUE(slow->connected());
  ::fcntl(slow->fd, F_SETFL, ::fcntl(slow->fd, F_GETFL, 0) | O_NONBLOCK);
  size_t written = 0;
  int stalls = 0;
  while (written < kOffered && stalls < 100) {
    const TlsResult sent =
        slow->tls->write(std::string_view(request).substr(written % request.size()));
    if (sent.status == TlsStatus::kDone) {
      written += sent.bytes;
      stalls = 0;
      continue;
    }
    ASSERT_EQ(sent.status, TlsStatus::kWantWrite) << sent.error;
    ++stalls;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(written, kOffered / 2) << "the server kept reading a client that reads nothing";
  const uint64_t taken_while_stalled = answering_.requests();
  EXPECT_LT(taken_while_stalled, kOffered / request.size() / 2);

  std::unique_ptr<Client> other = connect();
  ASSERT_EQ(other->write_all("GET /other HTTP/1.1\r\n\r\n").status, TlsStatus::kDone);
  std::string other_buffered;
  EXPECT_TRUE(read_response(*other, other_buffered).starts_with("HTTP/1.1 200 OK"));

  // Now the client reads, while finishing the request cut off by the last stall (a write
  // retried after kWantWrite repeats the same bytes).
  std::string remainder =
      written % request.size() == 0 ? "" : request.substr(written % request.size());
  const size_t complete = (written + remainder.size()) / request.size();
  std::string buffered;
  size_t answered = 0;
  while (answered < complete) {
    if (!remainder.empty()) {
      const TlsResult sent = slow->tls->write(remainder);
      if (sent.status == TlsStatus::kDone) remainder.erase(0, sent.bytes);
      ASSERT_TRUE(sent.status == TlsStatus::kDone || sent.status == TlsStatus::kWantWrite);
    }
    char chunk[16 * 1024];
    const TlsResult received = slow->tls->read(chunk);
    if (received.status == TlsStatus::kDone) {
      buffered.append(chunk, received.bytes);
    } else {
      ASSERT_EQ(received.status, TlsStatus::kWantRead) << answered << " of " << complete;
      pollfd ready{slow->fd, POLLIN, 0};
      ::poll(&ready, 1, 10);
    }
    while (std::optional<std::string> response = take_response(buffered)) {
      ASSERT_TRUE(response->starts_with("HTTP/1.1 200 OK")) << answered << " of " << complete;
      ASSERT_EQ(body_of(*response).size(), kBodyBytes);
      ++answered;
    }
  }
  EXPECT_EQ(buffered, "");
  EXPECT_EQ(answering_.requests(), complete + 1);
}

// A plain (http://) listener runs on the same event loops: more connections than the old
// thread-per-connection limit (256), all open at once, pipelined requests answered in order.
TEST(HttpServerPlainTest, ServesManyConcurrentPipelinedConnections) {
  AnsweringThread answering;
  Result<std::unique_ptr<HttpServer>> started =
      HttpServer::start("127.0.0.1", 0, answering.handler());
  ASSERT_TRUE(started.is_ok()) << started.error();
  std::unique_ptr<HttpServer> server = std::move(started).value();
  constexpr int kConnections = 320;
  std::vector<int> sockets;
  for (int at = 0; at < kConnections; ++at) sockets.push_back(connect_loopback(server->port()));
  for (int at = 0; at < kConnections; ++at) {
    const std::string requests = "GET /a" + std::to_string(at) + " HTTP/1.1\r\n\r\nGET /b" +
                                 std::to_string(at) + " HTTP/1.1\r\n\r\n";
    ASSERT_TRUE(send_all(sockets[static_cast<size_t>(at)], requests));
  }
  for (int at = 0; at < kConnections; ++at) {
    const int fd = sockets[static_cast<size_t>(at)];
    std::string received;
    char chunk[4096];
    const std::string second = "GET /b" + std::to_string(at) + " 0";
    while (received.find(second) == std::string::npos) {
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      ASSERT_GT(got, 0) << "connection " << at << " ended after: " << received;
      received.append(chunk, static_cast<size_t>(got));
    }
    EXPECT_LT(received.find("GET /a" + std::to_string(at) + " 0"), received.find(second));
    EXPECT_EQ(received.find("503"), std::string::npos);
    ::close(fd);
  }
  EXPECT_EQ(answering.requests(), 2u * kConnections);
}

}  // namespace
}  // namespace lockstep::api
