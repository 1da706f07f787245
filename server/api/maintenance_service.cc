#include "server/api/maintenance_service.h"

#include <algorithm>
#include <string>

#include "server/api/admin_reactor.h"
#include "server/api/proto_convert.h"

namespace lockstep::api {
namespace {

// Streams one snapshot image in kSnapshotChunkBytes blobs, each naming the bytes still to
// come after it (etcd's remaining_bytes), one write in flight at a time. The image is asked
// for when the call starts; the reactor finishes only from the AdminApi's answer or after
// the last blob, so OnDone (which deletes it) never runs while the answer is outstanding.
class SnapshotWriter final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  explicit SnapshotWriter(AdminApi& admin) {
    admin.snapshot([this](Result<AdminApi::SnapshotImage> image) {
      if (!image.is_ok()) {
        Finish(to_grpc_status(image.error()));
        return;
      }
      header_ = to_proto(image->header);
      image_ = std::move(image->bytes);
      write_next();
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "snapshot stream closed by the client"));
      return;
    }
    write_next();
  }

  void OnDone() override { delete this; }

 private:
  void write_next() {
    if (offset_ >= image_.size() && offset_ > 0) {
      Finish(grpc::Status::OK);
      return;
    }
    const size_t length = std::min(kSnapshotChunkBytes, image_.size() - offset_);
    chunk_.Clear();
    *chunk_.mutable_header() = header_;
    chunk_.set_blob(image_.substr(offset_, length));
    offset_ += length;
    chunk_.set_remaining_bytes(image_.size() - offset_);
    // An empty image still sends one (empty) blob, then finishes.
    if (image_.empty()) offset_ = 1;
    StartWrite(&chunk_);
  }

  etcdserverpb::ResponseHeader header_;
  std::string image_;
  size_t offset_ = 0;
  etcdserverpb::SnapshotResponse chunk_;
};

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::AlarmRequest* request,
                                                    etcdserverpb::AlarmResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.alarm(*request, finish_into(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::StatusRequest*,
                                                     etcdserverpb::StatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.status(finish_into(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(
    grpc::CallbackServerContext* context, const etcdserverpb::DefragmentRequest*,
    etcdserverpb::DefragmentResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.defragment(finish_into(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Hash(grpc::CallbackServerContext* context,
                                                   const etcdserverpb::HashRequest*,
                                                   etcdserverpb::HashResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.hash(finish_into(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::HashKVRequest* request,
                                                     etcdserverpb::HashKVResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.hash_kv(*request, finish_into(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(
    grpc::CallbackServerContext* context, const etcdserverpb::MoveLeaderRequest* request,
    etcdserverpb::MoveLeaderResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  admin_.move_leader(*request, finish_into(reactor, response));
  return reactor;
}

grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* MaintenanceService::Snapshot(
    grpc::CallbackServerContext*, const etcdserverpb::SnapshotRequest*) {
  return new SnapshotWriter(admin_);
}

}  // namespace lockstep::api
