#pragma once

#include <string>

#include "server/api/client_api.h"
#include "server/api/proto/rpc.pb.h"

namespace lockstep::api {

// What a member offers operators: etcd's Cluster and Maintenance calls. Unlike ClientApi these
// have no core/mvcc counterpart (they describe the member and its peers, not the keyspace), so
// they are expressed in etcd's own message types and the services only pass them through.
//
// The same contract as ClientApi: every call answers through `done`, exactly once, from any
// thread; expected failures are Errors from core/base/error.h (etcd's codes and messages).
class AdminApi {
 public:
  virtual ~AdminApi() = default;

  // Cluster service (etcd 3.4 clientv3 Cluster: member list/add/remove/update/promote).
  virtual void member_list(Completion<etcdserverpb::MemberListResponse> done) = 0;
  virtual void member_add(const etcdserverpb::MemberAddRequest& request,
                          Completion<etcdserverpb::MemberAddResponse> done) = 0;
  virtual void member_remove(const etcdserverpb::MemberRemoveRequest& request,
                             Completion<etcdserverpb::MemberRemoveResponse> done) = 0;
  virtual void member_promote(const etcdserverpb::MemberPromoteRequest& request,
                              Completion<etcdserverpb::MemberPromoteResponse> done) = 0;
  virtual void member_update(const etcdserverpb::MemberUpdateRequest& request,
                             Completion<etcdserverpb::MemberUpdateResponse> done) = 0;

  // Maintenance service.
  virtual void status(Completion<etcdserverpb::StatusResponse> done) = 0;
  virtual void alarm(const etcdserverpb::AlarmRequest& request,
                     Completion<etcdserverpb::AlarmResponse> done) = 0;
  virtual void defragment(Completion<etcdserverpb::DefragmentResponse> done) = 0;
  virtual void hash(Completion<etcdserverpb::HashResponse> done) = 0;
  virtual void hash_kv(const etcdserverpb::HashKVRequest& request,
                       Completion<etcdserverpb::HashKVResponse> done) = 0;
  virtual void move_leader(const etcdserverpb::MoveLeaderRequest& request,
                           Completion<etcdserverpb::MoveLeaderResponse> done) = 0;
  // A consistent copy of the member's backend database, followed (as etcd does) by the
  // SHA-256 of the copy, so that a restore can check the file; the service chunks it.
  struct SnapshotImage {
    mvcc::ResponseHeader header;
    std::string bytes;
  };
  virtual void snapshot(Completion<SnapshotImage> done) = 0;
};

}  // namespace lockstep::api
