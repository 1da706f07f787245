#include "server/api/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "server/api/tls_relay.h"

namespace lockstep::api {
namespace {

constexpr int kListenBacklog = 1024;

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
      new HttpServer(fd, ntohs(address.sin_port), std::move(handler), std::move(http2)));
  TlsRelay::Options options;
  options.http2 = server->http2_ != nullptr;
  options.setup_timeout = std::chrono::milliseconds(kSniffTimeoutMilliseconds);
  options.response_timeout = std::chrono::seconds(kResponseTimeoutSeconds);
  // HTTP/1.1 is served on the loops' threads; only HTTP/2 is handed over (to gRPC).
  options.http1 = [&handler = server->handler_](const Http1Request& request, HttpRespond respond) {
    handler(request.method, request.path, request.body, std::move(respond));
  };
  HttpServer* adopter = server.get();
  Result<std::unique_ptr<TlsRelay>> loops = TlsRelay::start(
      fd, std::move(tls), [adopter](int plain, TlsRelay::Protocol) { adopter->adopt_http2(plain); },
      options);
  if (!loops.is_ok()) return loops.error();
  server->loops_ = std::move(loops).value();
  return server;
}

HttpServer::HttpServer(int listen_fd, int port, Handler handler, Http2Handoff http2)
    : listen_fd_(listen_fd), port_(port), handler_(std::move(handler)), http2_(std::move(http2)) {}

HttpServer::~HttpServer() {
  shutdown();
}

void HttpServer::shutdown() {
  if (stopping_.exchange(true)) return;
  if (loops_) loops_->stop();
  ::close(listen_fd_);
}

void HttpServer::adopt_http2(int fd) {
  if (stopping_) {
    ::close(fd);
    return;
  }
  // gRPC's pollers need a non-blocking descriptor (a blocking one stalls every connection); a
  // plain listener's sockets are already, a socketpair end from the TLS relay is not.
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  http2_(fd);  // gRPC's now
}

}  // namespace lockstep::api
