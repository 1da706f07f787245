#include "server/api/tls_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "server/api/loop_mailbox.h"
#include "server/tls_session.h"

namespace lockstep::api {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 9113 §3.4: every HTTP/2 connection opens with this. "PRI" is no HTTP/1.1 method, so three
// matching bytes already tell the protocols apart.
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kSniffBytes = 3;
constexpr int kMaxEvents = 128;
// While accept(2) fails for want of descriptors and none can be freed to refuse the waiting
// connection, the listener is left alone this long instead of being retried in a busy loop.
constexpr auto kListenerPause = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(1);
// epoll tags: the listener, the wake-up eventfd, then (id << 1 | side) per connection socket.
constexpr uint64_t kListenerTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr size_t kHttp1ReadBytes = 16 * 1024;  // decrypted bytes per read for HTTP/1.1

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool would_block(int error_number) {
  return error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == EINTR;
}

bool out_of_descriptors(int error_number) {
  return error_number == EMFILE || error_number == ENFILE;
}

std::string peer_of(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?";
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
}

// One direction's bytes in flight: at most TlsRelay::kBufferBytes, allocated while non-empty
// only, so an idle connection holds no buffer.
class RelayBuffer {
 public:
  bool empty() const { return begin_ == end_; }
  bool full() const { return end_ - begin_ == TlsRelay::kBufferBytes; }
  std::string_view data() const { return {bytes_.get() + begin_, end_ - begin_}; }
  // Room to append into (compacting first); never empty unless full().
  std::span<char> space() {
    if (!bytes_) bytes_ = std::make_unique<char[]>(TlsRelay::kBufferBytes);
    if (end_ == TlsRelay::kBufferBytes && begin_ > 0) {
      std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {bytes_.get() + end_, TlsRelay::kBufferBytes - end_};
  }
  void produced(size_t bytes) { end_ += bytes; }
  void consumed(size_t bytes) {
    begin_ += bytes;
    if (begin_ == end_) clear();
  }
  void clear() {
    bytes_.reset();
    begin_ = end_ = 0;
  }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

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

// One thread's share of the connections: its own epoll set, the listener (shared with the
// other loops through EPOLLEXCLUSIVE, so one wakes per new connection) and the connections it
// accepted, which no other thread touches.
class TlsRelay::Loop {
 public:
  Loop(int listen_fd, std::shared_ptr<const server::TlsContext> tls, Handoff handoff,
       Options options)
      : listen_fd_(listen_fd),
        tls_(std::move(tls)),
        handoff_(std::move(handoff)),
        options_(options) {}

  ~Loop() {
    connections_.clear();
    if (answers_) answers_->close();  // answers still to come find it closed
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  Status init() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    // Held so that one descriptor can be freed to accept and close a connection when the
    // process has run out of them (otherwise it would wait in the backlog, unanswered).
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      return Status(ErrorCode::kIoError, std::string("TLS relay: ") + std::strerror(errno));
    }
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.u64 = kWakeTag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake);
    answers_ = std::make_shared<LoopMailbox<PostedAnswer>>(wake_fd_);
    return watch_listener();
  }

  void request_stop() {
    stop_requested_ = true;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
  }

  void add_stats(Stats& total) const {
    total.accepted += accepted_.load(std::memory_order_relaxed);
    total.relayed += relayed_.load(std::memory_order_relaxed);
    total.handshakes_failed += handshakes_failed_.load(std::memory_order_relaxed);
    total.setup_timeouts += setup_timeouts_.load(std::memory_order_relaxed);
    total.refused_no_descriptors += refused_no_descriptors_.load(std::memory_order_relaxed);
    total.open += open_.load(std::memory_order_relaxed);
    total.http1_served += http1_served_.load(std::memory_order_relaxed);
    total.http1_requests += http1_requests_.load(std::memory_order_relaxed);
    total.http1_timeouts += http1_timeouts_.load(std::memory_order_relaxed);
  }

