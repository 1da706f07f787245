#include "server/daemon/member_directory.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lockstep::daemon {

std::string encode_member_attributes(const MemberAttributes& attributes) {
  nlohmann::json json;
  json["name"] = attributes.name;
  json["peerURLs"] = attributes.peer_urls;
  if (!attributes.client_urls.empty()) json["clientURLs"] = attributes.client_urls;
  return json.dump();
}

Result<MemberAttributes> decode_member_attributes(const std::string& bytes) {
  nlohmann::json json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorCode::kInvalidInput, "member attributes are not a JSON object");
  }
  MemberAttributes attributes;
  try {
    attributes.name = json.value("name", std::string());
    attributes.peer_urls = json.value("peerURLs", std::vector<std::string>());
    attributes.client_urls = json.value("clientURLs", std::vector<std::string>());
  } catch (const nlohmann::json::exception& error) {
    return Error(ErrorCode::kInvalidInput, std::string("member attributes: ") + error.what());
  }
  return attributes;
}

MemberAttributes MemberDirectory::get(NodeId id) const {
  auto found = members_.find(id);
  return found == members_.end() ? MemberAttributes{} : found->second;
}

NodeId MemberDirectory::find_by_peer_url(const std::string& url) const {
  for (const auto& [id, attributes] : members_) {
    if (std::ranges::find(attributes.peer_urls, url) != attributes.peer_urls.end()) return id;
  }
  return kNoNode;
}

}  // namespace lockstep::daemon
