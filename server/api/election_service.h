#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/client_api.h"
#include "server/api/proto/v3election.grpc.pb.h"

namespace lockstep::api {

// etcd 3.4's v3electionpb.Election service, built like etcd's concurrency.Election:
// candidates queue as leased keys under "<name>/" (LeasedKeyQueue); the leader is the key
// created first. Proclaim and Resign hold only while the leader key is the one created at
// LeaderKey.rev. Errors the concurrency package raises keep its messages ("election: not
// leader", "election: no leader"), which etcd passes to the client unchanged.
class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  explicit ElectionService(ClientApi& api) : api_(api) {}

  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* context,
                                     const v3electionpb::CampaignRequest* request,
                                     v3electionpb::CampaignResponse* response) override;
  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* context,
                                     const v3electionpb::ProclaimRequest* request,
                                     v3electionpb::ProclaimResponse* response) override;
  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* context,
                                   const v3electionpb::LeaderRequest* request,
                                   v3electionpb::LeaderResponse* response) override;
  grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) override;
  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* context,
                                   const v3electionpb::ResignRequest* request,
                                   v3electionpb::ResignResponse* response) override;

 private:
  ClientApi& api_;
};

}  // namespace lockstep::api