  void run();

 private:
  // kRelay: bytes relayed through a socketpair; kHttp1: HTTP/1.1 served on this thread.
  enum class Stage { kHandshake, kSniff, kRelay, kHttp1 };
  enum class Outcome { kIdle, kMore, kClosed };

  struct Connection {
    ~Connection() {
      tls.reset();
      if (tls_fd >= 0) ::close(tls_fd);
      if (plain_fd >= 0) ::close(plain_fd);
    }
    uint64_t id = 0;
    int tls_fd = -1;
    int plain_fd = -1;  // the relay's end of the socketpair, once handed over
    std::unique_ptr<server::TlsSession> tls;
    Stage stage = Stage::kHandshake;
    RelayBuffer to_plain;                   // decrypted, not yet taken by the socketpair
    RelayBuffer to_tls;                     // from the socketpair, not yet taken by SSL_write
    bool client_done = false;               // close_notify or EOF from the client
    bool plain_shut = false;                // SHUT_WR sent on the socketpair after client_done
    bool server_done = false;               // EOF from the socketpair
    std::unique_ptr<Http1Connection> http;  // kHttp1 only
  };

  // An HTTP/1.1 answer from the handler, for request `sequence` of connection `id`.
  struct PostedAnswer {
    uint64_t id = 0;
    uint64_t sequence = 0;
    HttpResponse response;
  };
  struct AnswerDeadline {
    Clock::time_point at;
    uint64_t id = 0;
    uint64_t sequence = 0;
  };

  Status watch_listener() {
    epoll_event listener{};
    listener.events = EPOLLIN | EPOLLEXCLUSIVE;
    listener.data.u64 = kListenerTag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listener) != 0) {
      return Status(ErrorCode::kIoError,
                    std::string("TLS relay: epoll_ctl(listener): ") + std::strerror(errno));
    }
    listener_watched_ = true;
    return Status::ok();
  }
  void unwatch_listener() {
    if (listener_watched_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    listener_watched_ = false;
  }

  void watch(int fd, uint64_t id, bool plain_side) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = id << 1 | (plain_side ? 1 : 0);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }

  void accept_batch();
  // Accepts and closes one waiting connection on the reserve descriptor; false when none was
  // waiting or the listener had to be paused.
  bool refuse_for_want_of_descriptors();
  void add_connection(int fd);
  Outcome pump(Connection& connection);
  Outcome handshake(Connection& connection);
  Outcome sniff(Connection& connection);
  Outcome sniff_plain(Connection& connection);
  // The client's side of a connection, through its TLS session or (plain listener) the
  // socket itself, with the same statuses.
  server::TlsResult read_client(Connection& connection, std::span<char> into);
  server::TlsResult write_client(Connection& connection, std::string_view bytes);
  Outcome start_relay(Connection& connection, Protocol protocol);
  Outcome relay(Connection& connection);
  Outcome serve_http1(Connection& connection);
  void dispatch(Connection& connection, const Http1Request& request);
  // The answers posted since the last wake-up, each into its connection (then pumped).
  void take_answers(std::vector<uint64_t>& ready);
  // 504 for requests past response_timeout; drops deadlines of answered requests.
  void expire_answers(Clock::time_point now, std::vector<uint64_t>& ready);
  void begin_stop();
  void expire_setups(Clock::time_point now);
  int wait_milliseconds(Clock::time_point now) const;
  void close_connection(uint64_t id) {
    connections_.erase(id);
    open_.store(connections_.size(), std::memory_order_relaxed);
  }
  // At most one line per kind and second, saying how many were left out.
  void log_limited(size_t kind, const std::string& line);

  const int listen_fd_;
  const std::shared_ptr<const server::TlsContext> tls_;
  const Handoff handoff_;
  const Options options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int reserve_fd_ = -1;
  bool listener_watched_ = false;
  Clock::time_point listener_resume_{};
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  Clock::time_point drain_deadline_{};
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  // Connections in their handshake or protocol choice, oldest first (one timeout for all).
  std::deque<std::pair<Clock::time_point, uint64_t>> setups_;
  std::vector<uint64_t> again_;  // pumped kPumpRounds times with work left
  std::shared_ptr<LoopMailbox<PostedAnswer>> answers_;
  // One per HTTP/1.1 request taken, in the order taken (one timeout for all, so also in the
  // order they expire).
  std::deque<AnswerDeadline> answer_deadlines_;
  std::array<char, kHttp1ReadBytes> http1_read_{};
  std::array<Clock::time_point, 2> last_log_{};
  std::array<uint64_t, 2> unlogged_{};
  std::atomic<uint64_t> accepted_{0}, relayed_{0}, handshakes_failed_{0}, setup_timeouts_{0},
      refused_no_descriptors_{0}, open_{0}, http1_served_{0}, http1_requests_{0},
      http1_timeouts_{0};
};

