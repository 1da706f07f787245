#include "server/api/call_queue.h"

#include <mutex>

namespace lockstep::api {

CallQueue::CallQueue(grpc::ServerBuilder& builder)
    : queue_(builder.AddCompletionQueue()), gate_(std::make_shared<Gate>(queue_.get())) {}

CallQueue::~CallQueue() {
  stop();
}

void CallQueue::start() {
  thread_ = std::thread([this] { run(); });
}

void CallQueue::run() {
  void* tag = nullptr;
  bool ok = false;
  while (queue_->Next(&tag, &ok)) static_cast<Operation*>(tag)->done(ok);
}

void CallQueue::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::unique_lock lock(gate_->mutex_);
    gate_->stopping_ = true;
  }
  queue_->Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started: drain what is queued so every pending operation is freed
  }
}

}  // namespace lockstep::api
