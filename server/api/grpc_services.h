#pragma once

#include <grpcpp/grpcpp.h>

#include "core/base/error.h"
#include "server/api/call_queue.h"
#include "server/api/client_api.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {

// etcd's gRPC status for an expected failure: etcd's code and exact message (the Error's
// detail is for logs, never for the client, so clientv3's error matching keeps working).
grpc::Status to_grpc_status(const Error& error);

// The same failure as etcd's Lock and Election services report it: they reach the KV through
// an in-process client (etcd's v3client) and return its error as a plain Go error, so the
// caller sees gRPC UNKNOWN with etcd's message (e.g. Lock on a lease that does not exist:
// UNKNOWN "etcdserver: requested lease not found", where a Put gets NOT_FOUND).
grpc::Status to_concurrency_status(const Error& error);

// The KV, Lease and Watch services of etcd's v3 API on gRPC's asynchronous API (call_queue.h),
// translating each call to the ClientApi (in core/mvcc types) and its answer back. No thread
// blocks waiting for the member: a call is answered from the member's completion.
//
// Each service is registered with a grpc::ServerBuilder (grpc_service()) and, once the server
// has started, accepts calls on a CallQueue (serve()); it must outlive the queue's stop().
class KvService final {
 public:
  explicit KvService(ClientApi& api) : api_(api) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  ClientApi& api_;
  etcdserverpb::KV::AsyncService service_;
};

class LeaseService final {
 public:
  explicit LeaseService(ClientApi& api) : api_(api) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  ClientApi& api_;
  etcdserverpb::Lease::AsyncService service_;
};

class WatchService final {
 public:
  explicit WatchService(ClientApi& api) : api_(api) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  ClientApi& api_;
  etcdserverpb::Watch::AsyncService service_;
};

}  // namespace lockstep::api