namespace {
constexpr size_t kLogDescriptors = 0;
constexpr size_t kLogHandshake = 1;
}  // namespace

void TlsRelay::Loop::log_limited(size_t kind, const std::string& line) {
  const Clock::time_point now = Clock::now();
  if (now - last_log_[kind] < kLogInterval) {
    ++unlogged_[kind];
    return;
  }
  last_log_[kind] = now;
  const uint64_t left_out = std::exchange(unlogged_[kind], 0);
  std::fprintf(stderr, "lockstep: %s listener: %s", tls_ != nullptr ? "TLS" : "HTTP", line.c_str());
  if (left_out > 0) {
    std::fprintf(stderr, " (and %llu more like it)", static_cast<unsigned long long>(left_out));
  }
  std::fputc('\n', stderr);
}

void TlsRelay::Loop::run() {
  std::array<epoll_event, kMaxEvents> events{};
  std::vector<uint64_t> ready;
  while (true) {
    const int count =
        ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, wait_milliseconds(Clock::now()));
    if (count < 0 && errno != EINTR) break;
    ready.swap(again_);
    again_.clear();
    for (int at = 0; at < count; ++at) {
      const uint64_t tag = events[static_cast<size_t>(at)].data.u64;
      if (tag == kListenerTag) {
        if (!stopping_) accept_batch();
      } else if (tag == kWakeTag) {
        uint64_t value = 0;
        [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &value, sizeof value);
        take_answers(ready);
      } else {
        ready.push_back(tag >> 1);
      }
    }
    if (stop_requested_ && !stopping_) begin_stop();
    expire_answers(Clock::now(), ready);
    std::sort(ready.begin(), ready.end());
    ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
    for (const uint64_t id : ready) {
      const auto found = connections_.find(id);  // it may have been closed meanwhile
      if (found == connections_.end()) continue;
      const Outcome outcome = pump(*found->second);
      if (outcome == Outcome::kClosed) close_connection(id);
      if (outcome == Outcome::kMore) again_.push_back(id);
    }
    const Clock::time_point now = Clock::now();
    expire_setups(now);
    if (!listener_watched_ && !stopping_ && now >= listener_resume_) {
      if (!watch_listener().is_ok()) break;
    }
    if (stopping_ && (connections_.empty() || now >= drain_deadline_)) break;
  }
  connections_.clear();
  open_.store(0, std::memory_order_relaxed);
}

int TlsRelay::Loop::wait_milliseconds(Clock::time_point now) const {
  if (!again_.empty()) return 0;
  std::optional<Clock::time_point> until;
  auto consider = [&](Clock::time_point at) { until = until ? std::min(*until, at) : at; };
  if (!setups_.empty()) consider(setups_.front().first);
  if (!answer_deadlines_.empty()) consider(answer_deadlines_.front().at);
  if (!listener_watched_ && !stopping_) consider(listener_resume_);
  if (stopping_) consider(drain_deadline_);
  if (!until) return -1;
  if (*until <= now) return 0;
  // Rounded up: waking a millisecond early would only find nothing due yet.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*until - now).count());
}

