#include "server/daemon/member_id.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace lockstep::daemon {
namespace {

uint64_t first_eight_bytes_big_endian(const std::string& bytes) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[static_cast<size_t>(i)];
  return value;
}

}  // namespace

NodeId compute_member_id(std::vector<std::string> peer_urls, const std::string& cluster_token) {
  std::sort(peer_urls.begin(), peer_urls.end());
  std::string bytes;
  for (const std::string& url : peer_urls) bytes += url;
  bytes += cluster_token;
  return NodeId(first_eight_bytes_big_endian(bytes));
}

uint64_t compute_cluster_id(std::vector<NodeId> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  std::string bytes;
  for (NodeId id : member_ids) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((id.value() >> shift) & 0xff));
    }
  }
  return first_eight_bytes_big_endian(bytes);
}

}  // namespace lockstep::daemon
