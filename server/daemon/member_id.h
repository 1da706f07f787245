#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"

namespace lockstep::daemon {

// Member and cluster ids computed exactly as etcd 3.4 computes them for a new cluster, so
// that a member's id depends only on its configuration and every founding member derives the
// same ids for everyone (etcd etcdserver/api/membership/member.go NewMember, cluster.go genID):
//
//   member id  = big-endian uint64 of the first 8 bytes of
//                SHA-1(sorted peer URLs concatenated, then the --initial-cluster-token)
//   cluster id = big-endian uint64 of the first 8 bytes of
//                SHA-1(the member ids sorted ascending, each as 8 big-endian bytes)
//
// The member's name is not part of its id in etcd either: two members with the same peer
// URLs and token get the same id, which the caller rejects as a duplicate.
NodeId compute_member_id(std::vector<std::string> peer_urls, const std::string& cluster_token);
uint64_t compute_cluster_id(std::vector<NodeId> member_ids);

}  // namespace lockstep::daemon
