#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "server/api/http1_connection.h"
#include "server/api/json_gateway.h"
#include "server/api/tls_relay.h"
#include "server/tls_context.h"

namespace lockstep::api {

// The client port's HTTP server, as etcd's cmux + net/http: the JSON gateway, /health, /version
// and /metrics in HTTP/1.1 (keep-alive, pipelining, Content-Length bodies only;
// Http1Connection, http1_connection.h, parses and limits), and HTTP/2 handed to gRPC.
// Event-driven, TLS or not: TlsRelay's epoll threads (tls_relay.h) accept, handshake (https),
// choose the protocol and serve HTTP/1.1 themselves, with no connection limit but file
// descriptors (EMFILE: the newest connection is refused, the others served).
//
// The handler must not block: it runs on a loop thread that serves other connections too. It
// may answer at once or later from any thread; without an answer within
// kResponseTimeoutSeconds the client gets a 504.
class HttpServer {
 public:
  static constexpr size_t kMaxHeaderBytes = Http1Connection::kMaxHeaderBytes;
  static constexpr size_t kMaxBodyBytes = Http1Connection::kMaxBodyBytes;
  static constexpr int kResponseTimeoutSeconds = 30;

  // How long a new connection may take to complete its TLS handshake (https) and send its
  // first bytes (when the port is shared with HTTP/2: the first bytes decide who serves it).
  static constexpr int kSniffTimeoutMilliseconds = 10'000;

  using Handler = std::function<void(std::string_view method, std::string_view path,
                                     std::string_view body, HttpRespond respond)>;
  // Takes over a connection that opened with the HTTP/2 client preface (RFC 9113 §3.4), e.g.
  // grpc::AddInsecureChannelFromFd; owns `fd` from then on.
  using Http2Handoff = std::function<void(int fd)>;

  // Listens on host:port (port 0 picks a free one; see port()). With `http2`, one port serves
  // both, as etcd's cmux does: each connection's first bytes are peeked at, the HTTP/2 preface
  // goes to `http2`, anything else is served here as HTTP/1.1. With `tls` (a kServer context,
  // etcd's https client URLs), every connection is HTTPS: ALPN or the first decrypted bytes
  // choose, and gRPC gets one end of a socketpair that the relay feeds, since gRPC cannot
  // adopt a socket inside TLS.
  static Result<std::unique_ptr<HttpServer>> start(
      const std::string& host, int port, Handler handler, Http2Handoff http2 = nullptr,
      std::shared_ptr<const server::TlsContext> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Stops accepting, closes every connection and joins the threads (idempotent).
  void shutdown();

 private:
  HttpServer(int listen_fd, int port, Handler handler, Http2Handoff http2);
  // An HTTP/2 connection from the loops, for `http2_`.
  void adopt_http2(int fd);

  int listen_fd_;
  int port_;
  Handler handler_;
  Http2Handoff http2_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<TlsRelay> loops_;
};

}  // namespace lockstep::api
