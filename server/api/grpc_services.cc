#include "server/api/grpc_services.h"

#include <string>
#include <utility>

#include "server/api/corked_answers.h"
#include "server/api/ordered_stream.h"
#include "server/api/proto_convert.h"
#include "server/api/unary_call.h"

namespace lockstep::api {
namespace {

// Converts an already-validated mvcc request: from_proto overloads return either the value
// or a Result; both shapes become a Result here.
template <typename T>
Result<T> as_result(Result<T> value) {
  return value;
}
template <typename T>
Result<T> as_result(T value) {
  return Result<T>(std::move(value));
}

// One unary call: wire request -> mvcc request -> member -> mvcc response -> wire response.
// `call(request, done)` is the ClientApi method; the call is answered from the completion.
template <typename Service, typename Owner, typename WireRequest, typename WireResponse,
          typename Call>
void serve_translated(CallQueue& calls, Service& service,
                      RequestUnaryCall<Owner, WireRequest, WireResponse> method, Call call) {
  serve_unary_calls(calls, service, method,
                    [call](std::shared_ptr<UnaryCall<WireRequest, WireResponse>> rpc) {
                      auto converted = as_result(from_proto(rpc->request()));
                      if (!converted.is_ok()) return rpc->fail(to_grpc_status(converted.error()));
                      call(std::move(converted).value(), [rpc](auto result) {
                        if (!result.is_ok()) return rpc->fail(to_grpc_status(result.error()));
                        rpc->finish(to_proto(*result));
                      });
                    });
}

class WatchStream final
    : public OrderedStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  WatchStream(std::shared_ptr<CallQueue::Gate> gate, ClientApi& api)
      : OrderedStream(std::move(gate)), api_(api) {}

 private:
  void started() override {
    // The session's sink holds the stream weakly: a stream that has ended is not kept alive
    // by a member answering late.
    std::weak_ptr<OrderedStream> weak = weak_from_this();
    session_ =
        api_.open_watch_session([weak, peer = context().peer()](mvcc::WatchResponse response) {
          std::shared_ptr<OrderedStream> stream = weak.lock();
          if (stream == nullptr) return;
          CorkedAnswers::before_answer(peer);
          stream->send(to_proto(response));
        });
  }

  void on_request(const etcdserverpb::WatchRequest& request) override {
    switch (request.request_union_case()) {
      case etcdserverpb::WatchRequest::kCreateRequest: {
        Result<mvcc::WatchCreateRequest> create = from_proto(request.create_request());
        if (!create.is_ok()) {
          // etcd refuses a watcher it cannot create with a response that is both created and
          // canceled, naming the reason, rather than by breaking the stream.
          etcdserverpb::WatchResponse refused;
          refused.set_watch_id(mvcc::kInvalidWatchId);
          refused.set_created(true);
          refused.set_canceled(true);
          refused.set_cancel_reason(std::string(create.error().message()));
          send(std::move(refused));
          return;
        }
        session_->create(std::move(create).value());
        return;
      }
      case etcdserverpb::WatchRequest::kCancelRequest:
        session_->cancel(from_proto(request.cancel_request()));
        return;
      case etcdserverpb::WatchRequest::kProgressRequest:
        session_->request_progress();
        return;
      case etcdserverpb::WatchRequest::REQUEST_UNION_NOT_SET:
        return;  // etcd ignores a request it does not recognise
    }
  }

  void on_done() override { session_.reset(); }

  ClientApi& api_;
  std::unique_ptr<WatchSession> session_;  // used on the queue's thread only
};

class LeaseKeepAliveStream final : public OrderedStream<etcdserverpb::LeaseKeepAliveRequest,
                                                        etcdserverpb::LeaseKeepAliveResponse> {
 public:
  LeaseKeepAliveStream(std::shared_ptr<CallQueue::Gate> gate, ClientApi& api)
      : OrderedStream(std::move(gate)), api_(api) {}

 private:
  void started() override { peer_ = context().peer(); }

  void on_request(const etcdserverpb::LeaseKeepAliveRequest& request) override {
    const LeaseId id(request.id());
    std::weak_ptr<OrderedStream> weak = weak_from_this();
    api_.lease_keep_alive(from_proto(request),
                          [weak, id, peer = peer_](Result<mvcc::LeaseKeepAliveResponse> result) {
                            std::shared_ptr<OrderedStream> stream = weak.lock();
                            if (stream == nullptr) return;
                            CorkedAnswers::before_answer(peer);
                            if (result.is_ok()) {
                              stream->send(to_proto(*result));
                            } else if (result.code() == ErrorCode::kLeaseNotFound) {
                              // etcd answers a keep-alive of an unknown lease with TTL 0 on the
                              // stream (the client then knows the lease is gone) instead of failing
                              // the stream.
                              etcdserverpb::LeaseKeepAliveResponse expired;
                              expired.set_id(id.value());
                              expired.set_ttl(0);
                              stream->send(std::move(expired));
                            } else {
                              stream->fail(to_grpc_status(result.error()));
                            }
                          });
  }

  ClientApi& api_;
  std::string peer_;  // the call's peer, for CorkedAnswers
};

}  // namespace

