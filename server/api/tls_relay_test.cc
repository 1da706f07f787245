// TlsRelay on its own: TLS clients on loopback, and behind the relay an echo service standing
// in for gRPC and the gateway (one thread per handed-over socket, blocking, as HttpServer's
// HTTP/1.1 side is). Certificates from server/'s throwaway test CA.
#include "server/api/tls_relay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/api/tls_test_client.h"
#include "server/test_pki.h"
#include "server/tls_session.h"

namespace lockstep::api {
namespace {

constexpr auto kWaitStep = std::chrono::milliseconds(5);
constexpr int kWaitSteps = 2000;  // 10 s: generous for a loaded machine; never a timing check

int listen_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(fd, 1024), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

// Echoes every handed-over socket until EOF, then closes it: what arrives after the client's
// half-close still comes back.
class EchoService {
 public:
  ~EchoService() { join(); }
  void adopt(int fd, TlsRelay::Protocol protocol) {
    std::lock_guard lock(mutex_);
    protocols_.push_back(protocol);
    threads_.emplace_back([fd] {
      char chunk[16 * 1024];
      while (true) {
        const ssize_t received = ::recv(fd, chunk, sizeof chunk, 0);
        if (received <= 0) break;
        if (!send_all(fd, std::string_view(chunk, static_cast<size_t>(received)))) break;
      }
      ::close(fd);
    });
  }
  std::vector<TlsRelay::Protocol> protocols() {
    std::lock_guard lock(mutex_);
    return protocols_;
  }
  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& thread : threads) thread.join();
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<TlsRelay::Protocol> protocols_;
};

class TlsRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path().string() + "/lockstep-relay-" +
                 std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pki_ = std::make_unique<server::TestPki>(directory_, "ca");
    server_files_ = pki_->issue("server");
    client_files_ = pki_->issue("client");
  }
  void TearDown() override {
    relay_.reset();
    echo_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::filesystem::remove_all(directory_);
  }

  void start(TlsRelay::Options options = {}) {
    Result<std::shared_ptr<const server::TlsContext>> context =
        server::TlsContext::create(server::TlsRole::kServer, server_files_);
    ASSERT_TRUE(context.is_ok()) << context.error();
    server_context_ = *context;
    listen_fd_ = listen_loopback(port_);
    Result<std::unique_ptr<TlsRelay>> relay = TlsRelay::start(
        listen_fd_, server_context_,
        [this](int fd, TlsRelay::Protocol protocol) { echo_.adopt(fd, protocol); }, options);
    ASSERT_TRUE(relay.is_ok()) << relay.error();
    relay_ = std::move(relay).value();
    Result<std::shared_ptr<const server::TlsContext>> client =
        server::TlsContext::create(server::TlsRole::kClient, client_files_);
    ASSERT_TRUE(client.is_ok()) << client.error();
    client_context_ = *client;
  }

  template <typename Predicate>
  bool eventually(Predicate predicate) {
    for (int step = 0; step < kWaitSteps; ++step) {
      if (predicate()) return true;
      std::this_thread::sleep_for(kWaitStep);
    }
    return predicate();
  }

  std::string directory_;
  std::unique_ptr<server::TestPki> pki_;
  server::TlsFiles server_files_;
  server::TlsFiles client_files_;
  std::shared_ptr<const server::TlsContext> server_context_;
  std::shared_ptr<const server::TlsContext> client_context_;
  int listen_fd_ = -1;
  int port_ = 0;
  EchoService echo_;
  std::unique_ptr<TlsRelay> relay_;
};

