#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "core/base/assert.h"
#include "server/api/call_queue.h"

namespace lockstep::api {

// gRPC's generated AsyncService method that asks for the next call of a bidirectional
// streaming method, e.g. etcdserverpb::Watch::AsyncService::RequestWatch.
template <typename Service, typename Request, typename Response>
using RequestBidiStream = void (Service::*)(grpc::ServerContext*,
                                            grpc::ServerAsyncReaderWriter<Response, Request>*,
                                            grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                            void*);

// A server-side bidirectional stream (Watch, LeaseKeepAlive) on the asynchronous API
// (call_queue.h) that reads requests one at a time and lets any thread queue responses, which
// are written in queue order with one write in flight (gRPC allows no more). A response queued
// after the stream ended is dropped; subclasses hand the member a weak pointer, so a member
// answering late never keeps the stream alive.
//
// The stream ends when the client stops sending (half-close or cancel) and every queued
// response has been written, or at once when a write fails or fail() is called; on_done() then
// runs once, on the queue's thread (or at the server's stop).
template <typename Request, typename Response>
class OrderedStream : public std::enable_shared_from_this<OrderedStream<Request, Response>> {
 public:
  virtual ~OrderedStream() = default;

  // Any thread.
  void send(Response response) {
    with_lock_from_any_thread([&] {
      if (finishing_ || pending_finish_) return;
      queue_.push_back(std::move(response));
      start_next_write_locked();
    });
  }
  void fail(grpc::Status status) {
    with_lock_from_any_thread([&] { finish_locked(std::move(status)); });
  }

  grpc::ServerContext& context() { return context_; }

  // Serves one bidirectional method: `make_stream(gate)` builds the subclass for each call,
  // whose started() runs once the call has arrived (on the queue's thread).
  template <typename Service, typename MethodOwner, typename MakeStream>
  static void serve(CallQueue& calls, Service& service,
                    RequestBidiStream<MethodOwner, Request, Response> method,
                    MakeStream make_stream) {
    accept_next(calls.gate(), static_cast<MethodOwner*>(&service), method,
                std::make_shared<MakeStream>(std::move(make_stream)));
  }

 protected:
  explicit OrderedStream(std::shared_ptr<CallQueue::Gate> gate) : gate_(std::move(gate)) {}

  // The call has arrived; the first read starts after it returns.
  virtual void started() {}
  // Handles one request read from the client (on the queue's thread, one at a time).
  virtual void on_request(const Request& request) = 0;
  // Releases what the stream holds (e.g. its watch session). Runs without the stream's lock
  // held: a watch session's end waits for its sink, which may be waiting in send().
  virtual void on_done() {}

 private:
  template <typename MethodOwner, typename MakeStream>
  static void accept_next(std::shared_ptr<CallQueue::Gate> gate, MethodOwner* service,
                          RequestBidiStream<MethodOwner, Request, Response> method,
                          std::shared_ptr<MakeStream> make_stream) {
    std::shared_ptr<OrderedStream> stream = (*make_stream)(gate);
    gate->start(
        [gate, service, method, make_stream, stream](bool ok) {
          if (!ok) return;  // the server is stopping
          accept_next(gate, service, method, make_stream);
          stream->started();
          stream->with_lock([&] { stream->start_read_locked(); });
        },
        [&](grpc::ServerCompletionQueue* queue, void* tag) {
          (service->*method)(&stream->context_, &stream->stream_, queue, queue, tag);
        });
  }

  void start_read_locked() {
    if (finishing_ || pending_finish_) return;
    const bool started = gate_->start(
        [self = this->shared_from_this()](bool ok) { self->read_done(ok); },
        [&](grpc::ServerCompletionQueue*, void* tag) { stream_.Read(&request_, tag); });
    if (!started) end_locked();
  }

  // From send() and fail(), on any thread (the member's): on_done() is left to the queue's
  // thread. It cannot be missed: a stream that ends here (its operation refused because the
  // server is stopping) still has a read or a write outstanding, which the stopping queue
  // hands back. And the member's thread must not end a watch session from inside its sink.
  template <typename Locked>
  void with_lock_from_any_thread(Locked locked) {
    std::lock_guard lock(mutex_);
    locked();
  }

  // On the queue's thread: runs `locked` under the stream's lock, then on_done() if the
  // stream has ended.
  template <typename Locked>
  void with_lock(Locked locked) {
    bool run_on_done = false;
    {
      std::lock_guard lock(mutex_);
      locked();
      if (ended_ && !on_done_ran_) run_on_done = on_done_ran_ = true;
    }
    if (run_on_done) on_done();
  }

  void read_done(bool ok) {
    if (!ok) {
      with_lock([&] {
        reading_done_ = true;
        if (!writing_) finish_locked(grpc::Status::OK);
      });
      return;
    }
    on_request(request_);
    with_lock([&] { start_read_locked(); });
  }

  void start_next_write_locked() {
    if (writing_ || queue_.empty() || finishing_) return;
    writing_ = true;
    // std::deque keeps references to its elements valid across push_back.
    const bool started = gate_->start(
        [self = this->shared_from_this()](bool ok) { self->write_done(ok); },
        [&](grpc::ServerCompletionQueue*, void* tag) { stream_.Write(queue_.front(), tag); });
    if (!started) end_locked();
  }

  void write_done(bool ok) {
    with_lock([&] { write_done_locked(ok); });
  }

  void write_done_locked(bool ok) {
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

  // gRPC allows one write in flight, and no status while a write is, so a finish asked for
  // mid-write waits for the write to complete.
  void finish_locked(grpc::Status status) {
    if (finishing_) return;
    if (writing_) {
      if (!pending_finish_) pending_finish_ = std::move(status);
      return;
    }
    finishing_ = true;
    const bool started = gate_->start(
        [self = this->shared_from_this()](bool) { self->with_lock([&] { self->end_locked(); }); },
        [&](grpc::ServerCompletionQueue*, void* tag) { stream_.Finish(status, tag); });
    if (!started) end_locked();
  }

  // The stream is over (finished, or the server stopped): with_lock then runs on_done().
  void end_locked() {
    finishing_ = true;
    ended_ = true;
  }

  const std::shared_ptr<CallQueue::Gate> gate_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<Response, Request> stream_{&context_};
  std::mutex mutex_;
  Request request_;
  std::deque<Response> queue_;
  bool writing_ = false;
  bool reading_done_ = false;
  bool finishing_ = false;
  bool ended_ = false;
  bool on_done_ran_ = false;
  std::optional<grpc::Status> pending_finish_;
};

}  // namespace lockstep::api
