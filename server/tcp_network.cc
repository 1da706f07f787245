#include "server/tcp_network.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/base/assert.h"
#include "server/peer_frame.h"
#include "server/tls_session.h"

namespace lockstep::server {
namespace {

// Frames per sendmsg: two iovecs each (header, payload), well under IOV_MAX (1024).
constexpr size_t kMaxFramesPerWrite = 64;
// Bytes asked of one read(2), and reads per readiness event before other sockets get a turn
// (level-triggered epoll reports the socket again if bytes remain).
constexpr size_t kReadChunkBytes = 256 * 1024;
constexpr int kMaxReadsPerEvent = 8;
constexpr int kListenBacklog = 512;
// How long accepting pauses after accept4 ran out of descriptors.
constexpr Duration kAcceptRetryDelay = std::chrono::milliseconds(100);
// The timer cookie for "resume accepting"; peer timers use the peer's id, never 0.
constexpr uint64_t kResumeAcceptingCookie = 0;
// TCP keepalive on peer connections, so a peer whose machine vanished (no FIN, no RST) is
// noticed in about idle + interval * count seconds rather than the kernel's two hours.
constexpr int kKeepaliveIdleSeconds = 5;
constexpr int kKeepaliveIntervalSeconds = 1;
constexpr int kKeepaliveProbes = 3;
// Unacknowledged data older than this fails the connection (TCP_USER_TIMEOUT, RFC 5482).
constexpr unsigned kUserTimeoutMilliseconds = 10'000;
// With TLS, frames are copied into one buffer of at most this many bytes per SSL_write (TLS
// cuts it into 16 KiB records; the gathering sendmsg has no TLS equivalent).
constexpr size_t kTlsWriteChunkBytes = 256 * 1024;
// Bytes read from a TLS session to see why a send-only connection became readable.
constexpr size_t kTlsProbeBytes = 256;

std::string errno_text(int error_number) {
  return std::strerror(error_number);
}

struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

Result<ResolvedAddress> resolve(const PeerAddress& address, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int failed = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (failed != 0 || found == nullptr) {
    return Error(ErrorCode::kInvalidInput,
                 "cannot resolve " + address.to_string() + ": " + ::gai_strerror(failed));
  }
  ResolvedAddress resolved;
  std::memcpy(&resolved.storage, found->ai_addr, found->ai_addrlen);
  resolved.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return resolved;
}

void set_socket_option(int fd, int level, int name, int value) {
  // Best effort: these tune a working connection; failing to set one is not a reason to fail.
  ::setsockopt(fd, level, name, &value, sizeof(value));
}

void tune_peer_socket(int fd) {
  // Raft messages are small and latency-bound; batching is done by gathering sendmsg, not Nagle.
  set_socket_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set_socket_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  set_socket_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, kKeepaliveIdleSeconds);
  set_socket_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, kKeepaliveIntervalSeconds);
  set_socket_option(fd, IPPROTO_TCP, TCP_KEEPCNT, kKeepaliveProbes);
  set_socket_option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(kUserTimeoutMilliseconds));
}

}  // namespace

// The sending side towards one peer: its queue and the connection this process dialled.
class TcpNetwork::OutboundPeer : public IoHandler {
 public:
  OutboundPeer(TcpNetwork& network, NodeId id, ResolvedAddress address, std::string host,
               std::string name)
      : network_(network),
        id_(id),
        address_(address),
        host_(std::move(host)),
        name_(std::move(name)) {}
  ~OutboundPeer() {
    close_socket();
    network_.loop_.cancel(reconnect_timer_);
  }

  NodeId id() const { return id_; }
  size_t queued() const { return queue_.size(); }
  bool dirty = false;

  bool enqueue(std::string payload) {
    const TcpNetworkOptions& options = network_.options_;
    if (queue_.size() >= options.max_queued_messages_per_peer ||
        queued_bytes_ + payload.size() > options.max_queued_bytes_per_peer) {
      return false;
    }
    queued_bytes_ += payload.size();
    const PeerFrameHeader header = encode_peer_frame_header(network_.options_.self, payload);
    queue_.push_back(OutboundFrame{header, std::move(payload)});
    return true;
  }

