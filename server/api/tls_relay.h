#pragma once

#include <atomic>
#include <string_view>

#include "server/tls_session.h"

namespace lockstep::api {

// Copies bytes both ways between a TLS session (decrypting what arrives, encrypting what is
// sent) and a plain stream socket, until either side closes or fails. This is how gRPC serves
// a connection whose TLS lockstep terminates itself: gRPC can adopt a plain socket
// (grpc::AddInsecureChannelFromFd) but not one inside a TLS session, so it is given one end of
// a socketpair and this relays between the other end and the client.
//
// `tls_fd` is the session's (blocking) socket, `plain_fd` a blocking socket; `already_read` are
// decrypted bytes read before the relay began (the bytes that chose the protocol), sent to
// `plain_fd` first. Runs on the calling thread; returns when a side ends or `stopping` is set
// and a socket wakes the thread (shutdown(2) on `tls_fd` does). Closes neither socket.
// Sends every byte to a blocking socket (MSG_NOSIGNAL, retrying EINTR); false once the other
// side is gone. Shared with HttpServer's plain connections.
bool send_all(int fd, std::string_view bytes);

void relay_tls_to_socket(server::TlsSession& tls, int tls_fd, int plain_fd,
                         std::string_view already_read, const std::atomic<bool>& stopping);

}  // namespace lockstep::api