void TlsRelay::Loop::accept_batch() {
  for (size_t accepted = 0; accepted < kAcceptBatch; ++accepted) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      add_connection(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (out_of_descriptors(errno)) {
      // Linux reports EMFILE before looking at the backlog, so it may also be empty.
      if (refuse_for_want_of_descriptors()) continue;
      return;
    }
    return;  // EAGAIN: another loop took it, or the backlog is empty; else shut down
  }
}

// The process is out of descriptors: the connection at the head of the backlog is accepted on
// the reserve descriptor and closed at once (the client sees its handshake end), rather than
// left waiting unanswered while the listener wakes every loop again and again.
bool TlsRelay::Loop::refuse_for_want_of_descriptors() {
  const std::string why = std::strerror(errno);
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    const int accept_error = errno;
    if (fd >= 0) ::close(fd);
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && would_block(accept_error)) return false;  // nobody was waiting
    if (fd >= 0) {
      refused_no_descriptors_.fetch_add(1, std::memory_order_relaxed);
      log_limited(kLogDescriptors, "out of file descriptors (" + why +
                                       "): refusing new connections until some close");
      if (reserve_fd_ >= 0) return true;
    }
  }
  // No descriptor to spare: pause the listener rather than spin on it.
  unwatch_listener();
  listener_resume_ = Clock::now() + kListenerPause;
  return false;
}

void TlsRelay::Loop::add_connection(int fd) {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  auto connection = std::make_unique<Connection>();
  connection->tls_fd = fd;
  if (tls_ != nullptr) {
    Result<std::unique_ptr<server::TlsSession>> session = server::TlsSession::create(*tls_, fd);
    if (!session.is_ok()) {
      log_limited(kLogHandshake, "cannot start a TLS session: " + session.error().to_string());
      return;  // the destructor closes fd
    }
    connection->tls = std::move(session).value();
    // curl and browsers offer both and get HTTP/1.1, which HttpServer speaks; gRPC offers h2
    // only (and fails a handshake in which the server chose nothing). A client offering
    // neither is told apart by its first bytes.
    connection->tls->accept_alpn(options_.http2 ? std::vector<std::string>{"http/1.1", "h2"}
                                                : std::vector<std::string>{"http/1.1"});
  } else {
    connection->stage = Stage::kSniff;  // no handshake; the first bytes decide
  }
  // Small answers (a put's) go out at once, as gRPC sets on sockets it accepts itself.
  const int no_delay = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
  const uint64_t id = next_id_++;
  connection->id = id;
  watch(fd, id, /*plain_side=*/false);
  setups_.emplace_back(Clock::now() + options_.setup_timeout, id);
  Connection& added = *connection;
  connections_.emplace(id, std::move(connection));
  open_.store(connections_.size(), std::memory_order_relaxed);
  // Edge-triggered: whatever already arrived is handled now, not at the next event.
  const Outcome outcome = pump(added);
  if (outcome == Outcome::kClosed) close_connection(id);
  if (outcome == Outcome::kMore) again_.push_back(id);
}

void TlsRelay::Loop::expire_setups(Clock::time_point now) {
  while (!setups_.empty() && setups_.front().first <= now) {
    const uint64_t id = setups_.front().second;
    setups_.pop_front();
    const auto found = connections_.find(id);
    if (found == connections_.end() || found->second->stage == Stage::kRelay ||
        found->second->stage == Stage::kHttp1) {
      continue;
    }
    setup_timeouts_.fetch_add(1, std::memory_order_relaxed);
    log_limited(kLogHandshake, "closed " + peer_of(found->second->tls_fd) + ": no " +
                                   (tls_ != nullptr ? "TLS handshake and " : "") +
                                   "request within the setup timeout");
    close_connection(id);
  }
}