grpc::Status to_grpc_status(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(error.grpc_code()),
                      std::string(error.message()));
}

grpc::Status to_concurrency_status(const Error& error) {
  return grpc::Status(grpc::StatusCode::UNKNOWN, std::string(error.message()));
}

// ---- KV ----

void KvService::serve(CallQueue& calls) {
  using Service = etcdserverpb::KV::AsyncService;
  serve_translated(calls, service_, &Service::RequestRange, [this](auto request, auto done) {
    api_.range(std::move(request), std::move(done));
  });
  serve_translated(calls, service_, &Service::RequestPut, [this](auto request, auto done) {
    api_.put(std::move(request), std::move(done));
  });
  serve_translated(calls, service_, &Service::RequestDeleteRange, [this](auto request, auto done) {
    api_.delete_range(std::move(request), std::move(done));
  });
  serve_translated(calls, service_, &Service::RequestTxn, [this](auto request, auto done) {
    api_.txn(std::move(request), std::move(done));
  });
  serve_translated(calls, service_, &Service::RequestCompact, [this](auto request, auto done) {
    api_.compact(std::move(request), std::move(done));
  });
}

// ---- Lease ----

void LeaseService::serve(CallQueue& calls) {
  using Service = etcdserverpb::Lease::AsyncService;
  serve_translated(calls, service_, &Service::RequestLeaseGrant, [this](auto request, auto done) {
    api_.lease_grant(std::move(request), std::move(done));
  });
  serve_translated(calls, service_, &Service::RequestLeaseRevoke, [this](auto request, auto done) {
    api_.lease_revoke(std::move(request), std::move(done));
  });
  // etcd answers an unknown lease with TTL -1 rather than an error (v3rpc LeaseTimeToLive),
  // which etcdctl prints as "lease ... already expired".
  serve_translated(
      calls, service_, &Service::RequestLeaseTimeToLive, [this](auto request, auto done) {
        const LeaseId id = request.id;
        api_.lease_time_to_live(
            std::move(request),
            [id, done = std::move(done)](Result<mvcc::LeaseTimeToLiveResponse> result) {
              if (!result.is_ok() && result.code() == ErrorCode::kLeaseNotFound) {
                mvcc::LeaseTimeToLiveResponse expired;
                expired.id = id;
                expired.ttl_seconds = -1;
                return done(Result<mvcc::LeaseTimeToLiveResponse>(std::move(expired)));
              }
              done(std::move(result));
            });
      });
  serve_unary_calls(
      calls, service_, &Service::RequestLeaseLeases,
      [this](std::shared_ptr<
             UnaryCall<etcdserverpb::LeaseLeasesRequest, etcdserverpb::LeaseLeasesResponse>>
                 rpc) {
        api_.lease_leases(mvcc::LeaseLeasesRequest{},
                          [rpc](Result<mvcc::LeaseLeasesResponse> result) {
                            if (!result.is_ok()) return rpc->fail(to_grpc_status(result.error()));
                            rpc->finish(to_proto(*result));
                          });
      });
  LeaseKeepAliveStream::serve(calls, service_, &Service::RequestLeaseKeepAlive,
                              [this](std::shared_ptr<CallQueue::Gate> gate) {
                                return std::make_shared<LeaseKeepAliveStream>(std::move(gate),
                                                                              api_);
                              });
}

// ---- Watch ----

void WatchService::serve(CallQueue& calls) {
  WatchStream::serve(calls, service_, &etcdserverpb::Watch::AsyncService::RequestWatch,
                     [this](std::shared_ptr<CallQueue::Gate> gate) {
                       return std::make_shared<WatchStream>(std::move(gate), api_);
                     });
}

}  // namespace lockstep::api
