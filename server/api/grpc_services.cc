#include "server/api/grpc_services.h"

#include <string>
#include <utility>

#include "server/api/corked_answers.h"
#include "server/api/ordered_stream_reactor.h"
#include "server/api/proto_convert.h"

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

// Lets a batch of answers being written on this thread share TCP segments (corked_answers.h).
void before_answer(const grpc::CallbackServerContext& context) {
  if (CorkedAnswers::open_on_this_thread()) CorkedAnswers::before_answer(context.peer());
}

// One unary call: wire request -> mvcc request -> member -> mvcc response -> wire response.
// `call` is the ClientApi method; the reactor is finished from the member's completion.
template <typename WireRequest, typename WireResponse, typename Call>
grpc::ServerUnaryReactor* serve_unary(grpc::CallbackServerContext* context,
                                      const WireRequest& request, WireResponse* response,
                                      Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto converted = as_result(from_proto(request));
  if (!converted.is_ok()) {
    reactor->Finish(to_grpc_status(converted.error()));
    return reactor;
  }
  call(std::move(converted).value(), [context, reactor, response](auto result) {
    before_answer(*context);
    if (!result.is_ok()) {
      reactor->Finish(to_grpc_status(result.error()));
      return;
    }
    *response = to_proto(*result);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

class WatchStreamReactor final
    : public OrderedStreamReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  WatchStreamReactor(ClientApi& api, std::string peer) {
    session_ = api.open_watch_session(
        [outbox = outbox(), peer = std::move(peer)](mvcc::WatchResponse response) {
          CorkedAnswers::before_answer(peer);
          outbox->send(to_proto(response));
        });
    start_reading();
  }

 private:
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
          outbox()->send(std::move(refused));
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

  std::unique_ptr<WatchSession> session_;
};

class LeaseKeepAliveReactor final
    : public OrderedStreamReactor<etcdserverpb::LeaseKeepAliveRequest,
                                  etcdserverpb::LeaseKeepAliveResponse> {
 public:
  LeaseKeepAliveReactor(ClientApi& api, std::string peer) : api_(api), peer_(std::move(peer)) {
    start_reading();
  }

 private:
  void on_request(const etcdserverpb::LeaseKeepAliveRequest& request) override {
    const LeaseId id(request.id());
    api_.lease_keep_alive(from_proto(request), [outbox = outbox(), id, peer = peer_](
                                                   Result<mvcc::LeaseKeepAliveResponse> result) {
      CorkedAnswers::before_answer(peer);
      if (result.is_ok()) {
        outbox->send(to_proto(*result));
      } else if (result.code() == ErrorCode::kLeaseNotFound) {
        // etcd answers a keep-alive of an unknown lease with TTL 0 on the stream (the client
        // then knows the lease is gone) instead of failing the stream.
        etcdserverpb::LeaseKeepAliveResponse expired;
        expired.set_id(id.value());
        expired.set_ttl(0);
        outbox->send(std::move(expired));
      } else {
        outbox->fail(to_grpc_status(result.error()));
      }
    });
  }

  ClientApi& api_;
  const std::string peer_;  // the call's peer, for CorkedAnswers
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

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* context,
                                           const etcdserverpb::RangeRequest* request,
                                           etcdserverpb::RangeResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.range(std::move(converted), std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context,
                                         const etcdserverpb::PutRequest* request,
                                         etcdserverpb::PutResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.put(std::move(converted), std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* context,
                                                 const etcdserverpb::DeleteRangeRequest* request,
                                                 etcdserverpb::DeleteRangeResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.delete_range(std::move(converted), std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* context,
                                         const etcdserverpb::TxnRequest* request,
                                         etcdserverpb::TxnResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.txn(std::move(converted), std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* context,
                                             const etcdserverpb::CompactionRequest* request,
                                             etcdserverpb::CompactionResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.compact(std::move(converted), std::move(done));
  });
}

// ---- Lease ----

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* context,
                                                   const etcdserverpb::LeaseGrantRequest* request,
                                                   etcdserverpb::LeaseGrantResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.lease_grant(std::move(converted), std::move(done));
  });
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::LeaseRevokeRequest* request,
                                                    etcdserverpb::LeaseRevokeResponse* response) {
  return serve_unary(context, *request, response, [this](auto converted, auto done) {
    api_.lease_revoke(std::move(converted), std::move(done));
  });
}

grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* context) {
  return new LeaseKeepAliveReactor(api_, context->peer());  // deletes itself in OnDone
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(
    grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
    etcdserverpb::LeaseTimeToLiveResponse* response) {
  // etcd answers an unknown lease with TTL -1 rather than an error (v3rpc LeaseTimeToLive),
  // which etcdctl prints as "lease ... already expired".
  const int64_t id = request->id();
  return serve_unary(context, *request, response, [this, id](auto converted, auto done) {
    api_.lease_time_to_live(
        std::move(converted),
        [id, done = std::move(done)](Result<mvcc::LeaseTimeToLiveResponse> result) {
          if (!result.is_ok() && result.code() == ErrorCode::kLeaseNotFound) {
            mvcc::LeaseTimeToLiveResponse expired;
            expired.id = LeaseId(id);
            expired.ttl_seconds = -1;
            return done(Result<mvcc::LeaseTimeToLiveResponse>(std::move(expired)));
          }
          done(std::move(result));
        });
  });
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::LeaseLeasesRequest*,
                                                    etcdserverpb::LeaseLeasesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  api_.lease_leases(mvcc::LeaseLeasesRequest{},
                    [reactor, response](Result<mvcc::LeaseLeasesResponse> result) {
                      if (!result.is_ok()) {
                        reactor->Finish(to_grpc_status(result.error()));
                        return;
                      }
                      *response = to_proto(*result);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

// ---- Watch ----

grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>*
WatchService::Watch(grpc::CallbackServerContext* context) {
  return new WatchStreamReactor(api_, context->peer());  // deletes itself in OnDone
}

}  // namespace lockstep::api
