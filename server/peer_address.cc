#include "server/peer_address.h"

#include <charconv>

namespace lockstep::server {
namespace {

template <typename Integer>
bool parse_integer(std::string_view text, Integer& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

Error invalid(std::string_view what, std::string_view text) {
  return Error(ErrorCode::kInvalidInput, std::string(what) + ": '" + std::string(text) + "'");
}

}  // namespace

std::string PeerAddress::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<PeerAddress> parse_peer_address(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("address needs host:port", text);
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // an IPv6 literal in brackets (RFC 3986)
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("IPv6 addresses need brackets, as in [::1]:7101", text);
  }
  if (host.empty()) return invalid("address has an empty host", text);
  uint32_t port = 0;
  if (!parse_integer(port_text, port) || port == 0 || port > UINT16_MAX) {
    return invalid("port must be 1..65535", text);
  }
  return PeerAddress{std::string(host), static_cast<uint16_t>(port)};
}

Result<std::map<NodeId, PeerAddress>> parse_peer_list(std::string_view text) {
  std::map<NodeId, PeerAddress> peers;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view entry = text.substr(start, comma - start);
    start = comma + 1;
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) return invalid("peer entry needs id=host:port", entry);
    uint64_t id = 0;
    if (!parse_integer(entry.substr(0, equals), id) || id == 0) {
      return invalid("peer id must be a positive integer", entry);
    }
    Result<PeerAddress> address = parse_peer_address(entry.substr(equals + 1));
    if (!address.is_ok()) return address.error();
    if (!peers.emplace(NodeId(id), *address).second) return invalid("duplicate peer id", entry);
    if (peers.size() > kMaxPeers) {
      return Error(ErrorCode::kInvalidInput, "more than " + std::to_string(kMaxPeers) + " peers");
    }
  }
  return peers;
}

}  // namespace lockstep::server
