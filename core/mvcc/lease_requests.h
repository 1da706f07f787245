#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/mvcc/requests.h"

namespace lockstep::mvcc {

// Plain C++ mirrors of etcd's v3 Lease messages (etcdserverpb rpc.proto). TTLs are in
// seconds, as in etcd.

struct LeaseGrantRequest {
  int64_t ttl_seconds = 0;
  // The lease id. etcd's server picks a fresh id before proposing when the client sent 0, so
  // by the time a grant is applied the id is never 0 (0 is rejected: lease not found).
  LeaseId id{};

  bool operator==(const LeaseGrantRequest&) const = default;
};

struct LeaseGrantResponse {
  ResponseHeader header{};
  LeaseId id{};
  // The granted TTL: the requested one raised to the minimum TTL.
  int64_t ttl_seconds = 0;
  std::string error{};

  bool operator==(const LeaseGrantResponse&) const = default;
};

struct LeaseRevokeRequest {
  LeaseId id{};

  bool operator==(const LeaseRevokeRequest&) const = default;
};

struct LeaseRevokeResponse {
  ResponseHeader header{};

  bool operator==(const LeaseRevokeResponse&) const = default;
};

// etcd's LeaseCheckpoint (applied through Raft): the leader records the remaining TTL so
// that a new leader does not hand out a full TTL again after a failover.
struct LeaseCheckpoint {
  LeaseId id{};
  int64_t remaining_ttl_seconds = 0;

  bool operator==(const LeaseCheckpoint&) const = default;
};

struct LeaseCheckpointRequest {
  std::vector<LeaseCheckpoint> checkpoints{};

  bool operator==(const LeaseCheckpointRequest&) const = default;
};

struct LeaseCheckpointResponse {
  ResponseHeader header{};

  bool operator==(const LeaseCheckpointResponse&) const = default;
};

struct LeaseKeepAliveRequest {
  LeaseId id{};

  bool operator==(const LeaseKeepAliveRequest&) const = default;
};

struct LeaseKeepAliveResponse {
  ResponseHeader header{};
  LeaseId id{};
  // The renewed TTL (the lease's full TTL).
  int64_t ttl_seconds = 0;

  bool operator==(const LeaseKeepAliveResponse&) const = default;
};

struct LeaseTimeToLiveRequest {
  LeaseId id{};
  // Also list the keys attached to the lease.
  bool keys = false;

  bool operator==(const LeaseTimeToLiveRequest&) const = default;
};

struct LeaseTimeToLiveResponse {
  ResponseHeader header{};
  LeaseId id{};
  // Remaining seconds (truncated, as etcd); -1 when the lease has expired or is not found.
  int64_t ttl_seconds = 0;
  int64_t granted_ttl_seconds = 0;
  std::vector<std::string> keys{};

  bool operator==(const LeaseTimeToLiveResponse&) const = default;
};

struct LeaseLeasesRequest {
  bool operator==(const LeaseLeasesRequest&) const = default;
};

struct LeaseStatus {
  LeaseId id{};

  bool operator==(const LeaseStatus&) const = default;
};

struct LeaseLeasesResponse {
  ResponseHeader header{};
  std::vector<LeaseStatus> leases{};

  bool operator==(const LeaseLeasesResponse&) const = default;
};

}  // namespace lockstep::mvcc
