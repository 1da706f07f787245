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

// gRPC's generated AsyncService method that asks for the next call of a server-streaming
// method, e.g. v3electionpb::Election::AsyncService::RequestObserve.
template <typename Service, typename Request, typename Response>
using RequestServerStream = void (Service::*)(grpc::ServerContext*, Request*,
                                              grpc::ServerAsyncWriter<Response>*,
                                              grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                              void*);

// A server-streaming call (Election.Observe, Maintenance.Snapshot) on the asynchronous API
// (call_queue.h): any thread queues responses, written in order with one write in flight;
// finish() ends the stream once every queued response is written. A client that goes away
// (cancel, disconnect, failed write) ends it at once. on_done() runs once when the stream
// has ended, without the stream's lock held.
template <typename Request, typename Response>
class ServerStream : public std::enable_shared_from_this<ServerStream<Request, Response>> {
 public:
  virtual ~ServerStream() = default;

  // Any thread. Responses sent after finish() or after the stream ended are dropped.
  void send(Response response) {
    with_lock_from_any_thread([&] {
      if (finishing_ || status_) return;
      queue_.push_back(std::move(response));
      start_next_write_locked();
    });
  }
  void finish(grpc::Status status) {
    with_lock_from_any_thread([&] {
      if (finishing_ || status_) return;
      status_ = std::move(status);
      if (!writing_) start_finish_locked();
    });
  }

  // Serves one server-streaming method: `make_stream(gate)` builds the subclass for each
  // call, whose started(request) runs once the call has arrived (on the queue's thread).
  template <typename Service, typename MethodOwner, typename MakeStream>
  static void serve(CallQueue& calls, Service& service,
                    RequestServerStream<MethodOwner, Request, Response> method,
                    MakeStream make_stream) {
    accept_next(calls.gate(), static_cast<MethodOwner*>(&service), method,
                std::make_shared<MakeStream>(std::move(make_stream)));
  }

 protected:
  explicit ServerStream(std::shared_ptr<CallQueue::Gate> gate) : gate_(std::move(gate)) {}

  virtual void started(const Request& request) = 0;
  // Every queued response has been written and the stream goes on: room for more.
  virtual void on_drained() {}
  virtual void on_done() {}

 private:
  template <typename MethodOwner, typename MakeStream>
  static void accept_next(std::shared_ptr<CallQueue::Gate> gate, MethodOwner* service,
                          RequestServerStream<MethodOwner, Request, Response> method,
                          std::shared_ptr<MakeStream> make_stream) {
    std::shared_ptr<ServerStream> stream = (*make_stream)(gate);
    // The done notice lives in the stream (gRPC must know of it before the call arrives) and
    // keeps the stream alive from the call's arrival until gRPC delivers it.
    stream->done_notice_ = std::make_unique<DoneNotice>(stream.get());
    stream->context_.AsyncNotifyWhenDone(stream->done_notice_.get());
    gate->start(
        [gate, service, method, make_stream, stream](bool ok) {
          if (!ok) return;  // the server is stopping
          accept_next(gate, service, method, make_stream);
          stream->self_until_done_ = stream;
          stream->started(stream->request_);
        },
        [&](grpc::ServerCompletionQueue* queue, void* tag) {
          (service->*method)(&stream->context_, &stream->request_, &stream->writer_, queue, queue,
                             tag);
        });
  }

  class DoneNotice final : public CallQueue::Operation {
   public:
    explicit DoneNotice(ServerStream* stream) : stream_(stream) {}
    void done(bool) override {
      std::shared_ptr<ServerStream> self = std::move(stream_->self_until_done_);
      // Finished or cancelled, the call is over: nothing more can be written.
      stream_->with_lock([&] { stream_->end_locked(); });
    }

   private:
    ServerStream* const stream_;
  };

  // From send() and finish(), on any thread: on_done() and on_drained() are left to the
  // queue's thread, where the done notice, a write or the finish still outstanding returns.
  template <typename Locked>
  void with_lock_from_any_thread(Locked locked) {
    std::lock_guard lock(mutex_);
    locked();
  }

  // On the queue's thread: runs `locked` under the stream's lock, then on_done() if the stream
  // has ended, or on_drained() if its queue has just emptied.
  template <typename Locked>
  void with_lock(Locked locked) {
    bool run_on_done = false;
    bool run_on_drained = false;
    {
      std::lock_guard lock(mutex_);
      locked();
      if (ended_ && !on_done_ran_) run_on_done = on_done_ran_ = true;
      run_on_drained = std::exchange(drained_, false) && !ended_;
    }
    if (run_on_done) on_done();
    if (run_on_drained) on_drained();
  }

  void start_next_write_locked() {
    if (writing_ || queue_.empty() || finishing_) return;
    writing_ = true;
    const bool started = gate_->start(
        [self = this->shared_from_this()](bool ok) {
          self->with_lock([&] { self->write_done_locked(ok); });
        },
        [&](grpc::ServerCompletionQueue*, void* tag) { writer_.Write(queue_.front(), tag); });
    if (!started) end_locked();
  }

  void write_done_locked(bool ok) {
    ASSERT(!queue_.empty(), "a write completed, so its response is at the queue's front");
    queue_.pop_front();
    writing_ = false;
    if (!ok) {
      end_locked();  // the client is gone
      return;
    }
    start_next_write_locked();
    if (writing_) return;
    if (status_) {
      start_finish_locked();
    } else {
      drained_ = true;
    }
  }

  void start_finish_locked() {
    finishing_ = true;
    const bool started = gate_->start(
        [self = this->shared_from_this()](bool) { self->with_lock([&] { self->end_locked(); }); },
        [&](grpc::ServerCompletionQueue*, void* tag) { writer_.Finish(*status_, tag); });
    if (!started) end_locked();
  }

  void end_locked() {
    finishing_ = true;
    ended_ = true;
  }

  const std::shared_ptr<CallQueue::Gate> gate_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncWriter<Response> writer_{&context_};
  std::unique_ptr<DoneNotice> done_notice_;
  std::shared_ptr<ServerStream> self_until_done_;
  std::mutex mutex_;
  std::deque<Response> queue_;
  std::optional<grpc::Status> status_;  // finish() asked for it
  bool writing_ = false;
  bool finishing_ = false;
  bool drained_ = false;
  bool ended_ = false;
  bool on_done_ran_ = false;
};

}  // namespace lockstep::api
