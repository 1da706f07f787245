#include "server/api/tls_relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace lockstep::api {
namespace {

// One TLS record's worth of plaintext at most (RFC 8446 §5.1), so one read drains a record.
constexpr size_t kRelayChunkBytes = 16 * 1024;

bool send_tls(server::TlsSession& tls, std::string_view bytes) {
  while (!bytes.empty()) {
    const server::TlsResult sent = tls.write(bytes);
    if (sent.status != server::TlsStatus::kDone) return false;
    bytes.remove_prefix(sent.bytes);
  }
  return true;
}

bool readable(short events) {
  return (events & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

void relay_tls_to_socket(server::TlsSession& tls, int tls_fd, int plain_fd,
                         std::string_view already_read, const std::atomic<bool>& stopping) {
  if (!send_all(plain_fd, already_read)) return;
  std::array<char, kRelayChunkBytes> chunk{};
  while (!stopping) {
    // Bytes OpenSSL already holds (read ahead, or a record only partly returned) make no
    // socket readable, so poll() must not wait while there are any.
    const bool buffered = tls.has_buffered_input();
    std::array<pollfd, 2> sockets{pollfd{tls_fd, POLLIN, 0}, pollfd{plain_fd, POLLIN, 0}};
    const int ready = ::poll(sockets.data(), sockets.size(), buffered ? 0 : -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (buffered || readable(sockets[0].revents)) {
      // The socket is blocking: a partly arrived record is waited for, which is short.
      const server::TlsResult received = tls.read(chunk);
      if (received.status != server::TlsStatus::kDone) return;  // closed, or failed
      if (!send_all(plain_fd, std::string_view(chunk.data(), received.bytes))) return;
    }
    if (readable(sockets[1].revents)) {
      const ssize_t received = ::recv(plain_fd, chunk.data(), chunk.size(), 0);
      if (received < 0 && errno == EINTR) continue;
      if (received <= 0) return;  // gRPC closed the connection
      if (!send_tls(tls, std::string_view(chunk.data(), static_cast<size_t>(received)))) return;
    }
  }
}

}  // namespace lockstep::api