// More connections than the thread-per-connection relay allowed (256), all open at once,
// handshaken from several client threads, each echoing its own bytes.
TEST_F(TlsRelayTest, ServesManyConcurrentConnections) {
  start();
  constexpr int kClientThreads = 8;
  constexpr int kPerThread = 40;  // 320 in all
  std::vector<std::vector<std::unique_ptr<Client>>> clients(kClientThreads);
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kClientThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int at = 0; at < kPerThread; ++at) {
        clients[static_cast<size_t>(thread)].push_back(
            std::make_unique<Client>(port_, *client_context_));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(relay_->stats().open, static_cast<uint64_t>(kClientThreads * kPerThread));
  for (int thread = 0; thread < kClientThreads; ++thread) {
    for (int at = 0; at < kPerThread; ++at) {
      Client& client = *clients[static_cast<size_t>(thread)][static_cast<size_t>(at)];
      ASSERT_TRUE(client.connected()) << client.handshake_result.error;
      const std::string message = "GET /" + std::to_string(thread) + "/" + std::to_string(at);
      EXPECT_EQ(client.round_trip(message), message);
    }
  }
  EXPECT_EQ(relay_->stats().relayed, static_cast<uint64_t>(kClientThreads * kPerThread));
  clients.clear();
  EXPECT_TRUE(eventually([&] { return relay_->stats().open == 0; }));
}

// A client that sends a lot and reads nothing: the relay stops reading it once its buffers and
// the sockets' are full (it does not buffer the rest in memory), other clients are served
// meanwhile, and once the client reads, every byte arrives in order.
TEST_F(TlsRelayTest, SlowReaderIsHeldBackWithoutUnboundedBuffering) {
  start();
  Client slow(port_, *client_context_);
  ASSERT_TRUE(slow.connected());
  ASSERT_EQ(slow.round_trip("GET /slow"), "GET /slow");
  ::fcntl(slow.fd, F_SETFL, ::fcntl(slow.fd, F_GETFL, 0) | O_NONBLOCK);
  // 256 MiB offered; a relay that buffered without bound would take it all, while the sockets
  // and the relay hold at most a few tens of MiB (tcp_rmem/tcp_wmem maxima, 2 x 32 KiB).
  constexpr size_t kOffered = 256u << 20;
  std::string pattern(1 << 16, '\0');
  for (size_t at = 0; at < pattern.size(); ++at) pattern[at] = static_cast<char>('a' + at % 26);
  // Byte i of the stream is pattern[i % size] (a write may take only part of what it is given).
  size_t written = 0;
  int stalls = 0;
  while (written < kOffered && stalls < 100) {
    const TlsResult sent =
        slow.tls->write(std::string_view(pattern).substr(written % pattern.size()));
    if (sent.status == TlsStatus::kDone) {
      written += sent.bytes;
      stalls = 0;
      continue;
    }
    ASSERT_EQ(sent.status, TlsStatus::kWantWrite) << sent.error;
    ++stalls;  // the relay may still be draining; give it a moment before calling it stuck
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(written, kOffered / 2) << "the relay kept reading a client that reads nothing";

  Client other(port_, *client_context_);
  ASSERT_TRUE(other.connected());
  EXPECT_EQ(other.round_trip("GET /other"), "GET /other");

  ::fcntl(slow.fd, F_SETFL, ::fcntl(slow.fd, F_GETFL, 0) & ~O_NONBLOCK);
  // Writes of the same bytes were retried after each kWantWrite, so `written` is exact.
  std::string echoed = slow.read_exactly(written);
  ASSERT_EQ(echoed.size(), written);
  for (size_t at = 0; at < echoed.size(); at += 4099) {
    ASSERT_EQ(echoed[at], pattern[at % pattern.size()]) << at;
  }
}

// Clients that leave mid-handshake, or say nothing: closed and forgotten (the silent one at
// the setup timeout), and the relay keeps serving.
TEST_F(TlsRelayTest, ClientsLeavingOrStallingMidHandshakeAreClosed) {
  TlsRelay::Options options;
  options.setup_timeout = std::chrono::milliseconds(200);
  start(options);
  {
    // A TLS record header announcing a ClientHello that never comes in full.
    const int fd = connect_loopback(port_);
    const std::string partial("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9);
    ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(partial.size()));
    ::close(fd);
  }
  const int silent = connect_loopback(port_);
  EXPECT_TRUE(eventually([&] { return relay_->stats().handshakes_failed >= 1; }));
  EXPECT_TRUE(eventually([&] { return relay_->stats().setup_timeouts == 1; }));
  char byte = 0;
  EXPECT_EQ(::recv(silent, &byte, 1, 0), 0) << "the silent client is closed";
  ::close(silent);
  EXPECT_TRUE(eventually([&] { return relay_->stats().open == 0; }));
  Client client(port_, *client_context_);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.round_trip("GET /still-serving"), "GET /still-serving");
}

