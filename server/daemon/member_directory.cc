#include "server/daemon/member_directory.h"

#include <algorithm>
#include <cstdlib>
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

namespace lockstep::daemon {
namespace {

constexpr std::string_view kMemberDirectoryTempFile = "members.json.tmp";
// A directory of etcd's largest sensible clusters is a few KiB; anything bigger is not ours.
constexpr uint64_t kMaxMemberDirectoryBytes = 1 << 20;

}  // namespace

Status MemberDirectory::save(env::Disk& disk) const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [id, attributes] : members_) {
    json[std::to_string(id.value())] = nlohmann::json::parse(encode_member_attributes(attributes));
  }
  const std::string bytes = json.dump();
  (void)disk.remove(kMemberDirectoryTempFile);
  Result<std::unique_ptr<env::File>> file =
      disk.open(kMemberDirectoryTempFile, env::OpenMode::kCreateReadWrite);
  if (!file.is_ok()) return file.error();
  RETURN_IF_ERROR((*file)->write(0, bytes));
  RETURN_IF_ERROR((*file)->sync());
  RETURN_IF_ERROR(disk.rename(kMemberDirectoryTempFile, kMemberDirectoryFile));
  return disk.sync_directory("");
}

Result<bool> MemberDirectory::load(env::Disk& disk) {
  if (!disk.exists(kMemberDirectoryFile)) return false;
  Result<std::unique_ptr<env::File>> file =
      disk.open(kMemberDirectoryFile, env::OpenMode::kReadWrite);
  if (!file.is_ok()) return file.error();
  Result<uint64_t> size = (*file)->size();
  if (!size.is_ok()) return size.error();
  if (*size > kMaxMemberDirectoryBytes) {
    return Error(ErrorCode::kDataCorruption, std::string(kMemberDirectoryFile) + " is too big");
  }
  Result<std::string> bytes = (*file)->read(0, *size);
  if (!bytes.is_ok()) return bytes.error();
  nlohmann::json json = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorCode::kDataCorruption,
                 std::string(kMemberDirectoryFile) + " is not a JSON object");
  }
  std::map<NodeId, MemberAttributes> members;
  for (const auto& [key, value] : json.items()) {
    Result<MemberAttributes> attributes = decode_member_attributes(value.dump());
    char* end = nullptr;
    const unsigned long long id = std::strtoull(key.c_str(), &end, 10);
    if (!attributes.is_ok() || end == key.c_str() || *end != '\0' || id == 0) {
      return Error(ErrorCode::kDataCorruption,
                   std::string(kMemberDirectoryFile) + ": bad member " + key);
    }
    members[NodeId(id)] = std::move(*attributes);
  }
  members_ = std::move(members);
  return true;
}

}  // namespace lockstep::daemon
