#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "server/api/admin_api.h"
#include "server/api/call_queue.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {

// etcd streams a snapshot in 32 KiB blobs (etcdserver/api/v3rpc/maintenance.go
// snapshotSendBufferSize).
inline constexpr size_t kSnapshotChunkBytes = 32 * 1024;

// etcd's Maintenance service over an AdminApi: Status (etcdctl endpoint status), Alarm,
// Defragment, Hash/HashKV, MoveLeader and Snapshot (a server stream of the database copy).
class MaintenanceService final {
 public:
  explicit MaintenanceService(AdminApi& admin) : admin_(admin) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  AdminApi& admin_;
  etcdserverpb::Maintenance::AsyncService service_;
};

}  // namespace lockstep::api
