#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>

#include "server/api/grpc_services.h"
#include "server/api/leased_key_queue.h"

namespace lockstep::api {

// One unary gRPC call that waits in a LeasedKeyQueue (Lock, Campaign): finished from the
// queue's answer, and a cancelled call (client deadline, disconnect) cancels the wait.
class QueuedKeyCall final : public grpc::ServerUnaryReactor {
 public:
  using Fill = std::function<void(const QueuedKey&)>;

  QueuedKeyCall(ClientApi& api, LeasedKeyQueue::Options options, Fill fill)
      : shared_(std::make_shared<Shared>()) {
    // Nothing of `this` is touched after start(): its answer may finish the call, and gRPC
    // may delete it, before start() returns.
    std::shared_ptr<Shared> shared = shared_;
    std::shared_ptr<LeasedKeyQueue> queue = LeasedKeyQueue::start(
        api, std::move(options), [this, fill = std::move(fill)](Result<QueuedKey> result) {
          if (!result.is_ok()) return Finish(to_concurrency_status(result.error()));
          fill(*result);
          Finish(grpc::Status::OK);
        });
    std::lock_guard lock(shared->mutex);
    shared->queue = std::move(queue);
  }

  void OnCancel() override {
    std::shared_ptr<LeasedKeyQueue> queue;
    {
      std::lock_guard lock(shared_->mutex);
      queue = shared_->queue;
    }
    if (queue) queue->cancel();
  }
  void OnDone() override { delete this; }

 private:
  struct Shared {
    std::mutex mutex;
    std::shared_ptr<LeasedKeyQueue> queue;
  };
  std::shared_ptr<Shared> shared_;
};

}  // namespace lockstep::api
