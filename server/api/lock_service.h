#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/call_queue.h"
#include "server/api/client_api.h"
#include "server/api/proto/v3lock.grpc.pb.h"

namespace lockstep::api {

// etcd 3.4's v3lockpb.Lock service: a mutex named by a prefix, held by the caller's lease
// (LeasedKeyQueue: the key prefix/lease-id, held once every older key under the prefix is
// gone). Lock blocks until held; cancelling the call gives up the place in the queue.
class LockService final {
 public:
  explicit LockService(ClientApi& api) : api_(api) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  ClientApi& api_;
  v3lockpb::Lock::AsyncService service_;
};

}  // namespace lockstep::api
