#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/admin_api.h"
#include "server/api/call_queue.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {

// etcd's Cluster service (member list/add/remove/update/promote) over an AdminApi.
class ClusterService final {
 public:
  explicit ClusterService(AdminApi& admin) : admin_(admin) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  AdminApi& admin_;
  etcdserverpb::Cluster::AsyncService service_;
};

}  // namespace lockstep::api
