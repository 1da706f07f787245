#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/admin_api.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {

// etcd's Cluster service (member list/add/remove/update/promote) over an AdminApi.
class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit ClusterService(AdminApi& admin) : admin_(admin) {}

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* context,
                                      const etcdserverpb::MemberAddRequest* request,
                                      etcdserverpb::MemberAddResponse* response) override;
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberRemoveRequest* request,
                                         etcdserverpb::MemberRemoveResponse* response) override;
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MemberListRequest* request,
                                       etcdserverpb::MemberListResponse* response) override;
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* context,
                                          const etcdserverpb::MemberPromoteRequest* request,
                                          etcdserverpb::MemberPromoteResponse* response) override;
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberUpdateRequest* request,
                                         etcdserverpb::MemberUpdateResponse* response) override;

 private:
  AdminApi& admin_;
};

}  // namespace lockstep::api