  void redirect(ResolvedAddress address, std::string host, std::string name) {
    address_ = address;
    host_ = std::move(host);
    name_ = std::move(name);
    if (state_ != State::kDisconnected) disconnect("peer address changed");
  }

  void dial() {
    ASSERT(state_ == State::kDisconnected, "dial() only without a connection");
    reconnect_timer_ = TimerId{};
    fd_ = ::socket(address_.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail("socket", errno);
    tune_peer_socket(fd_);
    const int connected =
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address_.storage), address_.length);
    if (connected != 0 && errno != EINPROGRESS) return fail("connect", errno);
    state_ = State::kConnecting;
    // EPOLLOUT reports the end of a non-blocking connect, success or failure.
    const Status watched = network_.loop_.watch(fd_, EPOLLOUT | EPOLLIN | EPOLLRDHUP, this);
    ASSERT(watched.is_ok(), "watching a fresh socket cannot fail");
    watching_output_ = true;
  }

  void on_io(uint32_t events) override {
    if (state_ == State::kConnecting) {
      // Only writability or an error ends a non-blocking connect (connect(2), EINPROGRESS).
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) finish_connect();
      return;
    }
    if (state_ == State::kHandshaking) return continue_handshake();
    if (state_ != State::kConnected) return;
    if (tls_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      if (!check_tls_input()) return;
    } else if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      // Nothing is ever sent back on a dialled connection, so readability means the peer
      // closed it (read returns 0) or reset it (an error).
      char byte;
      const ssize_t got = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
      if (got == 0) return disconnect("peer closed the connection");
      if (got > 0) return disconnect("peer sent bytes on a send-only connection");
      if (errno != EAGAIN && errno != EINTR) return fail("recv", errno);
    }
    // A TLS write that wanted to read first (flush_tls) resumes on readability too.
    if ((events & EPOLLOUT) || (tls_ && !tls_chunk_.empty())) flush();
  }

  // Writes as much of the queue as the socket takes, up to kMaxFramesPerWrite frames per
  // gathering sendmsg call.
  void flush() {
    if (state_ != State::kConnected) return;
    if (tls_) return flush_tls();
    while (!queue_.empty()) {
      iovec vectors[2 * kMaxFramesPerWrite];
      const int count = gather(vectors);
      // sendmsg rather than writev only for MSG_NOSIGNAL: a peer that reset the connection
      // must cost an EPIPE here, not a SIGPIPE that kills the whole process.
      msghdr message{};
      message.msg_iov = vectors;
      message.msg_iovlen = static_cast<size_t>(count);
      const ssize_t written = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (written < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return want_output(true);
        return fail("sendmsg", errno);
      }
      consume(static_cast<size_t>(written));
    }
    want_output(false);
  }

 private:
  enum class State { kDisconnected, kConnecting, kHandshaking, kConnected };
  struct OutboundFrame {
    PeerFrameHeader header;
    std::string payload;
    size_t size() const { return header.size() + payload.size(); }
  };

  int gather(iovec* vectors) {
    int count = 0;
    size_t skip = front_written_;
    const size_t frames = std::min(queue_.size(), kMaxFramesPerWrite);
    for (size_t i = 0; i < frames; ++i) {
      OutboundFrame& frame = queue_[i];
      for (std::string_view part : {std::string_view(frame.header.data(), frame.header.size()),
                                    std::string_view(frame.payload)}) {
        if (skip >= part.size()) {
          skip -= part.size();
          continue;
        }
        vectors[count].iov_base = const_cast<char*>(part.data() + skip);
        vectors[count].iov_len = part.size() - skip;
        skip = 0;
        ++count;
      }
    }
    return count;
  }

  void consume(size_t written) {
    front_written_ += written;
    while (!queue_.empty() && front_written_ >= queue_.front().size()) {
      front_written_ -= queue_.front().size();
      queued_bytes_ -= queue_.front().payload.size();
      queue_.pop_front();
      ++network_.stats_.messages_sent;
    }
  }

  void want_output(bool wanted) {
    if (wanted == watching_output_) return;
    const uint32_t events = EPOLLIN | EPOLLRDHUP | (wanted ? EPOLLOUT : 0u);
    const Status modified = network_.loop_.modify(fd_, events, this);
    ASSERT(modified.is_ok(), "modifying a watched socket cannot fail");
    watching_output_ = wanted;
  }

  void finish_connect() {
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) return fail("connect", error);
    if (network_.options_.dial_tls) return start_handshake();
    connected();
  }

  void connected() {
    state_ = State::kConnected;
    connected_at_ = network_.loop_.now();
    // In TLS 1.3 the server checks the client's certificate after the client has finished its
    // handshake, so a refused dialler only learns it from an alert on its first read. The
    // backoff is therefore reset only once a TLS connection has outlived the longest backoff
    // (in disconnect), or a refused peer would redial at the shortest backoff forever.
    if (!tls_) backoff_ = kReconnectBackoffMin;
    ++network_.stats_.connections_established;
    network_.runtime_.trace("net.connected", "peer=" + std::to_string(id_.value()) + " " + name_);
    flush();
  }

  void fail(const char* operation, int error_number) {
    disconnect(std::string(operation) + ": " + errno_text(error_number));
  }

  void disconnect(const std::string& reason) {
    const bool was_connected = state_ == State::kConnected;
    if (was_connected && tls_ && network_.loop_.now() - connected_at_ >= kReconnectBackoffMax) {
      backoff_ = kReconnectBackoffMin;
    }
    close_socket();
    // The peer discarded the partial frame with the connection: send it whole next time.
    front_written_ = 0;
    ++network_.stats_.connections_lost;
    if (was_connected) {
      network_.runtime_.trace("net.disconnected",
                              "peer=" + std::to_string(id_.value()) + " " + reason);
    }
    schedule_redial();
  }

  void schedule_redial() {
    const int64_t jitter_ns =
        static_cast<int64_t>(network_.runtime_.random().below(backoff_.count() / 4 + 1));
    const Instant at = network_.loop_.now() + backoff_ + Duration(jitter_ns);
    reconnect_timer_ = network_.loop_.schedule(at, &network_, id_.value());
    backoff_ = std::min(backoff_ * 2, kReconnectBackoffMax);
  }

  void start_handshake() {
    Result<std::unique_ptr<TlsSession>> session =
        TlsSession::create(*network_.options_.dial_tls, fd_, host_);
    if (!session.is_ok()) return disconnect(session.error().detail());
    tls_ = std::move(session).value();
    state_ = State::kHandshaking;
    continue_handshake();
  }

  void continue_handshake() {
    const TlsResult result = tls_->handshake();
    switch (result.status) {
      case TlsStatus::kDone:
        return connected();
      case TlsStatus::kWantRead:
        return want_output(false);
      case TlsStatus::kWantWrite:
        return want_output(true);
      case TlsStatus::kClosed:
        return tls_failed("peer closed the connection during the TLS handshake");
      case TlsStatus::kFailed:
        return tls_failed(result.error);
    }
  }

  void tls_failed(const std::string& reason) {
    ++network_.stats_.tls_handshakes_failed;
    network_.runtime_.trace("net.tls_failed",
                            "peer=" + std::to_string(id_.value()) + " " + name_ + " " + reason);
    disconnect(reason);
  }

  // A send-only connection became readable: TLS's own messages (alerts, a close_notify, a
  // TLS 1.3 key update) are consumed; application bytes break the protocol. False once the
  // connection is gone.
  bool check_tls_input() {
    char probe[kTlsProbeBytes];
    for (;;) {
      const TlsResult result = tls_->read(probe);
      switch (result.status) {
        case TlsStatus::kDone:
          disconnect("peer sent bytes on a send-only connection");
          return false;
        case TlsStatus::kWantRead:
        case TlsStatus::kWantWrite:  // the next flush writes what TLS owes
          return true;
        case TlsStatus::kClosed:
          disconnect("peer closed the connection");
          return false;
        case TlsStatus::kFailed:
          disconnect(result.error);
          return false;
      }
    }
  }

  // flush() inside TLS: frames are copied into tls_chunk_, which stays untouched while a write
  // of it waits for the socket (OpenSSL wants the retry to carry the same bytes).
  void flush_tls() {
    while (!queue_.empty()) {
      if (tls_chunk_.empty()) fill_tls_chunk();
      const TlsResult result = tls_->write(tls_chunk_);
      switch (result.status) {
        case TlsStatus::kDone:
          tls_chunk_.clear();
          consume(result.bytes);
          continue;
        case TlsStatus::kWantWrite:
          return want_output(true);
        case TlsStatus::kWantRead:
          return;  // input is always watched; on_io retries the pending chunk when readable
        case TlsStatus::kClosed:
          return disconnect("peer closed the connection");
        case TlsStatus::kFailed:
          return disconnect(result.error);
      }
    }
    want_output(false);
  }

  void fill_tls_chunk() {
    iovec vectors[2 * kMaxFramesPerWrite];
    const int count = gather(vectors);
    for (int i = 0; i < count && tls_chunk_.size() < kTlsWriteChunkBytes; ++i) {
      const size_t take = std::min(vectors[i].iov_len, kTlsWriteChunkBytes - tls_chunk_.size());
      tls_chunk_.append(static_cast<const char*>(vectors[i].iov_base), take);
    }
  }

  void close_socket() {
    if (tls_ && state_ == State::kConnected) tls_->close_notify();
    tls_.reset();
    tls_chunk_.clear();
    if (fd_ >= 0) {
      network_.loop_.unwatch(fd_);
      ::close(fd_);
    }
    fd_ = -1;
    state_ = State::kDisconnected;
    watching_output_ = false;
  }

  TcpNetwork& network_;
  NodeId id_;
  ResolvedAddress address_;
  std::string host_;  // what a TLS peer's certificate must name
  std::string name_;
  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;  // with dial_tls, from the end of connect()
  Instant connected_at_;
  std::string tls_chunk_;  // frame bytes handed to TLS and not yet acknowledged
  State state_ = State::kDisconnected;
  bool watching_output_ = false;
  std::deque<OutboundFrame> queue_;
  size_t queued_bytes_ = 0;
  size_t front_written_ = 0;  // bytes of queue_.front() already on the current connection
  Duration backoff_ = kReconnectBackoffMin;
  TimerId reconnect_timer_;
};