TlsRelay::Loop::Outcome TlsRelay::Loop::pump(Connection& connection) {
  switch (connection.stage) {
    case Stage::kHandshake:
      return handshake(connection);
    case Stage::kSniff:
      return sniff(connection);
    case Stage::kRelay:
      return relay(connection);
    case Stage::kHttp1:
      return serve_http1(connection);
  }
  return Outcome::kClosed;
}

TlsRelay::Loop::Outcome TlsRelay::Loop::handshake(Connection& connection) {
  const server::TlsResult result = connection.tls->handshake();
  switch (result.status) {
    case server::TlsStatus::kDone:
      break;
    case server::TlsStatus::kWantRead:
    case server::TlsStatus::kWantWrite:
      return Outcome::kIdle;
    case server::TlsStatus::kClosed:
      // Disconnected mid-handshake (or a port scan): nothing worth a log line.
      handshakes_failed_.fetch_add(1, std::memory_order_relaxed);
      return Outcome::kClosed;
    case server::TlsStatus::kFailed:
      handshakes_failed_.fetch_add(1, std::memory_order_relaxed);
      // etcd 3.4 closes such a connection without a word (its TLS listener handshakes before
      // net/http sees the bytes, so curl reports an empty reply) and logs "rejected connection
      // from ..."; so does lockstep, rate-limited, naming plain HTTP when that was the cause.
      log_limited(kLogHandshake, "rejected connection from " + peer_of(connection.tls_fd) + ": " +
                                     (result.plain_http_request ? "plain HTTP sent to the TLS port"
                                                                : result.error));
      return Outcome::kClosed;
  }
  const std::string chosen = connection.tls->alpn();
  if (chosen == "h2") return start_relay(connection, Protocol::kHttp2);
  if (chosen == "http/1.1" || !options_.http2) return start_relay(connection, Protocol::kHttp1);
  connection.stage = Stage::kSniff;
  return sniff(connection);
}

// No ALPN: the first decrypted bytes decide, as on a plain shared port (etcd's cmux). They are
// kept and relayed first.
TlsRelay::Loop::Outcome TlsRelay::Loop::sniff(Connection& connection) {
  if (connection.tls == nullptr) return sniff_plain(connection);
  while (true) {
    const std::string_view seen = connection.to_plain.data();
    const std::string_view first = seen.substr(0, std::min(seen.size(), kSniffBytes));
    if (!kHttp2Preface.starts_with(first)) return start_relay(connection, Protocol::kHttp1);
    if (first.size() == kSniffBytes) return start_relay(connection, Protocol::kHttp2);
    const std::span<char> space = connection.to_plain.space();
    const server::TlsResult received = connection.tls->read(space.first(kSniffBytes));
    if (received.status == server::TlsStatus::kWantRead ||
        received.status == server::TlsStatus::kWantWrite) {
      return Outcome::kIdle;
    }
    if (received.status != server::TlsStatus::kDone) return Outcome::kClosed;
    connection.to_plain.produced(received.bytes);
  }
}

// A plain listener: the first bytes are peeked at (MSG_PEEK), not taken, so that an HTTP/2
// connection reaches gRPC whole, preface included. Edge-triggered epoll reports each new
// arrival, so a partial preface waits for the next one.
TlsRelay::Loop::Outcome TlsRelay::Loop::sniff_plain(Connection& connection) {
  if (!options_.http2) return start_relay(connection, Protocol::kHttp1);
  std::array<char, kSniffBytes> first{};
  const ssize_t peeked = ::recv(connection.tls_fd, first.data(), first.size(), MSG_PEEK);
  if (peeked < 0) return would_block(errno) ? Outcome::kIdle : Outcome::kClosed;
  if (peeked == 0) return Outcome::kClosed;
  const std::string_view seen(first.data(), static_cast<size_t>(peeked));
  if (!kHttp2Preface.starts_with(seen)) return start_relay(connection, Protocol::kHttp1);
  if (seen.size() == kSniffBytes) return start_relay(connection, Protocol::kHttp2);
  return Outcome::kIdle;
}

