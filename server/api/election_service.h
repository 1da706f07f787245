#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/call_queue.h"
#include "server/api/client_api.h"
#include "server/api/proto/v3election.grpc.pb.h"

namespace lockstep::api {

// etcd 3.4's v3electionpb.Election service, built like etcd's concurrency.Election:
// candidates queue as leased keys under "<name>/" (LeasedKeyQueue); the leader is the key
// created first. Proclaim and Resign hold only while the leader key is the one created at
// LeaderKey.rev. Errors the concurrency package raises keep its messages ("election: not
// leader", "election: no leader"), which etcd passes to the client unchanged.
class ElectionService final {
 public:
  explicit ElectionService(ClientApi& api) : api_(api) {}

  grpc::Service* grpc_service() { return &service_; }
  void serve(CallQueue& calls);

 private:
  ClientApi& api_;
  v3electionpb::Election::AsyncService service_;
};

}  // namespace lockstep::api
