#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/async_unary_call.h>

#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "core/base/assert.h"
#include "server/api/call_queue.h"
#include "server/api/corked_answers.h"

namespace lockstep::api {

// gRPC's generated AsyncService method that asks for the next call of one unary method, e.g.
// etcdserverpb::KV::AsyncService::RequestPut.
template <typename Service, typename Request, typename Response>
using RequestUnaryCall = void (Service::*)(grpc::ServerContext*, Request*,
                                           grpc::ServerAsyncResponseWriter<Response>*,
                                           grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                           void*);

// One unary call on the asynchronous API (call_queue.h). Its handler gets it as a shared
// pointer and keeps it for as long as the answer is outstanding; finish() or fail() answers,
// once, from any thread.
template <typename Request, typename Response>
class UnaryCall final : public std::enable_shared_from_this<UnaryCall<Request, Response>> {
 public:
  explicit UnaryCall(std::shared_ptr<CallQueue::Gate> gate) : gate_(std::move(gate)) {}

  const Request& request() const { return request_; }
  grpc::ServerContext& context() { return context_; }

  void finish(Response response) { answer(std::move(response), grpc::Status::OK); }
  void fail(grpc::Status status) { answer(Response(), std::move(status)); }

  // For a call that waits (Lock, Campaign): `cancelled` runs, on the queue's thread, if the
  // client cancels the call (its deadline passes, it disconnects) before it is answered.
  // Only for calls served with watch_cancellation (serve_unary_calls); set it in the handler.
  void on_cancel(std::function<void()> cancelled) {
    std::lock_guard lock(mutex_);
    if (!answered_) cancelled_ = std::move(cancelled);
  }

 private:
  template <typename, typename, typename, typename, typename>
  friend class UnaryCallAcceptor;

  // Asks gRPC to report the call's end; must be done before the call is requested.
  void watch_cancellation() {
    done_ = std::make_unique<DoneNotice>(this);
    context_.AsyncNotifyWhenDone(done_.get());
  }

  // The call has arrived: with a done notice pending, the call keeps itself alive until gRPC
  // has delivered it (a call that never arrives never delivers it).
  void arrived() {
    if (done_) self_until_done_ = this->shared_from_this();
  }

  void answer(Response response, grpc::Status status) {
    if (CorkedAnswers::open_on_this_thread()) CorkedAnswers::before_answer(context_.peer());
    {
      std::lock_guard lock(mutex_);
      ASSERT(!answered_, "a unary call is answered once");
      answered_ = true;
      cancelled_ = nullptr;
    }
    response_ = std::move(response);
    // The finish operation keeps the call (its context and writer) until gRPC is done with it.
    gate_->start([self = this->shared_from_this()](bool) {},
                 [&](grpc::ServerCompletionQueue*, void* tag) {
                   if (status.ok()) {
                     responder_.Finish(response_, grpc::Status::OK, tag);
                   } else {
                     responder_.FinishWithError(status, tag);
                   }
                 });
  }

  // The done notice is delivered through the queue like an operation, but it lives in the
  // call: gRPC is told about it before the call exists, so it cannot own the call.
  class DoneNotice final : public CallQueue::Operation {
   public:
    explicit DoneNotice(UnaryCall* call) : call_(call) {}
    void done(bool) override {
      std::shared_ptr<UnaryCall> self = std::move(call_->self_until_done_);
      std::function<void()> cancelled;
      {
        std::lock_guard lock(call_->mutex_);
        cancelled = std::move(call_->cancelled_);  // whatever it holds is released either way
      }
      if (cancelled && call_->context_.IsCancelled()) cancelled();
    }

   private:
    UnaryCall* const call_;
  };

  const std::shared_ptr<CallQueue::Gate> gate_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_{&context_};
  std::unique_ptr<DoneNotice> done_;
  std::shared_ptr<UnaryCall> self_until_done_;
  std::mutex mutex_;
  bool answered_ = false;            // guarded by mutex_
  std::function<void()> cancelled_;  // guarded by mutex_
};

// Accepts the calls of one unary method for as long as the server runs: asks gRPC for the
// next call, and when one arrives, asks for the one after it and hands the call to the
// handler (on the queue's thread).
template <typename Service, typename Method, typename Request, typename Response, typename Handler>
class UnaryCallAcceptor final
    : public std::enable_shared_from_this<
          UnaryCallAcceptor<Service, Method, Request, Response, Handler>> {
 public:
  UnaryCallAcceptor(std::shared_ptr<CallQueue::Gate> gate, Service* service, Method method,
                    Handler handler, bool watch_cancellation)
      : gate_(std::move(gate)),
        service_(service),
        method_(method),
        handler_(std::move(handler)),
        watch_cancellation_(watch_cancellation) {}

  void accept_next() {
    auto call = std::make_shared<UnaryCall<Request, Response>>(gate_);
    if (watch_cancellation_) call->watch_cancellation();
    gate_->start(
        [self = this->shared_from_this(), call](bool ok) {
          if (!ok) return;  // the server is stopping
          self->accept_next();
          call->arrived();
          self->handler_(call);
        },
        [&](grpc::ServerCompletionQueue* queue, void* tag) {
          (service_->*method_)(&call->context_, &call->request_, &call->responder_, queue, queue,
                               tag);
        });
  }

 private:
  const std::shared_ptr<CallQueue::Gate> gate_;
  Service* const service_;
  const Method method_;
  Handler handler_;
  const bool watch_cancellation_;
};

// Serves one unary method of an AsyncService: `handler(std::shared_ptr<UnaryCall<Request,
// Response>>)` runs for every call. The service must outlive the call queue's stop().
template <typename Service, typename MethodOwner, typename Request, typename Response,
          typename Handler>
void serve_unary_calls(CallQueue& calls, Service& service,
                       RequestUnaryCall<MethodOwner, Request, Response> method, Handler handler,
                       bool watch_cancellation = false) {
  using Acceptor = UnaryCallAcceptor<MethodOwner, RequestUnaryCall<MethodOwner, Request, Response>,
                                     Request, Response, Handler>;
  auto acceptor = std::make_shared<Acceptor>(calls.gate(), static_cast<MethodOwner*>(&service),
                                             method, std::move(handler), watch_cancellation);
  acceptor->accept_next();
}

}  // namespace lockstep::api
