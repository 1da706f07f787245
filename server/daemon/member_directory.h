#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"

namespace lockstep::daemon {

// What etcd's membership store knows of a member beyond its Raft id: its name and URLs
// (etcd's membership.Member RaftAttributes + Attributes).
struct MemberAttributes {
  std::string name;  // empty until the member has started (etcd: "unstarted")
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;

  bool operator==(const MemberAttributes&) const = default;
};

// The attributes carried in a member-add ConfChange's context (MemberAddRequest::attributes),
// as JSON like etcd's ConfChange context: {"name":"...","peerURLs":["http://..."]}.
std::string encode_member_attributes(const MemberAttributes& attributes);
Result<MemberAttributes> decode_member_attributes(const std::string& bytes);

// The daemon's view of every member's name and URLs, by id. The founding members come from
// --initial-cluster; members added later are learned when their ConfChange is applied (its
// context carries their peer URLs), and forgotten when their removal is applied. Loop thread
// only.
class MemberDirectory {
 public:
  void set(NodeId id, MemberAttributes attributes) { members_[id] = std::move(attributes); }
  void remove(NodeId id) { members_.erase(id); }
  // Empty attributes for a member never heard of (a joiner that learned a member from a
  // snapshot, whose ConfChange it never applied).
  MemberAttributes get(NodeId id) const;
  // The member whose peer URLs include `url`, if any.
  NodeId find_by_peer_url(const std::string& url) const;

 private:
  std::map<NodeId, MemberAttributes> members_;
};

}  // namespace lockstep::daemon
