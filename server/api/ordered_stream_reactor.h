#pragma once

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "core/base/assert.h"

namespace lockstep::api {

// A server-side bidirectional gRPC stream (Watch, LeaseKeepAlive) on gRPC's callback API that
// reads requests one at a time and lets any thread queue responses, which are written in
// queue order with one write in flight (gRPC allows no more). Responses produced after the
// stream has ended are dropped: the Outbox outlives the reactor, so a member answering late
// never touches freed memory.
//
// The stream ends when the client stops sending (half-close or cancel) and every queued
// response has been written, or at once when a write fails or fail() is called.
template <typename Request, typename Response>
class OrderedStreamReactor : public grpc::ServerBidiReactor<Request, Response> {
 public:
  class Outbox {
   public:
    void send(Response response) {
      std::lock_guard lock(mutex_);
      if (reactor_ != nullptr) reactor_->enqueue_locked(std::move(response));
    }
    void fail(grpc::Status status) {
      std::lock_guard lock(mutex_);
      if (reactor_ != nullptr) reactor_->finish_locked(std::move(status));
    }

   private:
    friend class OrderedStreamReactor;
    // Recursive: gRPC may run a reaction (OnWriteDone) inline from StartWrite.
    std::recursive_mutex mutex_;
    OrderedStreamReactor* reactor_ = nullptr;
  };

  OrderedStreamReactor() : outbox_(std::make_shared<Outbox>()) { outbox_->reactor_ = this; }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(outbox_->mutex_);
      reading_done_ = true;
      if (!writing_) finish_locked(grpc::Status::OK);
      return;
    }
    on_request(request_);
    std::lock_guard lock(outbox_->mutex_);
    if (!finished_ && !pending_finish_) this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(outbox_->mutex_);
    ASSERT(!queue_.empty(), "a write completed, so its response is at the queue's front");
    queue_.pop_front();
    writing_ = false;
    if (!ok) {
      finish_locked(grpc::Status::OK);  // the client is gone; nothing more can be sent
      return;
    }
    if (pending_finish_) {
      finish_locked(*pending_finish_);
      return;
    }
    start_next_write_locked();
    if (reading_done_ && !writing_) finish_locked(grpc::Status::OK);
  }

  void OnDone() override {
    {
      std::lock_guard lock(outbox_->mutex_);
      outbox_->reactor_ = nullptr;
    }
    on_done();
    delete this;
  }

 protected:
  // Handles one request read from the client (called on a gRPC thread, one at a time).
  virtual void on_request(const Request& request) = 0;
  // Releases what the stream holds (e.g. its watch session) before the reactor is deleted.
  virtual void on_done() {}

  void start_reading() { this->StartRead(&request_); }
  const std::shared_ptr<Outbox>& outbox() const { return outbox_; }

 private:
  void enqueue_locked(Response response) {
    if (finished_ || pending_finish_) return;
    queue_.push_back(std::move(response));
    start_next_write_locked();
  }

  void start_next_write_locked() {
    if (writing_ || queue_.empty() || finished_) return;
    writing_ = true;
    // std::deque keeps references to its elements valid across push_back.
    this->StartWrite(&queue_.front());
  }

  // gRPC forbids Finish with a write outstanding, so a finish requested mid-write waits for
  // OnWriteDone.
  void finish_locked(grpc::Status status) {
    if (finished_) return;
    if (writing_) {
      if (!pending_finish_) pending_finish_ = std::move(status);
      return;
    }
    finished_ = true;
    this->Finish(std::move(status));
  }

  std::shared_ptr<Outbox> outbox_;
  Request request_;
  std::deque<Response> queue_;
  bool writing_ = false;
  bool reading_done_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> pending_finish_;
};

}  // namespace lockstep::api
