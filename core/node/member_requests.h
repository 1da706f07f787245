#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/mvcc/requests.h"

namespace lockstep::node {

// Plain mirrors of etcd's v3 Cluster and Maintenance messages that the member serves
// (etcdserverpb rpc.proto: MemberAdd/Remove/Promote/List and Status). Peer URLs are not
// modelled: in this code base a member is addressed by its NodeId on env::Network.

struct MemberInfo {
  NodeId id;
  bool is_learner = false;

  bool operator==(const MemberInfo&) const = default;
};

// etcd adds a member as a voter or, with is_learner, as a non-voting learner that can be
// promoted once it has caught up (etcd 3.4 learner design).
struct MemberAddRequest {
  NodeId id;
  bool is_learner = false;
  // The host's description of the new member (the daemon: name and peer URLs), replicated in
  // the ConfChange's context as etcd replicates its Member JSON there, so that every member
  // learns how to reach the new one when the change is applied. Opaque to core/node.
  std::string attributes;

  bool operator==(const MemberAddRequest&) const = default;
};

struct MemberRemoveRequest {
  NodeId id;

  bool operator==(const MemberRemoveRequest&) const = default;
};

struct MemberPromoteRequest {
  NodeId id;

  bool operator==(const MemberPromoteRequest&) const = default;
};

// etcd's member update: new peer URLs for a member, replicated (like an add's) as the host's
// opaque attributes in the context of a ConfChange that leaves the configuration unchanged.
struct MemberUpdateRequest {
  NodeId id;
  std::string attributes;

  bool operator==(const MemberUpdateRequest&) const = default;
};

struct MemberListRequest {
  // etcd 3.5's linearizable member list; false answers from the local view.
  bool linearizable = false;

  bool operator==(const MemberListRequest&) const = default;
};

// The answer to add, remove, promote, update and list: the membership after the change.
struct MemberListResponse {
  mvcc::ResponseHeader header;
  std::vector<MemberInfo> members;  // ascending by id

  bool operator==(const MemberListResponse&) const = default;
};

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};

// etcd's StatusResponse, in the fields the simulation and the CLI use.
struct StatusResponse {
  mvcc::ResponseHeader header;
  NodeId leader;
  LogIndex raft_index;
  LogIndex raft_applied_index;
  uint64_t db_size_bytes = 0;
  bool is_learner = false;

  bool operator==(const StatusResponse&) const = default;
};

}  // namespace lockstep::node
