#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/ids.h"

namespace lockstep::server {

// Where a peer listens: a host name or IP literal and a TCP port.
struct PeerAddress {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;
  bool operator==(const PeerAddress&) const = default;
};

// "127.0.0.1:7101", "node-a.example:7101" or "[::1]:7101". Errors are kInvalidInput naming
// the offending text.
Result<PeerAddress> parse_peer_address(std::string_view text);

// "1=127.0.0.1:7101,2=127.0.0.1:7102": the cluster's members by id. Ids are positive and
// unique; at most kMaxPeers entries.
inline constexpr size_t kMaxPeers = 1024;
Result<std::map<NodeId, PeerAddress>> parse_peer_list(std::string_view text);

}  // namespace lockstep::server
