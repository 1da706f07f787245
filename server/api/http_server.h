#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/base/error.h"
#include "server/api/http1_connection.h"
#include "server/api/json_gateway.h"
#include "server/api/tls_relay.h"
#include "server/tls_context.h"

namespace lockstep::api {

// A small HTTP/1.1 server for the JSON gateway, /health, /version and /metrics: keep-alive,
// pipelining, Content-Length bodies only (Http1Connection, http1_connection.h, parses and
// limits). With TLS (etcd's https client URLs) it is event-driven: TlsRelay's epoll threads
// accept, decrypt and serve HTTP/1.1 themselves, any number of connections but file
// descriptors, and hand gRPC's to `http2`. Plain listeners use blocking sockets and one thread
// per connection (at most kMaxConnections, then a 503): they are not the daemon's data path
// (clients use gRPC), so simplicity wins there.
//
// The handler must not block: with TLS it runs on a relay thread that serves other
// connections too. It may answer at once or later from any thread.
class HttpServer {
 public:
  static constexpr size_t kMaxConnections = 256;  // plain listeners only
  static constexpr size_t kMaxHeaderBytes = Http1Connection::kMaxHeaderBytes;
  static constexpr size_t kMaxBodyBytes = Http1Connection::kMaxBodyBytes;
  static constexpr int kResponseTimeoutSeconds = 30;

  // How long a new connection may stay silent before it is closed unread (only when the
  // port is shared with HTTP/2: the first bytes decide who serves it).
  static constexpr int kSniffTimeoutMilliseconds = 10'000;

  using Handler = std::function<void(std::string_view method, std::string_view path,
                                     std::string_view body, HttpRespond respond)>;
  // Takes over a connection that opened with the HTTP/2 client preface (RFC 9113 §3.4), e.g.
  // grpc::AddInsecureChannelFromFd; owns `fd` from then on.
  using Http2Handoff = std::function<void(int fd)>;

  // Listens on host:port (port 0 picks a free one; see port()). With `http2`, one port serves
  // both, as etcd's cmux does: each connection's first bytes are peeked at, the HTTP/2 preface
  // goes to `http2`, anything else is served here as HTTP/1.1. With `tls` (a kServer context,
  // etcd's https client URLs), every connection is HTTPS: TlsRelay (tls_relay.h) accepts it,
  // chooses by ALPN or the first decrypted bytes and hands one end of a socketpair to `http2`
  // or to this server, relaying between the other end and the TLS session, since gRPC cannot
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
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  enum class Protocol { kHttp1, kHttp2, kNone };

  HttpServer(int listen_fd, int port, Handler handler, Http2Handoff http2,
             std::shared_ptr<const server::TlsContext> tls);
  Protocol sniff(int fd) const;
  void accept_loop();
  void serve_connection(Connection& connection);
  // A decrypted HTTP/2 connection from relay_, for `http2_`.
  void adopt_from_relay(int fd);
  void reap_finished_locked();

  int listen_fd_;
  int port_;
  Handler handler_;
  Http2Handoff http2_;
  std::shared_ptr<const server::TlsContext> tls_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::thread accept_thread_;        // plain listeners
  std::unique_ptr<TlsRelay> relay_;  // TLS listeners
};

}  // namespace lockstep::api
