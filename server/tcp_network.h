#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/env/event.h"
#include "core/env/network.h"
#include "core/env/runtime.h"
#include "server/event_loop.h"
#include "server/peer_address.h"
#include "server/tls_context.h"

namespace lockstep::server {

// Messages queued for one peer while its connection is down or slow. Beyond either bound new
// messages are dropped: the network is best-effort (env::Network), Raft retransmits, and an
// unbounded queue would turn a dead peer into an out-of-memory crash.
inline constexpr size_t kMaxQueuedMessagesPerPeer = 16 * 1024;
inline constexpr size_t kMaxQueuedBytesPerPeer = 64 * 1024 * 1024;
// Received messages not yet taken by receive(). Beyond these, arrivals are dropped.
inline constexpr size_t kMaxInboxMessages = 64 * 1024;
inline constexpr size_t kMaxInboxBytes = 256 * 1024 * 1024;
// Accepted connections at once; peers open one each, so this is generous.
inline constexpr size_t kMaxInboundConnections = 1024;
// Reconnect backoff after a failed or lost connection: doubles from min to max, with up to
// 25% random jitter so that a restarted cluster's members do not dial in lockstep.
inline constexpr Duration kReconnectBackoffMin = std::chrono::milliseconds(20);
inline constexpr Duration kReconnectBackoffMax = std::chrono::milliseconds(1000);

struct TcpNetworkOptions {
  NodeId self;
  // Every member's address, usually including this process's own (its listen address).
  std::map<NodeId, PeerAddress> peers;
  // Where to listen, if not peers[self]. Port 0 picks a free port (tests).
  std::optional<PeerAddress> listen;
  size_t max_queued_messages_per_peer = kMaxQueuedMessagesPerPeer;
  size_t max_queued_bytes_per_peer = kMaxQueuedBytesPerPeer;
  // TLS (etcd's --peer-cert-file and friends): accepted connections are served with
  // `accept_tls` (kServer) and peers are dialled with `dial_tls` (kClient, checking that each
  // peer's certificate names the host it was dialled at). Null: plain TCP.
  std::shared_ptr<const TlsContext> accept_tls;
  std::shared_ptr<const TlsContext> dial_tls;
};

struct TcpNetworkStats {
  uint64_t messages_sent = 0;      // fully handed to a socket
  uint64_t messages_received = 0;  // delivered to the inbox
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_unknown_peer = 0;
  uint64_t dropped_oversized = 0;
  uint64_t dropped_inbox_full = 0;
  uint64_t connections_established = 0;  // outbound connects that succeeded
  uint64_t connections_lost = 0;         // outbound connections that failed or closed
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // inbound closed for bad frames, senders or limits
  uint64_t tls_handshakes_failed = 0;  // either direction: untrusted certificate, wrong protocol
};

// env::Network over TCP between lockstep processes.
//
// Each process dials one connection to every peer and only *sends* on it; it *receives* on
// the connections its peers dialled. Messages travel as checksummed frames (peer_frame.h);
// a bad frame, an unknown sender or a sender that changes mid-connection closes the
// connection. A lost connection is redialled with exponential backoff; the frame that was
// half-written is sent again from its start on the new connection (the receiver discarded
// the partial bytes with the old one), and anything already written to the dead connection
// may be lost — callers retry, as they must on any env::Network.
//
// With TLS, each connection first completes a TLS handshake (non-blocking, driven by the same
// readiness events), then carries the same frames inside TLS records; a failed handshake
// (untrusted or missing certificate) is a lost connection for the dialler, redialled with
// backoff, and a rejected one for the acceptor.
//
// All sockets are non-blocking and driven by the EventLoop. send() only queues; the loop's
// flush hook writes each peer's queue with one gathering sendmsg (header and payload as
// separate iovecs, up to 64 frames per call) once per iteration, so a burst of messages from
// many fibers costs one system call per peer.
class TcpNetwork : public env::Network,
                   private IoHandler,
                   private FlushHandler,
                   private TimerHandler {
 public:
  // Resolves every address, listens, and starts dialling peers. Errors: kInvalidInput for
  // an unresolvable address or a missing own address, kIoError for a failed bind/listen.
  static Result<std::unique_ptr<TcpNetwork>> start(EventLoop& loop, env::Runtime& runtime,
                                                   TcpNetworkOptions options);
  ~TcpNetwork() override;
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;

  uint16_t listen_port() const { return listen_port_; }
  // Adds or moves a peer; an existing connection to it is closed and redialled.
  Status set_peer_address(NodeId peer, const PeerAddress& address);
  const TcpNetworkStats& stats() const { return stats_; }
  // Messages waiting in `peer`'s outbound queue (tests and metrics).
  size_t queued_for(NodeId peer) const;

  // env::Network
  void send(NodeId to, std::string payload) override;
  std::optional<env::Message> receive(std::optional<Instant> deadline) override;

  class OutboundPeer;
  class InboundConnection;

 private:
  TcpNetwork(EventLoop& loop, env::Runtime& runtime, TcpNetworkOptions options);
  Status listen_on(const PeerAddress& address);

  void on_io(uint32_t events) override;  // the listener
  void on_flush() override;
  bool has_pending_flush() const override { return !dirty_.empty(); }
  // A peer's reconnect backoff ended, or (cookie 0) accepting may resume.
  void on_timer(uint64_t peer_id) override;

  friend class OutboundPeer;
  friend class InboundConnection;
  void deliver(NodeId from, std::string payload);
  void mark_dirty(OutboundPeer& peer);
  // `rejected`: closed for a protocol violation (bad frame, sender), not a normal hang-up.
  void close_inbound(InboundConnection& connection, std::string_view reason, bool rejected);
  bool is_known_peer(NodeId id) const;

  EventLoop& loop_;
  env::Runtime& runtime_;
  TcpNetworkOptions options_;
  int listen_fd_ = -1;
  uint16_t listen_port_ = 0;
  TimerId resume_accept_timer_;  // pending while accepting is paused (out of descriptors)
  std::map<NodeId, std::unique_ptr<OutboundPeer>> peers_;
  std::vector<std::unique_ptr<InboundConnection>> inbound_;
  // Closed this iteration; freed at the next flush, after epoll stopped naming them.
  std::vector<std::unique_ptr<InboundConnection>> closed_inbound_;
  std::vector<OutboundPeer*> dirty_;
  std::deque<env::Message> inbox_;
  size_t inbox_bytes_ = 0;
  env::Event arrival_;
  TcpNetworkStats stats_;
};

}  // namespace lockstep::server
