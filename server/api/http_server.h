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
#include "server/api/json_gateway.h"
#include "server/api/tls_relay.h"
#include "server/tls_context.h"

namespace lockstep::api {

// A small HTTP/1.1 server for the JSON gateway, /health, /version and /metrics: blocking
// sockets, one thread per HTTP/1.1 connection (bounded), keep-alive, Content-Length bodies
// only. It is not the data path of the daemon (clients use gRPC), so simplicity wins over
// throughput. With TLS, connections are accepted and decrypted by an event-driven TlsRelay,
// which hands gRPC's (any number) to `http2` and HTTP/1.1 ones (up to kMaxConnections) here.
class HttpServer {
 public:
  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;
  // etcd's --max-request-bytes default (1.5 MiB) plus room for the JSON/base64 expansion.
  static constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;
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
  // A decrypted connection from relay_: HTTP/2 to `http2_`, HTTP/1.1 served on a thread.
  void adopt_from_relay(int fd, TlsRelay::Protocol protocol);
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

// One parsed request head; exposed for tests.
struct HttpRequestHead {
  std::string method;
  std::string path;  // without the query string
  size_t content_length = 0;
  bool keep_alive = true;
  bool chunked = false;
};

// Parses "METHOD /path HTTP/1.x\r\nHeader: value\r\n...\r\n" (the blank line excluded).
Result<HttpRequestHead> parse_http_request_head(std::string_view head);

std::string_view http_reason_phrase(int status);

}  // namespace lockstep::api
