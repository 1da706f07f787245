#include "server/daemon/local_client_network.h"

#include "core/node/client_protocol.h"

namespace lockstep::daemon {
namespace {

// Byte 2 of every member frame is its kind (core/node/client_protocol.h).
bool is_answer_frame(const std::string& payload) {
  if (payload.size() < 3) return false;
  const auto kind = static_cast<node::FrameKind>(static_cast<uint8_t>(payload[2]));
  return kind == node::FrameKind::kClientResponse || kind == node::FrameKind::kWatchResponse;
}

}  // namespace

LocalClientNetwork::LocalClientNetwork(env::Runtime& runtime, std::unique_ptr<env::Network> peers)
    : runtime_(runtime), peers_(std::move(peers)), arrival_(runtime) {}

LocalClientNetwork::~LocalClientNetwork() = default;

void LocalClientNetwork::start_pump() {
  runtime_.spawn("peer-pump", [this] { pump(); });
}

void LocalClientNetwork::pump() {
  while (true) {
    std::optional<env::Message> message = peers_->receive(std::nullopt);
    if (!message) continue;
    if (is_answer_frame(message->payload)) {
      if (handler_) handler_(message->from, message->to, std::move(message->payload));
      continue;
    }
    if (inbox_.size() >= kMaxLocalInboxMessages) continue;  // best effort, as TcpNetwork
    inbox_.push_back(std::move(*message));
    arrival_.notify_one();
  }
}

bool LocalClientNetwork::inject(NodeId from, std::string payload) {
  if (inbox_.size() >= kMaxLocalInboxMessages) return false;
  inbox_.push_back(env::Message{from, runtime_.self(), std::move(payload)});
  arrival_.notify_one();
  return true;
}

void LocalClientNetwork::send(NodeId to, std::string payload) {
  if (!is_local_client(to)) return peers_->send(to, std::move(payload));
  if (handler_) handler_(runtime_.self(), to, std::move(payload));
}

std::optional<env::Message> LocalClientNetwork::receive(std::optional<Instant> deadline) {
  while (inbox_.empty()) {
    if (!arrival_.wait(deadline)) return std::nullopt;
  }
  env::Message message = std::move(inbox_.front());
  inbox_.pop_front();
  return message;
}

}  // namespace lockstep::daemon
