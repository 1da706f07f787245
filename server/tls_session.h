#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "server/tls_context.h"

struct ssl_st;  // OpenSSL's SSL

namespace lockstep::server {

// What one TLS call did. kWantRead/kWantWrite: the socket must become readable/writable before
// the same call is repeated (for write(): with the same bytes). kClosed: the peer ended the
// session (close_notify or EOF). kFailed: the session is unusable; `error` says why.
enum class TlsStatus { kDone, kWantRead, kWantWrite, kClosed, kFailed };

struct TlsResult {
  TlsStatus status = TlsStatus::kDone;
  size_t bytes = 0;   // read() and write(): bytes moved when kDone
  std::string error;  // kFailed: OpenSSL's reason, e.g. "certificate verify failed"
  // kFailed from a server's handshake because the client spoke plain HTTP ("GET ", "POST"...)
  // instead of TLS (worth saying so in a log line).
  bool plain_http_request = false;
};

// One TLS session over a connected socket the caller owns (and closes after the session).
// Works on blocking sockets (each call blocks until done) and on non-blocking ones (calls
// return kWantRead/kWantWrite). Writes never raise SIGPIPE: the session does its socket I/O
// with send(MSG_NOSIGNAL)/recv, not write(2)/read(2) as OpenSSL's socket BIO does.
class TlsSession {
 public:
  // `expected_host`: for a client session, the DNS name or IP literal the server's
  // certificate must name (Go's ServerName from the URL host); empty checks the chain only.
  static Result<std::unique_ptr<TlsSession>> create(const TlsContext& context, int fd,
                                                    std::string_view expected_host = {});
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // A server session: the ALPN protocols (RFC 7301) it accepts, in its order of preference;
  // the handshake chooses the first one the client offers (none: no ALPN). Before handshake().
  void accept_alpn(std::vector<std::string> protocols);
  // The protocol ALPN chose ("" when none), once the handshake is done.
  std::string alpn() const;
  // Until kDone (or an error): the server's accept or the client's connect, verification
  // included.
  TlsResult handshake();
  TlsResult read(std::span<char> into);
  TlsResult write(std::string_view bytes);
  // Bytes already buffered inside the session (decrypted or read ahead): epoll will not report
  // them, so a non-blocking reader must keep calling read() while this is true.
  bool has_buffered_input() const;
  // Best effort close_notify (never blocks on a non-blocking socket).
  void close_notify();
  // The peer certificate's subject ("" without one), for logs.
  std::string peer_subject() const;

 private:
  explicit TlsSession(ssl_st* ssl) : ssl_(ssl) {}
  TlsResult outcome(int returned, const char* operation);

  ssl_st* ssl_;
  std::vector<std::string> server_alpn_;  // read by TlsContext's ALPN callback via ex_data
};

}  // namespace lockstep::server