// The receiving side of one connection a peer dialled to this process.
class TcpNetwork::InboundConnection : public IoHandler {
 public:
  InboundConnection(TcpNetwork& network, int fd, std::unique_ptr<TlsSession> tls)
      : network_(network), fd_(fd), tls_(std::move(tls)), handshaking_(tls_ != nullptr) {}
  ~InboundConnection() { close_socket(); }

  bool closed() const { return fd_ < 0; }

  void close_socket() {
    if (fd_ < 0) return;
    tls_.reset();
    network_.loop_.unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }

  void on_io(uint32_t) override {
    if (handshaking_ && !continue_handshake()) return;
    if (tls_) return read_tls();
    for (int reads = 0; reads < kMaxReadsPerEvent && !closed(); ++reads) {
      std::span<char> tail = decoder_.writable_tail(kReadChunkBytes);
      const ssize_t got = ::read(fd_, tail.data(), tail.size());
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        return network_.close_inbound(*this, "read: " + errno_text(errno), false);
      }
      if (got == 0) return network_.close_inbound(*this, "peer closed the connection", false);
      decoder_.commit(static_cast<size_t>(got));
      if (!deliver_frames()) return;
      if (static_cast<size_t>(got) < tail.size()) return;  // drained the socket
    }
  }

 private:
  // Hands every complete frame to the network; false once the connection was closed.
  bool deliver_frames() {
    for (;;) {
      Result<std::optional<PeerFrame>> next = decoder_.next();
      if (!next.is_ok()) {
        network_.close_inbound(*this, next.error().to_string(), true);
        return false;
      }
      if (!next->has_value()) return true;
      PeerFrame& frame = **next;
      if (sender_ == kNoNode) {
        if (!network_.is_known_peer(frame.sender) || frame.sender == network_.options_.self) {
          network_.close_inbound(
              *this, "frame from unknown sender " + std::to_string(frame.sender.value()), true);
          return false;
        }
        sender_ = frame.sender;
      } else if (frame.sender != sender_) {
        network_.close_inbound(*this,
                               "sender changed from " + std::to_string(sender_.value()) + " to " +
                                   std::to_string(frame.sender.value()),
                               true);
        return false;
      }
      network_.deliver(frame.sender, std::move(frame.payload));
    }
  }

  // True once the handshake is done and frames may flow.
  bool continue_handshake() {
    const TlsResult result = tls_->handshake();
    switch (result.status) {
      case TlsStatus::kDone:
        handshaking_ = false;
        watch_output(false);
        return true;
      case TlsStatus::kWantRead:
        watch_output(false);
        return false;
      case TlsStatus::kWantWrite:
        watch_output(true);
        return false;
      case TlsStatus::kClosed:
        network_.close_inbound(*this, "peer closed the connection during the TLS handshake", false);
        return false;
      case TlsStatus::kFailed:
        ++network_.stats_.tls_handshakes_failed;
        network_.close_inbound(*this, result.error, true);
        return false;
    }
    return false;
  }

  // The plain read loop's twin: TLS may hold decrypted bytes that epoll cannot see, so the
  // read budget is extended while any remain.
  void read_tls() {
    for (int reads = 0; !closed(); ++reads) {
      if (reads >= kMaxReadsPerEvent && !tls_->has_buffered_input()) return;
      std::span<char> tail = decoder_.writable_tail(kReadChunkBytes);
      const TlsResult result = tls_->read(tail);
      switch (result.status) {
        case TlsStatus::kDone:
          watch_output(false);
          decoder_.commit(result.bytes);
          if (!deliver_frames()) return;
          continue;
        case TlsStatus::kWantRead:
          return watch_output(false);
        case TlsStatus::kWantWrite:  // TLS must answer (a key update) before reading on
          return watch_output(true);
        case TlsStatus::kClosed:
          return network_.close_inbound(*this, "peer closed the connection", false);
        case TlsStatus::kFailed:
          return network_.close_inbound(*this, result.error, true);
      }
    }
  }

  void watch_output(bool wanted) {
    if (wanted == watching_output_) return;
    const uint32_t events = EPOLLIN | EPOLLRDHUP | (wanted ? EPOLLOUT : 0u);
    const Status modified = network_.loop_.modify(fd_, events, this);
    ASSERT(modified.is_ok(), "modifying a watched socket cannot fail");
    watching_output_ = wanted;
  }

  TcpNetwork& network_;
  int fd_;
  std::unique_ptr<TlsSession> tls_;  // with accept_tls
  bool handshaking_ = false;
  bool watching_output_ = false;
  NodeId sender_ = kNoNode;
  PeerFrameDecoder decoder_;
};

