#include "server/api/maintenance_service.h"

#include <algorithm>
#include <memory>
#include <string>

#include "server/api/admin_calls.h"
#include "server/api/proto_convert.h"
#include "server/api/server_stream.h"

namespace lockstep::api {
namespace {

// Streams one snapshot image in kSnapshotChunkBytes blobs, each naming the bytes still to
// come after it (etcd's remaining_bytes). The image is asked for when the call arrives; the
// next blob is made only once the previous one is written, so a large image is not held
// twice over in queued messages.
class SnapshotStream final
    : public ServerStream<etcdserverpb::SnapshotRequest, etcdserverpb::SnapshotResponse> {
 public:
  SnapshotStream(std::shared_ptr<CallQueue::Gate> gate, AdminApi& admin)
      : ServerStream(std::move(gate)), admin_(admin) {}

 private:
  void started(const etcdserverpb::SnapshotRequest&) override {
    std::weak_ptr<ServerStream> weak = weak_from_this();
    admin_.snapshot([weak, this](Result<AdminApi::SnapshotImage> image) {
      std::shared_ptr<ServerStream> alive = weak.lock();
      if (alive == nullptr) return;
      if (!image.is_ok()) return finish(to_grpc_status(image.error()));
      header_ = to_proto(image->header);
      image_ = std::move(image->bytes);
      send_next();
    });
  }

  void on_drained() override { send_next(); }

  // Runs on one thread at a time: first from the image's answer, then after each write.
  void send_next() {
    if (sent_all_) return;
    const size_t length = std::min(kSnapshotChunkBytes, image_.size() - offset_);
    etcdserverpb::SnapshotResponse chunk;
    *chunk.mutable_header() = header_;
    chunk.set_blob(image_.substr(offset_, length));
    offset_ += length;
    chunk.set_remaining_bytes(image_.size() - offset_);
    // An empty image still sends one (empty) blob. Once the blob is queued, its write may
    // complete and call send_next() on the queue's thread: no member is touched after send().
    const bool last = offset_ >= image_.size();
    sent_all_ = last;
    send(std::move(chunk));
    if (last) finish(grpc::Status::OK);
  }

  AdminApi& admin_;
  etcdserverpb::ResponseHeader header_;
  std::string image_;
  size_t offset_ = 0;
  bool sent_all_ = false;
};

}  // namespace

void MaintenanceService::serve(CallQueue& calls) {
  using Service = etcdserverpb::Maintenance::AsyncService;
  serve_admin_calls(
      calls, service_, &Service::RequestAlarm,
      [this](const auto& request, auto done) { admin_.alarm(request, std::move(done)); });
  serve_admin_calls(calls, service_, &Service::RequestStatus,
                    [this](const auto&, auto done) { admin_.status(std::move(done)); });
  serve_admin_calls(calls, service_, &Service::RequestDefragment,
                    [this](const auto&, auto done) { admin_.defragment(std::move(done)); });
  serve_admin_calls(calls, service_, &Service::RequestHash,
                    [this](const auto&, auto done) { admin_.hash(std::move(done)); });
  serve_admin_calls(
      calls, service_, &Service::RequestHashKV,
      [this](const auto& request, auto done) { admin_.hash_kv(request, std::move(done)); });
  serve_admin_calls(
      calls, service_, &Service::RequestMoveLeader,
      [this](const auto& request, auto done) { admin_.move_leader(request, std::move(done)); });
  SnapshotStream::serve(calls, service_, &Service::RequestSnapshot,
                        [this](std::shared_ptr<CallQueue::Gate> gate) {
                          return std::make_shared<SnapshotStream>(std::move(gate), admin_);
                        });
}

}  // namespace lockstep::api