// Plain HTTP to the TLS port: refused without an answer, as etcd 3.4 does (curl: "Empty reply
// from server"), and counted.
TEST_F(TlsRelayTest, PlainHttpToTheTlsPortIsRefused) {
  start();
  const int fd = connect_loopback(port_);
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  char reply[256];
  EXPECT_LE(::recv(fd, reply, sizeof reply, 0), 0);
  ::close(fd);
  EXPECT_EQ(relay_->stats().handshakes_failed, 1u);
  EXPECT_EQ(relay_->stats().relayed, 0u);
  Client client(port_, *client_context_);
  EXPECT_EQ(client.round_trip("GET /fine"), "GET /fine");
}

// Without ALPN the first decrypted bytes choose: HTTP/2's preface goes to the HTTP/2 side.
TEST_F(TlsRelayTest, FirstBytesChooseTheProtocolWithoutAlpn) {
  start();
  Client http2(port_, *client_context_);
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  EXPECT_EQ(http2.round_trip(preface), preface);
  Client http1(port_, *client_context_);
  EXPECT_EQ(http1.round_trip("GET / HTTP/1.1\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(echo_.protocols(), (std::vector<TlsRelay::Protocol>{TlsRelay::Protocol::kHttp2,
                                                                TlsRelay::Protocol::kHttp1}));
}

// The client's close_notify reaches the server side as EOF after its bytes, and the answer
// written after that still comes back before the relay's own close_notify.
TEST_F(TlsRelayTest, HalfCloseFromTheClientStillGetsTheAnswer) {
  start();
  Client client(port_, *client_context_);
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.write_all("GET /last").status, TlsStatus::kDone);
  client.tls->close_notify();  // TLS 1.3: the client may still read after its close_notify
  std::string got;
  EXPECT_EQ(client.read_to_end(got), TlsStatus::kClosed);  // the relay's close_notify
  EXPECT_EQ(got, "GET /last");
}

// stop(): the client sees an orderly TLS close (close_notify), not a reset or a hang.
TEST_F(TlsRelayTest, StopClosesClientsWithCloseNotify) {
  start();
  Client client(port_, *client_context_);
  ASSERT_EQ(client.round_trip("GET /before-stop"), "GET /before-stop");
  relay_->stop();
  std::string got;
  EXPECT_EQ(client.read_to_end(got), TlsStatus::kClosed);
  EXPECT_EQ(relay_->stats().open, 0u);
}

int highest_open_descriptor() {
  int highest = 0;
  DIR* directory = ::opendir("/proc/self/fd");
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] != '.') highest = std::max(highest, std::atoi(entry->d_name));
  }
  ::closedir(directory);
  return highest;
}