TcpNetwork::TcpNetwork(EventLoop& loop, env::Runtime& runtime, TcpNetworkOptions options)
    : loop_(loop), runtime_(runtime), options_(std::move(options)), arrival_(runtime) {}

Result<std::unique_ptr<TcpNetwork>> TcpNetwork::start(EventLoop& loop, env::Runtime& runtime,
                                                      TcpNetworkOptions options) {
  if (options.self == kNoNode) return Error(ErrorCode::kInvalidInput, "network self id is 0");
  std::optional<PeerAddress> listen = options.listen;
  if (!listen) {
    const auto own = options.peers.find(options.self);
    if (own == options.peers.end()) {
      return Error(ErrorCode::kInvalidInput, "no address for this process (id " +
                                                 std::to_string(options.self.value()) +
                                                 ") in the peer list");
    }
    listen = own->second;
  }
  std::unique_ptr<TcpNetwork> network(new TcpNetwork(loop, runtime, std::move(options)));
  RETURN_IF_ERROR(network->listen_on(*listen));
  // Resolve every peer before dialling any, so a typo fails startup instead of retrying.
  std::map<NodeId, ResolvedAddress> resolved;
  for (const auto& [id, address] : network->options_.peers) {
    if (id == network->options_.self) continue;
    Result<ResolvedAddress> found = resolve(address, /*passive=*/false);
    if (!found.is_ok()) return found.error();
    resolved.emplace(id, *found);
  }
  for (const auto& [id, address] : resolved) {
    const PeerAddress& named = network->options_.peers.at(id);
    auto peer =
        std::make_unique<OutboundPeer>(*network, id, address, named.host, named.to_string());
    peer->dial();
    network->peers_.emplace(id, std::move(peer));
  }
  loop.add_flush_handler(network.get());
  return network;
}

