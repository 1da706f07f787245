#include "server/api/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>

#include "server/api/tls_relay.h"

namespace lockstep::api {
namespace {

constexpr int kListenBacklog = 1024;
// RFC 9113 §3.4: every HTTP/2 connection opens with this. "PRI" is no HTTP/1.1 method, so three
// matching bytes already tell the protocols apart.
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kSniffBytes = 3;

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(
    const std::string& host, int port, Handler handler, Http2Handoff http2,
    std::shared_ptr<const server::TlsContext> tls) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return Error(ErrorCode::kInvalidInput, "not an IPv4 address: " + host);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kIoError, std::string("socket: ") + std::strerror(errno));
  const int enable = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, kListenBacklog) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return Error(ErrorCode::kIoError,
                 "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::unique_ptr<HttpServer> server(
      new HttpServer(fd, ntohs(address.sin_port), std::move(handler), std::move(http2), tls));
  if (tls != nullptr) {
    TlsRelay::Options options;
    options.http2 = server->http2_ != nullptr;
    options.response_timeout = std::chrono::seconds(kResponseTimeoutSeconds);
    // HTTP/1.1 is served on the relay's threads; only HTTP/2 is handed over (to gRPC).
    options.http1 = [&handler = server->handler_](const Http1Request& request,
                                                  HttpRespond respond) {
      handler(request.method, request.path, request.body, std::move(respond));
    };
    HttpServer* adopter = server.get();
    Result<std::unique_ptr<TlsRelay>> relay = TlsRelay::start(
        fd, std::move(tls),
        [adopter](int plain, TlsRelay::Protocol) { adopter->adopt_from_relay(plain); }, options);
    if (!relay.is_ok()) return relay.error();
    server->relay_ = std::move(relay).value();
  }
  return server;
}

HttpServer::HttpServer(int listen_fd, int port, Handler handler, Http2Handoff http2,
                       std::shared_ptr<const server::TlsContext> tls)
    : listen_fd_(listen_fd),
      port_(port),
      handler_(std::move(handler)),
      http2_(std::move(http2)),
      tls_(std::move(tls)) {
  if (tls_ == nullptr) accept_thread_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
  shutdown();
}

void HttpServer::shutdown() {
  if (stopping_.exchange(true)) return;
  // shutdown() wakes the blocked accept() and recv() calls; close() alone would not.
  // Before the HTTP/1.1 threads are joined: the relay closing its socketpair ends ends them.
  if (relay_) relay_->stop();
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    for (auto& connection : connections_) {
      if (connection->fd >= 0) ::shutdown(connection->fd, SHUT_RDWR);
    }
    connections.swap(connections_);
  }
  for (auto& connection : connections) {
    if (connection->thread.joinable()) connection->thread.join();
  }
}

void HttpServer::reap_finished_locked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->finished) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // the listening socket was shut down
    }
    std::lock_guard lock(mutex_);
    reap_finished_locked();
    if (stopping_ || connections_.size() >= kMaxConnections) {
      send_all(fd, render_http_response(plain_http_response(503, "too many connections\n"), false));
      ::close(fd);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection& added = *connection;
    connections_.push_back(std::move(connection));
    added.thread = std::thread([this, &added] {
      const Protocol protocol = http2_ ? sniff(added.fd) : Protocol::kHttp1;
      if (protocol == Protocol::kHttp2) {
        std::lock_guard handoff_lock(mutex_);
        if (!stopping_) {
          // What gRPC's own listener sets on accepted sockets: its pollers need non-blocking
          // descriptors (a blocking one stalls every connection), and Nagle would hold small
          // responses back for the peer's delayed ACK.
          const int flags = ::fcntl(added.fd, F_GETFL, 0);
          ::fcntl(added.fd, F_SETFL, flags | O_NONBLOCK);
          const int no_delay = 1;
          ::setsockopt(added.fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
          http2_(added.fd);  // the fd is gRPC's now
          added.fd = -1;
        }
      } else if (protocol == Protocol::kHttp1) {
        serve_connection(added);
      }
      // Close here, not at reaping: the client waits for EOF after a "Connection: close".
      std::lock_guard done_lock(mutex_);
      if (added.fd >= 0) ::close(added.fd);
      added.fd = -1;
      added.finished = true;
    });
  }
}

// Peeks (MSG_PEEK: the bytes stay for whoever serves the connection) until the first bytes
// match or leave the HTTP/2 preface.
HttpServer::Protocol HttpServer::sniff(int fd) const {
  std::array<char, kSniffBytes> first{};
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kSniffTimeoutMilliseconds);
  size_t seen_before = 0;
  while (!stopping_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Protocol::kNone;
    pollfd readable{fd, POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return Protocol::kNone;
    const ssize_t peeked = ::recv(fd, first.data(), first.size(), MSG_PEEK | MSG_DONTWAIT);
    if (peeked < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (peeked <= 0) return Protocol::kNone;
    const std::string_view seen(first.data(), static_cast<size_t>(peeked));
    if (!kHttp2Preface.starts_with(seen)) return Protocol::kHttp1;
    if (seen.size() == kSniffBytes) return Protocol::kHttp2;
    // Only a prefix of the preface so far; poll() stays readable on the same bytes, so pause
    // briefly instead of spinning until more arrive.
    if (seen.size() == seen_before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    seen_before = seen.size();
  }
  return Protocol::kNone;
}

void HttpServer::adopt_from_relay(int fd) {
  std::lock_guard lock(mutex_);
  if (stopping_) {
    ::close(fd);
    return;
  }
  // gRPC's pollers need a non-blocking descriptor (see the plain handoff in accept_loop).
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  http2_(fd);  // gRPC's now
}

// A plain HTTP/1.1 connection on its own thread, blocking: the same Http1Connection as the
// relay's, driven by recv/send and a wait for each answer.
void HttpServer::serve_connection(Connection& connection) {
  Http1Connection http;
  std::array<char, 16 * 1024> chunk{};
  while (!stopping_ && !http.finished()) {
    if (std::optional<Http1Request> request = http.next_request()) {
      // The handler may answer from another thread (the member's completion).
      auto answered = std::make_shared<std::promise<HttpResponse>>();
      std::future<HttpResponse> answer = answered->get_future();
      handler_(request->method, request->path, request->body,
               [answered](HttpResponse response) { answered->set_value(std::move(response)); });
      if (answer.wait_for(std::chrono::seconds(kResponseTimeoutSeconds)) ==
          std::future_status::ready) {
        http.respond(request->sequence, answer.get());
      } else {
        http.time_out(request->sequence);
      }
    }
    if (!http.unsent().empty()) {
      if (!send_all(connection.fd, http.unsent())) return;
      http.sent(http.unsent().size());
      continue;
    }
    if (http.finished()) return;
    if (!http.wants_input()) continue;  // a complete request waits to be taken
    const ssize_t received = ::recv(connection.fd, chunk.data(), chunk.size(), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received < 0) return;
    if (received == 0) {
      http.received_end();
    } else {
      http.received(std::string_view(chunk.data(), static_cast<size_t>(received)));
    }
  }
}

}  // namespace lockstep::api
