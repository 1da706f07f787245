#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "server/api/admin_api.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {

// etcd streams a snapshot in 32 KiB blobs (etcdserver/api/v3rpc/maintenance.go
// snapshotSendBufferSize).
inline constexpr size_t kSnapshotChunkBytes = 32 * 1024;

// etcd's Maintenance service over an AdminApi: Status (etcdctl endpoint status), Alarm,
// Defragment, Hash/HashKV, MoveLeader and Snapshot (a server stream of the database copy).
class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(AdminApi& admin) : admin_(admin) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context,
                                  const etcdserverpb::AlarmRequest* request,
                                  etcdserverpb::AlarmResponse* response) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* request,
                                   etcdserverpb::StatusResponse* response) override;
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* context,
                                       const etcdserverpb::DefragmentRequest* request,
                                       etcdserverpb::DefragmentResponse* response) override;
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* context,
                                 const etcdserverpb::HashRequest* request,
                                 etcdserverpb::HashResponse* response) override;
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* context,
                                   const etcdserverpb::HashKVRequest* request,
                                   etcdserverpb::HashKVResponse* response) override;
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MoveLeaderRequest* request,
                                       etcdserverpb::MoveLeaderResponse* response) override;
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* context, const etcdserverpb::SnapshotRequest* request) override;

 private:
  AdminApi& admin_;
};

}  // namespace lockstep::api