Status TcpNetwork::listen_on(const PeerAddress& address) {
  Result<ResolvedAddress> resolved = resolve(address, /*passive=*/true);
  if (!resolved.is_ok()) return resolved.error();
  listen_fd_ = ::socket(resolved->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status(ErrorCode::kIoError, "socket: " + errno_text(errno));
  // A restarted process rebinds at once although its old connections sit in TIME_WAIT.
  set_socket_option(listen_fd_, SOL_SOCKET, SO_REUSEADDR, 1);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&resolved->storage), resolved->length) !=
      0) {
    return Status(ErrorCode::kIoError, "bind " + address.to_string() + ": " + errno_text(errno));
  }
  if (::listen(listen_fd_, kListenBacklog) != 0) {
    return Status(ErrorCode::kIoError, "listen " + address.to_string() + ": " + errno_text(errno));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  listen_port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  return loop_.watch(listen_fd_, EPOLLIN, this);
}

TcpNetwork::~TcpNetwork() {
  loop_.remove_flush_handler(this);
  loop_.cancel(resume_accept_timer_);
  peers_.clear();
  inbound_.clear();
  closed_inbound_.clear();
  if (listen_fd_ >= 0) {
    loop_.unwatch(listen_fd_);
    ::close(listen_fd_);
  }
}

