#pragma once

// Tests only: a blocking TLS client on loopback, for the relay's and the HTTPS server's tests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "server/tls_context.h"
#include "server/tls_session.h"

namespace lockstep::api {

using server::TlsResult;
using server::TlsStatus;

inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// A TLS client connection, blocking unless made otherwise.
struct Client {
  int fd = -1;
  std::unique_ptr<server::TlsSession> tls;
  TlsResult handshake_result;

  Client(int port, const server::TlsContext& context) {
    fd = connect_loopback(port);
    Result<std::unique_ptr<server::TlsSession>> session =
        server::TlsSession::create(context, fd, "127.0.0.1");
    EXPECT_TRUE(session.is_ok());
    tls = std::move(session).value();
    handshake_result = tls->handshake();
  }
  ~Client() {
    tls.reset();
    if (fd >= 0) ::close(fd);
  }
  bool connected() const { return handshake_result.status == TlsStatus::kDone; }
  TlsResult write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const TlsResult sent = tls->write(bytes);
      if (sent.status != TlsStatus::kDone) return sent;
      bytes.remove_prefix(sent.bytes);
    }
    return {};
  }
  // Reads exactly `length` bytes, or what came before the session ended.
  std::string read_exactly(size_t length) {
    std::string got;
    char chunk[16 * 1024];
    while (got.size() < length) {
      const TlsResult received =
          tls->read(std::span<char>(chunk, std::min(sizeof chunk, length - got.size())));
      if (received.status != TlsStatus::kDone) break;
      got.append(chunk, received.bytes);
    }
    return got;
  }
  // Reads until the session ends; its last status.
  TlsStatus read_to_end(std::string& got) {
    char chunk[4096];
    while (true) {
      const TlsResult received = tls->read(chunk);
      if (received.status != TlsStatus::kDone) return received.status;
      got.append(chunk, received.bytes);
    }
  }
  std::string round_trip(const std::string& message) {
    if (write_all(message).status != TlsStatus::kDone) return "write failed";
    return read_exactly(message.size());
  }
};

}  // namespace lockstep::api
