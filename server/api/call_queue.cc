#include "server/api/call_queue.h"

#include <mutex>

#include "server/api/corked_answers.h"

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

void CallQueue::post(Batch batch) {
  std::unique_lock lock(posted_mutex_);
  posted_.push_back(std::move(batch));
  if (wake_up_pending_ || running_posted_) return;  // it will be run with the others
  wake_up_pending_ = true;
  const bool set = gate_->start([this](bool) { run_posted(); },
                                [&](grpc::ServerCompletionQueue* queue, void* tag) {
                                  wake_up_.Set(queue, gpr_time_0(GPR_CLOCK_MONOTONIC), tag);
                                });
  if (set) return;
  // Stopping: nothing more runs on the queue's thread, so this thread runs what is posted.
  lock.unlock();
  run_posted();
}

void CallQueue::run_posted() {
  std::unique_lock lock(posted_mutex_);
  wake_up_pending_ = false;
  if (running_posted_) return;  // the thread running batches will take these too
  running_posted_ = true;
  while (!posted_.empty()) {
    Batch batch = std::move(posted_.front());
    posted_.pop_front();
    lock.unlock();
    {
      CorkedAnswers corked;
      for (std::function<void()>& delivery : batch) delivery();
    }
    batch.clear();  // what the deliveries held is released outside the lock
    lock.lock();
  }
  running_posted_ = false;
  posted_ran_.notify_all();
}

bool CallQueue::idle() {
  std::lock_guard lock(posted_mutex_);
  return posted_.empty() && !running_posted_ && !wake_up_pending_;
}

void CallQueue::drain() {
  std::unique_lock lock(posted_mutex_);
  posted_ran_.wait(lock, [this] { return posted_.empty() && !running_posted_; });
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