Status TcpNetwork::set_peer_address(NodeId peer, const PeerAddress& address) {
  if (peer == kNoNode) return Status(ErrorCode::kInvalidInput, "peer id 0");
  options_.peers[peer] = address;
  if (peer == options_.self) return Status::ok();
  Result<ResolvedAddress> resolved = resolve(address, /*passive=*/false);
  if (!resolved.is_ok()) return resolved.error();
  const auto found = peers_.find(peer);
  if (found != peers_.end()) {
    found->second->redirect(*resolved, address.host, address.to_string());
    return Status::ok();
  }
  auto created =
      std::make_unique<OutboundPeer>(*this, peer, *resolved, address.host, address.to_string());
  created->dial();
  peers_.emplace(peer, std::move(created));
  return Status::ok();
}

size_t TcpNetwork::queued_for(NodeId peer) const {
  const auto found = peers_.find(peer);
  return found == peers_.end() ? 0 : found->second->queued();
}

bool TcpNetwork::is_known_peer(NodeId id) const {
  return options_.peers.contains(id);
}

void TcpNetwork::send(NodeId to, std::string payload) {
  if (payload.size() > limits::kMaxMessageBytes) {
    ++stats_.dropped_oversized;
    PROBE(runtime_, "net.dropped_oversized");
    return;
  }
  if (to == options_.self) return deliver(to, std::move(payload));
  const auto found = peers_.find(to);
  if (found == peers_.end()) {
    ++stats_.dropped_unknown_peer;
    PROBE(runtime_, "net.dropped_unknown_peer");
    return;
  }
  OutboundPeer& peer = *found->second;
  if (!peer.enqueue(std::move(payload))) {
    ++stats_.dropped_queue_full;
    PROBE(runtime_, "net.dropped_queue_full");
    return;
  }
  mark_dirty(peer);
}

