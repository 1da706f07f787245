#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "core/base/error.h"
#include "server/api/http1_connection.h"
#include "server/tls_context.h"

namespace lockstep::api {

// Sends every byte to a blocking socket (MSG_NOSIGNAL, retrying EINTR); false once the other
// side is gone. Used by HttpServer's plain connections.
bool send_all(int fd, std::string_view bytes);

// The TLS side of an https listener (etcd's https client URLs): accepts connections,
// completes their TLS handshakes, decides per connection whether it speaks HTTP/2 (gRPC) or
// HTTP/1.1 (the gateway, /health, /version, /metrics) and hands the decrypted stream over as
// one end of a socketpair, relaying bytes between the other end and the TLS session. gRPC can
// adopt a plain socket (grpc::AddInsecureChannelFromFd) but not one inside a TLS session,
// which is why the relay exists. With Options::http1 set, HTTP/1.1 connections are not handed
// over but served on the relay's own threads (Http1Connection per connection, the handler's
// answers posted back to the thread that owns the connection), so the gateway over TLS takes
// no thread and no socketpair per connection either.
//
// With a null TlsContext the same loops serve a plain (http://) listener: no handshake, the
// protocol chosen by peeking at the first bytes, an HTTP/2 connection's socket itself handed
// over (gRPC adopts it, preface included), HTTP/1.1 served here (Options::http1 required).
//
// Event-driven: a small fixed number of threads, each with its own epoll set, all accepting
// from the listener (EPOLLEXCLUSIVE) and serving the connections they accepted with
// non-blocking sockets and OpenSSL's WANT_READ/WANT_WRITE. No connection limit but file
// descriptors (three per connection: the client's socket and the socketpair); when accept(2)
// or socketpair(2) runs out of them (EMFILE/ENFILE) the new connection is closed at once, a
// rate-limited line is logged, and every other connection keeps being served.
//
// Backpressure: each direction holds at most kBufferBytes that the receiving side has not
// taken; while that is full the relay stops reading the sending side, so a slow reader slows
// its writer (TCP's and HTTP/2's flow control do the rest) instead of growing a buffer.
// Half-close: a client's close_notify or EOF shuts the socketpair for writing once its bytes
// are delivered, and the answers still flow back; the server side's EOF ends the connection
// with a close_notify once the answers are delivered. HTTP/1.1 served here has the same
// properties through Http1Connection: bounded read-ahead of pipelined requests, no request
// taken while kMaxUnsentBytes of answers wait for a slow reader, requests received before a
// half-close answered.
class TlsRelay {
 public:
  static constexpr size_t kBufferBytes = 32 * 1024;  // per direction and connection
  // Connections accepted per listener wake-up and thread, so that a burst of new connections
  // cannot starve established ones.
  static constexpr size_t kAcceptBatch = 64;
  // Rounds of reading and writing one connection gets before the others have their turn.
  static constexpr int kPumpRounds = 16;

  enum class Protocol { kHttp1, kHttp2 };
  // Takes the plain end of a socketpair (blocking, close-on-exec) carrying `protocol`, or on a
  // plain listener the client's socket itself (non-blocking, HTTP/2 only); owns it.
  using Handoff = std::function<void(int fd, Protocol protocol)>;
  // Answers one HTTP/1.1 request, at once or later from any thread; must not block (it runs
  // on a relay thread serving other connections).
  using Http1Handler = std::function<void(const Http1Request& request, HttpRespond respond)>;

  struct Options {
    size_t threads = 2;
    // A connection must finish its handshake and send its first bytes within this, else it is
    // closed (a client that stalls mid-handshake holds nothing longer).
    std::chrono::milliseconds setup_timeout{10'000};
    // On stop(): how long answers already relayed may take to reach slow clients.
    std::chrono::milliseconds drain_timeout{2'000};
    // Whether HTTP/2 is served (else every connection is HTTP/1.1, e.g. --gateway-port).
    bool http2 = true;
    // Serves HTTP/1.1 on the relay's threads instead of handing it over (see above).
    Http1Handler http1;
    // How long an HTTP/1.1 request served here may wait for its answer before a 504.
    std::chrono::milliseconds response_timeout{30'000};
  };

  struct Stats {
    uint64_t accepted = 0;
    uint64_t relayed = 0;            // handed over after handshake and protocol choice
    uint64_t handshakes_failed = 0;  // includes plain HTTP sent to the TLS port
    uint64_t setup_timeouts = 0;
    uint64_t refused_no_descriptors = 0;  // EMFILE/ENFILE on accept or socketpair
    uint64_t open = 0;                    // connections currently held
    uint64_t http1_served = 0;            // HTTP/1.1 connections served here (Options::http1)
    uint64_t http1_requests = 0;          // requests taken off them
    uint64_t http1_timeouts = 0;          // answered 504 after response_timeout
  };

  // Serves the listening socket `listen_fd` (made non-blocking; the caller keeps owning it
  // and closes it after stop()); `tls` null for a plain listener (see above).
  static Result<std::unique_ptr<TlsRelay>> start(int listen_fd,
                                                 std::shared_ptr<const server::TlsContext> tls,
                                                 Handoff handoff, Options options);
  // Stops accepting, ends every connection (its socketpair end first, then a close_notify to
  // the client once what was relayed is delivered, within drain_timeout) and joins the
  // threads. Idempotent; also run by the destructor.
  void stop();
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  Stats stats() const;

 private:
  class Loop;
  TlsRelay() = default;

  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace lockstep::api