// At the file descriptor limit a new connection is closed at once (and counted), the open ones
// keep working, and new ones are served again once descriptors are free.
TEST_F(TlsRelayTest, RefusesNewConnectionsAtTheDescriptorLimitAndRecovers) {
  TlsRelay::Options options;
  options.threads = 1;  // one reserve descriptor, so each refusal goes the same way
  start(options);
  Client first(port_, *client_context_);
  ASSERT_EQ(first.round_trip("GET /1"), "GET /1");
  // Client sockets made while there is room; connected after the limit is lowered.
  std::vector<int> sockets;
  for (int at = 0; at < 3; ++at)
    sockets.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor number up to the highest open one is taken, then the limit set just above
  // it: no new descriptor can be had.
  std::vector<int> fillers;
  const int highest = highest_open_descriptor();
  while (true) {
    const int filler = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (filler > highest) {
      ::close(filler);
      break;
    }
    fillers.push_back(filler);
  }
  rlimit lowered = saved;
  lowered.rlim_cur = static_cast<rlim_t>(highest + 1);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  for (const int fd : sockets) {
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  const bool refused = eventually([&] { return relay_->stats().refused_no_descriptors == 3; });
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  for (const int filler : fillers) ::close(filler);
  EXPECT_TRUE(refused);
  for (const int fd : sockets) {
    char byte = 0;
    EXPECT_LE(::recv(fd, &byte, 1, 0), 0) << "a refused connection is closed, not left waiting";
    ::close(fd);
  }
  EXPECT_EQ(first.round_trip("GET /2"), "GET /2");
  Client later(port_, *client_context_);
  ASSERT_TRUE(later.connected()) << later.handshake_result.error;
  EXPECT_EQ(later.round_trip("GET /3"), "GET /3");
}

// etcd re-reads the key pair for every handshake; lockstep reloads it when the files change:
// a new connection gets the rotated certificate, an open one keeps working, and a broken file
// keeps the previous certificate.
TEST_F(TlsRelayTest, RotatedCertificateIsServedToNewConnections) {
  start();
  Client before(port_, *client_context_);
  ASSERT_EQ(before.round_trip("GET /a"), "GET /a");
  EXPECT_EQ(before.tls->peer_subject(), "/CN=server");

  // Rotated by rename, as tools that write certificates atomically do.
  const server::TlsFiles rotated = pki_->issue("server-rotated");
  std::filesystem::rename(rotated.key_file, server_files_.key_file);
  std::filesystem::rename(rotated.cert_file, server_files_.cert_file);
  Client after(port_, *client_context_);
  ASSERT_EQ(after.round_trip("GET /b"), "GET /b");
  EXPECT_EQ(after.tls->peer_subject(), "/CN=server-rotated");
  EXPECT_EQ(server_context_->reloads(), 1u);
  EXPECT_EQ(before.round_trip("GET /c"), "GET /c");

  // Rewritten in place with garbage: logged, and the rotated certificate stays in service.
  {
    std::ofstream broken(server_files_.cert_file, std::ios::trunc);
    broken << "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n";
  }
  Client during(port_, *client_context_);
  ASSERT_EQ(during.round_trip("GET /d"), "GET /d");
  EXPECT_EQ(during.tls->peer_subject(), "/CN=server-rotated");
  EXPECT_EQ(server_context_->failed_reloads(), 1u);
  EXPECT_EQ(server_context_->reloads(), 1u);
}

// etcd's --client-crl-file: a client whose certificate the list revokes is refused; one it
// does not is served; and a new list takes effect for new connections.
TEST_F(TlsRelayTest, RevokedClientCertificateIsRefused) {
  const server::TlsFiles revoked_files = pki_->issue("revoked-client");
  const std::string crl = directory_ + "/crl.pem";
  pki_->write_crl(crl, {revoked_files.cert_file});
  server_files_.client_cert_auth = true;
  server_files_.crl_file = crl;
  start();
  Result<std::shared_ptr<const server::TlsContext>> revoked_context =
      server::TlsContext::create(server::TlsRole::kClient, revoked_files);
  ASSERT_TRUE(revoked_context.is_ok());

  Client good(port_, *client_context_);
  EXPECT_EQ(good.round_trip("GET /good"), "GET /good");
  Client revoked(port_, **revoked_context);
  // TLS 1.3: the client finishes its handshake first and learns of the refusal on reading.
  EXPECT_NE(revoked.round_trip("GET /revoked"), "GET /revoked");
  EXPECT_TRUE(eventually([&] { return relay_->stats().handshakes_failed == 1; }));

  pki_->write_crl(crl, {});  // the revocation lifted
  Client readmitted(port_, **revoked_context);
  EXPECT_EQ(readmitted.round_trip("GET /again"), "GET /again");
}

// A CRL that becomes unreadable or corrupt at a reload refuses every client that presents a
// certificate, as etcd's checkCRL (pkg/transport/listener_tls.go) does by reading the file at
// each handshake and failing the connection on a read or parse error; keeping the previous
// list instead would silently drop revocations added since. A fixed file readmits them.
TEST_F(TlsRelayTest, UnusableCrlAtReloadRefusesEveryCertificate) {
  const std::string crl = directory_ + "/crl.pem";
  pki_->write_crl(crl, {});
  server_files_.client_cert_auth = true;
  server_files_.crl_file = crl;
  start();
  Client before(port_, *client_context_);
  ASSERT_EQ(before.round_trip("GET /before"), "GET /before");

  {
    std::ofstream(crl, std::ios::trunc)
        << "-----BEGIN X509 CRL-----\ncorrupt\n-----END X509 CRL-----\n";
  }
  Client corrupt(port_, *client_context_);
  EXPECT_NE(corrupt.round_trip("GET /corrupt"), "GET /corrupt");
  EXPECT_TRUE(eventually([&] { return relay_->stats().handshakes_failed == 1; }));
  EXPECT_NE(server_context_->crl_error().find(crl), std::string::npos)
      << server_context_->crl_error();
  // The connection made before the change keeps its session.
  EXPECT_EQ(before.round_trip("GET /still"), "GET /still");

  std::filesystem::remove(crl);
  Client missing(port_, *client_context_);
  EXPECT_NE(missing.round_trip("GET /missing"), "GET /missing");
  EXPECT_TRUE(eventually([&] { return relay_->stats().handshakes_failed == 2; }));
  EXPECT_NE(server_context_->crl_error().find("open " + crl), std::string::npos)
      << server_context_->crl_error();

  pki_->write_crl(crl, {});
  Client fixed(port_, *client_context_);
  EXPECT_EQ(fixed.round_trip("GET /fixed"), "GET /fixed");
  EXPECT_EQ(server_context_->crl_error(), "");
  EXPECT_EQ(server_context_->crl_failures(), 1u);  // corrupt then missing: one stretch
}

// HTTP/1.1 served on the relay's own threads (Options::http1): a handler that answers at once
// (on the relay's thread) and one that does not answer within response_timeout (504; its late
// answer is dropped and the connection goes on); stop() ends the connections.
TEST_F(TlsRelayTest, Http1OnTheLoopAnswersInTimeOrWith504) {
  std::mutex held_mutex;
  std::vector<HttpRespond> held;
  TlsRelay::Options options;
  options.response_timeout = std::chrono::milliseconds(200);
  options.http1 = [&](const Http1Request& request, HttpRespond respond) {
    if (request.path == "/hang") {
      std::lock_guard lock(held_mutex);
      held.push_back(std::move(respond));
      return;
    }
    respond(plain_http_response(200, "at once " + request.path));
  };
  start(options);
  Client client(port_, *client_context_);
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.write_all("GET /hang HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n").status,
            TlsStatus::kDone);
  const std::string timed_out = "HTTP/1.1 504 Gateway Timeout";
  EXPECT_EQ(client.read_exactly(timed_out.size()), timed_out);
  {
    std::lock_guard lock(held_mutex);
    ASSERT_EQ(held.size(), 1u);
    held.front()(plain_http_response(200, "too late"));  // dropped
  }
  const std::string rest_of_504 =
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 34\r\n\r\n"
      "the member did not answer in time\n";
  EXPECT_EQ(client.read_exactly(rest_of_504.size()), rest_of_504);
  const std::string next =
      render_http_response(plain_http_response(200, "at once /next"), /*keep_alive=*/true);
  EXPECT_EQ(client.read_exactly(next.size()), next);
  EXPECT_EQ(relay_->stats().http1_served, 1u);
  EXPECT_EQ(relay_->stats().http1_requests, 2u);
  EXPECT_EQ(relay_->stats().http1_timeouts, 1u);
  EXPECT_EQ(relay_->stats().relayed, 0u) << "no socketpair for HTTP/1.1";

  relay_->stop();
  std::string after;
  EXPECT_EQ(client.read_to_end(after), TlsStatus::kClosed) << "close_notify on stop";
  EXPECT_EQ(after, "");
}

}  // namespace
}  // namespace lockstep::api