TlsRelay::Loop::Outcome TlsRelay::Loop::start_relay(Connection& connection, Protocol protocol) {
  if (stopping_) return Outcome::kClosed;
  if (connection.tls == nullptr && protocol == Protocol::kHttp2) {
    // Nothing to decrypt: the socket itself is handed over (it leaves this loop's epoll set
    // first, so no event of it reaches this thread afterwards).
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.tls_fd, nullptr);
    const int fd = std::exchange(connection.tls_fd, -1);
    relayed_.fetch_add(1, std::memory_order_relaxed);
    handoff_(fd, protocol);
    return Outcome::kClosed;  // forgets the connection; the socket is the handoff's
  }
  if (protocol == Protocol::kHttp1 && options_.http1) {
    connection.http = std::make_unique<Http1Connection>();
    connection.stage = Stage::kHttp1;
    // The bytes the protocol was chosen by are the request's first.
    if (!connection.to_plain.empty()) connection.http->received(connection.to_plain.data());
    connection.to_plain.clear();
    http1_served_.fetch_add(1, std::memory_order_relaxed);
    return serve_http1(connection);
  }
  std::array<int, 2> pair{-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()) != 0) {
    if (out_of_descriptors(errno)) refused_no_descriptors_.fetch_add(1, std::memory_order_relaxed);
    log_limited(kLogDescriptors,
                "closed " + peer_of(connection.tls_fd) + ": socketpair: " + std::strerror(errno));
    return Outcome::kClosed;
  }
  set_nonblocking(pair[0]);
  connection.plain_fd = pair[0];
  connection.stage = Stage::kRelay;
  watch(pair[0], connection.id, /*plain_side=*/true);
  relayed_.fetch_add(1, std::memory_order_relaxed);
  handoff_(pair[1], protocol);  // the other end is the handoff's now
  return relay(connection);
}

TlsRelay::Loop::Outcome TlsRelay::Loop::relay(Connection& connection) {
  server::TlsSession& tls = *connection.tls;
  const int plain = connection.plain_fd;
  for (int round = 0; round < kPumpRounds; ++round) {
    bool progress = false;
    // Client to server: decrypt while the buffer has room (and OpenSSL has or gets bytes).
    if (!connection.client_done && !connection.to_plain.full()) {
      const server::TlsResult received = tls.read(connection.to_plain.space());
      if (received.status == server::TlsStatus::kDone) {
        connection.to_plain.produced(received.bytes);
        progress = true;
      } else if (received.status == server::TlsStatus::kClosed) {
        connection.client_done = true;
        progress = true;
      } else if (received.status == server::TlsStatus::kFailed) {
        return Outcome::kClosed;
      }
    }
    if (!connection.to_plain.empty() && plain >= 0) {
      const std::string_view bytes = connection.to_plain.data();
      const ssize_t sent = ::send(plain, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        connection.to_plain.consumed(static_cast<size_t>(sent));
        progress = true;
      } else if (sent < 0 && !would_block(errno)) {
        return Outcome::kClosed;  // the server side is gone
      }
    }
    if (connection.client_done && connection.to_plain.empty() && !connection.plain_shut &&
        plain >= 0) {
      ::shutdown(plain, SHUT_WR);  // the client's half-close, passed on
      connection.plain_shut = true;
    }
    // Server to client: encrypt while the buffer has room.
    if (!connection.server_done && !connection.to_tls.full() && plain >= 0) {
      const std::span<char> space = connection.to_tls.space();
      const ssize_t received = ::recv(plain, space.data(), space.size(), MSG_DONTWAIT);
      if (received > 0) {
        connection.to_tls.produced(static_cast<size_t>(received));
        progress = true;
      } else if (received == 0) {
        connection.server_done = true;
        progress = true;
      } else if (!would_block(errno)) {
        connection.server_done = true;
        progress = true;
      }
    }
    if (!connection.to_tls.empty()) {
      const server::TlsResult sent = tls.write(connection.to_tls.data());
      if (sent.status == server::TlsStatus::kDone) {
        connection.to_tls.consumed(sent.bytes);
        progress = true;
      } else if (sent.status == server::TlsStatus::kClosed ||
                 sent.status == server::TlsStatus::kFailed) {
        return Outcome::kClosed;
      }
    }
    if (connection.server_done && connection.to_tls.empty()) {
      tls.close_notify();
      return Outcome::kClosed;
    }
    if (!progress) return Outcome::kIdle;
  }
  return Outcome::kMore;
}

