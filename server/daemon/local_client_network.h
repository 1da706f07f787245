#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/env/event.h"
#include "core/env/network.h"
#include "core/env/runtime.h"

namespace lockstep::daemon {

// Ids below this name the daemon's in-process clients (the gRPC bridge), never a member.
// Member ids are SHA-1 derived (member_id.h), so one below 2^16 has probability 2^-48; the
// daemon refuses to start with such a member rather than misroute its messages.
inline constexpr uint64_t kLocalClientIdLimit = 1 << 16;
inline bool is_local_client(NodeId id) {
  return id != kNoNode && id.value() < kLocalClientIdLimit;
}
// Frames waiting for the member beyond this are refused (the client gets kTooManyRequests).
inline constexpr size_t kMaxLocalInboxMessages = 16 * 1024;

// The member's env::Network in the daemon: the peers' TCP network plus the in-process clients
// of the gRPC bridge. The member addresses the bridge's clients by id exactly as simulated
// clients are addressed over SimNetwork, so core/node needs no daemon-specific code path.
//
//   member -> peer            forwarded to the TCP network
//   member -> local client    handed to the client handler (same thread, in order)
//   bridge -> member          inject(): queued in the member's inbox
//   peer -> this process      raft and client requests go to the member's inbox; client
//                             responses (answers to requests the bridge forwarded to the
//                             leader) go to the client handler
//
// Everything runs on the event loop's thread; only the bridge's EventLoop::post crosses threads.
class LocalClientNetwork final : public env::Network {
 public:
  using ClientHandler = std::function<void(NodeId from, NodeId to, std::string payload)>;

  LocalClientNetwork(env::Runtime& runtime, std::unique_ptr<env::Network> peers);
  ~LocalClientNetwork() override;

  void set_client_handler(ClientHandler handler) { handler_ = std::move(handler); }
  // Spawns the fiber that moves peer messages into the inbox (or to the client handler).
  void start_pump();

  // A frame from local client `from` to the member. False when the inbox is full.
  bool inject(NodeId from, std::string payload);
  // Sends straight to a peer's TCP connection (the bridge forwarding to the leader).
  void send_to_peer(NodeId peer, std::string payload) { peers_->send(peer, std::move(payload)); }

  // env::Network (the member's view)
  void send(NodeId to, std::string payload) override;
  std::optional<env::Message> receive(std::optional<Instant> deadline) override;

 private:
  void pump();

  env::Runtime& runtime_;
  std::unique_ptr<env::Network> peers_;
  ClientHandler handler_;
  std::deque<env::Message> inbox_;
  env::Event arrival_;
};

}  // namespace lockstep::daemon
