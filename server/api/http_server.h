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

namespace lockstep::api {

// A small HTTP/1.1 server for the JSON gateway, /health, /version and /metrics: blocking
// sockets, one thread per connection (bounded), keep-alive, Content-Length bodies only. It is
// not the data path of the daemon (clients use gRPC), so simplicity wins over throughput.
class HttpServer {
 public:
  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;
  // etcd's --max-request-bytes default (1.5 MiB) plus room for the JSON/base64 expansion.
  static constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;
  static constexpr int kResponseTimeoutSeconds = 30;

  using Handler = std::function<void(std::string_view method, std::string_view path,
                                     std::string_view body, HttpRespond respond)>;

  // Listens on host:port (port 0 picks a free one; see port()).
  static Result<std::unique_ptr<HttpServer>> start(const std::string& host, int port,
                                                   Handler handler);
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

  HttpServer(int listen_fd, int port, Handler handler);
  void accept_loop();
  void serve_connection(Connection& connection);
  void reap_finished_locked();

  int listen_fd_;
  int port_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::thread accept_thread_;
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