// HTTP/1.1 on this thread: requests off the TLS session into Http1Connection, one at a time
// to the handler, answers back through the session. Reading stops while the connection does
// not want input (a request awaiting its answer with the read-ahead full, or answers piling
// up for a client that does not read); an answer's arrival pumps the connection again.
TlsRelay::Loop::Outcome TlsRelay::Loop::serve_http1(Connection& connection) {
  Http1Connection& http = *connection.http;
  for (int round = 0; round < kPumpRounds; ++round) {
    bool progress = false;
    if (!stopping_) {
      if (std::optional<Http1Request> request = http.next_request()) {
        dispatch(connection, *request);
        progress = true;
      }
    }
    if (!connection.client_done && http.wants_input()) {
      const server::TlsResult received = read_client(connection, http1_read_);
      if (received.status == server::TlsStatus::kDone) {
        http.received(std::string_view(http1_read_.data(), received.bytes));
        progress = true;
      } else if (received.status == server::TlsStatus::kClosed) {
        connection.client_done = true;
        http.received_end();
        progress = true;
      } else if (received.status == server::TlsStatus::kFailed) {
        return Outcome::kClosed;
      }
    }
    if (!http.unsent().empty()) {
      const server::TlsResult sent = write_client(connection, http.unsent());
      if (sent.status == server::TlsStatus::kDone) {
        http.sent(sent.bytes);
        progress = true;
      } else if (sent.status == server::TlsStatus::kClosed ||
                 sent.status == server::TlsStatus::kFailed) {
        return Outcome::kClosed;
      }
    }
    if (http.finished()) {
      if (connection.tls != nullptr) connection.tls->close_notify();
      return Outcome::kClosed;
    }
    if (!progress) return Outcome::kIdle;
  }
  return Outcome::kMore;
}

server::TlsResult TlsRelay::Loop::read_client(Connection& connection, std::span<char> into) {
  if (connection.tls != nullptr) return connection.tls->read(into);
  server::TlsResult result;
  const ssize_t received = ::recv(connection.tls_fd, into.data(), into.size(), MSG_DONTWAIT);
  if (received > 0) {
    result.bytes = static_cast<size_t>(received);
  } else if (received == 0) {
    result.status = server::TlsStatus::kClosed;
  } else if (would_block(errno)) {
    result.status = server::TlsStatus::kWantRead;
  } else {
    result.status = server::TlsStatus::kFailed;
    result.error = std::strerror(errno);
  }
  return result;
}

server::TlsResult TlsRelay::Loop::write_client(Connection& connection, std::string_view bytes) {
  if (connection.tls != nullptr) return connection.tls->write(bytes);
  server::TlsResult result;
  const ssize_t sent =
      ::send(connection.tls_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent >= 0) {
    result.bytes = static_cast<size_t>(sent);
  } else if (would_block(errno)) {
    result.status = server::TlsStatus::kWantWrite;
  } else {
    result.status = server::TlsStatus::kFailed;
    result.error = std::strerror(errno);
  }
  return result;
}

