#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/env/disk.h"

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
inline constexpr std::string_view kMemberDirectoryFile = "members.json";

class MemberDirectory {
 public:
  void set(NodeId id, MemberAttributes attributes) { members_[id] = std::move(attributes); }
  void remove(NodeId id) { members_.erase(id); }
  // Empty attributes for a member never heard of (a joiner that learned a member from a
  // snapshot, whose ConfChange it never applied).
  MemberAttributes get(NodeId id) const;
  // The member whose peer URLs include `url`, if any.
  NodeId find_by_peer_url(const std::string& url) const;
  const std::map<NodeId, MemberAttributes>& members() const { return members_; }

  // The directory as the data dir keeps it (kMemberDirectoryFile), so that a restart knows
  // the members as they are now, as etcd's membership store does, rather than as
  // --initial-cluster described them (a member update moved a peer URL, an added member
  // joined before the last Raft snapshot). Written whole: temp file, fsync, rename, fsync of
  // the directory, so a crash leaves the old or the new copy.
  Status save(env::Disk& disk) const;
  // Replaces the directory with the saved copy; false (and unchanged) when there is none.
  Result<bool> load(env::Disk& disk);

 private:
  std::map<NodeId, MemberAttributes> members_;
};

}  // namespace lockstep::daemon