std::optional<env::Message> TcpNetwork::receive(std::optional<Instant> deadline) {
  while (inbox_.empty()) {
    // A timed-out wait still takes a message that arrived in the same loop iteration.
    if (!arrival_.wait(deadline) && inbox_.empty()) return std::nullopt;
  }
  env::Message message = std::move(inbox_.front());
  inbox_.pop_front();
  inbox_bytes_ -= message.payload.size();
  return message;
}

void TcpNetwork::deliver(NodeId from, std::string payload) {
  if (inbox_.size() >= kMaxInboxMessages || inbox_bytes_ + payload.size() > kMaxInboxBytes) {
    ++stats_.dropped_inbox_full;
    PROBE(runtime_, "net.dropped_inbox_full");
    return;
  }
  inbox_bytes_ += payload.size();
  inbox_.push_back(env::Message{from, options_.self, std::move(payload)});
  ++stats_.messages_received;
  arrival_.notify_one();
}

void TcpNetwork::mark_dirty(OutboundPeer& peer) {
  if (peer.dirty) return;
  peer.dirty = true;
  dirty_.push_back(&peer);
}

void TcpNetwork::on_flush() {
  for (OutboundPeer* peer : dirty_) {
    peer->dirty = false;
    peer->flush();
  }
  dirty_.clear();
  closed_inbound_.clear();
}

void TcpNetwork::on_timer(uint64_t peer_id) {
  if (peer_id == kResumeAcceptingCookie) {
    resume_accept_timer_ = TimerId{};
    const Status watched = loop_.watch(listen_fd_, EPOLLIN, this);
    ASSERT(watched.is_ok(), "re-watching our own listener cannot fail");
    return;
  }
  const auto found = peers_.find(NodeId(peer_id));
  ASSERT(found != peers_.end(), "a peer's timer is cancelled when the peer goes");
  found->second->dial();
}

void TcpNetwork::on_io(uint32_t) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;  // all pending connections accepted
      // Out of descriptors (EMFILE/ENFILE) or memory: the connection stays in the backlog and
      // the listener stays readable, so a level-triggered loop would spin at full CPU. Stop
      // watching the listener for a while instead and retry then.
      runtime_.trace("net.accept_failed", errno_text(errno));
      PROBE(runtime_, "net.accept_paused");
      loop_.unwatch(listen_fd_);
      resume_accept_timer_ =
          loop_.schedule(loop_.now() + kAcceptRetryDelay, this, kResumeAcceptingCookie);
      return;
    }
    if (inbound_.size() >= kMaxInboundConnections) {
      ::close(fd);
      ++stats_.connections_rejected;
      PROBE(runtime_, "net.too_many_inbound");
      continue;
    }
    tune_peer_socket(fd);
    std::unique_ptr<TlsSession> tls;
    if (options_.accept_tls) {
      Result<std::unique_ptr<TlsSession>> session = TlsSession::create(*options_.accept_tls, fd);
      if (!session.is_ok()) {
        ::close(fd);
        ++stats_.connections_rejected;
        runtime_.trace("net.inbound_closed", session.error().detail());
        continue;
      }
      tls = std::move(session).value();
    }
    auto connection = std::make_unique<InboundConnection>(*this, fd, std::move(tls));
    const Status watched = loop_.watch(fd, EPOLLIN | EPOLLRDHUP, connection.get());
    ASSERT(watched.is_ok(), "watching a fresh socket cannot fail");
    inbound_.push_back(std::move(connection));
    ++stats_.connections_accepted;
  }
}

void TcpNetwork::close_inbound(InboundConnection& connection, std::string_view reason,
                               bool rejected) {
  if (rejected) {
    ++stats_.connections_rejected;
    runtime_.trace("net.inbound_closed", reason);
  }
  connection.close_socket();
  const auto found = std::find_if(inbound_.begin(), inbound_.end(),
                                  [&](const auto& owned) { return owned.get() == &connection; });
  ASSERT(found != inbound_.end(), "closing a connection this network owns");
  // Kept alive until the next flush: the current poll may still name it.
  closed_inbound_.push_back(std::move(*found));
  inbound_.erase(found);
}

}  // namespace lockstep::server