void TlsRelay::Loop::dispatch(Connection& connection, const Http1Request& request) {
  http1_requests_.fetch_add(1, std::memory_order_relaxed);
  answer_deadlines_.push_back(
      {Clock::now() + options_.response_timeout, connection.id, request.sequence});
  options_.http1(request, [answers = answers_, id = connection.id,
                           sequence = request.sequence](HttpResponse response) {
    answers->post({id, sequence, std::move(response)});
  });
}

void TlsRelay::Loop::take_answers(std::vector<uint64_t>& ready) {
  for (PostedAnswer& answer : answers_->take()) {
    const auto found = connections_.find(answer.id);  // it may have been closed meanwhile
    if (found == connections_.end() || found->second->stage != Stage::kHttp1) continue;
    found->second->http->respond(answer.sequence, answer.response);
    ready.push_back(answer.id);
  }
}

void TlsRelay::Loop::expire_answers(Clock::time_point now, std::vector<uint64_t>& ready) {
  while (!answer_deadlines_.empty()) {
    const AnswerDeadline& front = answer_deadlines_.front();
    const auto found = connections_.find(front.id);
    const bool awaited = found != connections_.end() && found->second->http != nullptr &&
                         found->second->http->awaiting(front.sequence);
    if (awaited && front.at > now) return;
    if (awaited) {
      http1_timeouts_.fetch_add(1, std::memory_order_relaxed);
      found->second->http->time_out(front.sequence);
      ready.push_back(front.id);
    }
    answer_deadlines_.pop_front();
  }
}

// etcd 3.4 stops a TLS client port's gRPC server at once (embed/serve.go: GracefulStop is not
// used with TLS, grpc-go#1384); here the server side of every connection ends now, and what
// was already relayed towards clients gets drain_timeout to be delivered, then a close_notify.
void TlsRelay::Loop::begin_stop() {
  stopping_ = true;
  unwatch_listener();
  drain_deadline_ = Clock::now() + options_.drain_timeout;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& connection = *it->second;
    if (connection.stage == Stage::kHttp1) {
      // Answers not yet come are not waited for; those queued get drain_timeout.
      connection.http->abandon();
      const uint64_t id = it->first;
      ++it;
      if (serve_http1(connection) == Outcome::kClosed) connections_.erase(id);
      continue;
    }
    if (connection.stage != Stage::kRelay) {
      it = connections_.erase(it);
      continue;
    }
    ::close(connection.plain_fd);
    connection.plain_fd = -1;
    connection.server_done = true;
    connection.client_done = true;
    connection.to_plain.clear();
    const uint64_t id = it->first;
    ++it;
    if (relay(connection) == Outcome::kClosed) connections_.erase(id);
  }
  open_.store(connections_.size(), std::memory_order_relaxed);
}

Result<std::unique_ptr<TlsRelay>> TlsRelay::start(int listen_fd,
                                                  std::shared_ptr<const server::TlsContext> tls,
                                                  Handoff handoff, Options options) {
  ASSERT(tls != nullptr || options.http1 != nullptr,
         "a plain listener serves HTTP/1.1 itself: it has no socketpair to hand it over");
  set_nonblocking(listen_fd);
  std::unique_ptr<TlsRelay> relay(new TlsRelay());
  const size_t threads = std::max<size_t>(1, options.threads);
  for (size_t at = 0; at < threads; ++at) {
    relay->loops_.push_back(std::make_unique<Loop>(listen_fd, tls, handoff, options));
    const Status ready = relay->loops_.back()->init();
    if (!ready.is_ok()) return ready.error();
  }
  for (auto& loop : relay->loops_) {
    relay->threads_.emplace_back([&loop = *loop] { loop.run(); });
  }
  return relay;
}

void TlsRelay::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& loop : loops_) loop->request_stop();
  for (std::thread& thread : threads_) thread.join();
}

TlsRelay::~TlsRelay() {
  stop();
}

TlsRelay::Stats TlsRelay::stats() const {
  Stats total;
  for (const auto& loop : loops_) loop->add_stats(total);
  return total;
}

}  // namespace lockstep::api
