#pragma once

#include <grpcpp/grpcpp.h>

#include "core/base/error.h"
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

// The KV, Lease and Watch services of etcd's v3 API on gRPC's callback API, translating each
// call to the ClientApi (in core/mvcc types) and its answer back. No thread blocks waiting for
// the member: a call's reactor is finished from the member's completion.
class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  explicit KvService(ClientApi& api) : api_(api) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* context,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* context,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* context,
                                const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* context,
                                    const etcdserverpb::CompactionRequest* request,
                                    etcdserverpb::CompactionResponse* response) override;

 private:
  ClientApi& api_;
};

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  explicit LeaseService(ClientApi& api) : api_(api) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* context,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override;
  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* LeaseTimeToLive(
      grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
      etcdserverpb::LeaseTimeToLiveResponse* response) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseLeasesRequest* request,
                                        etcdserverpb::LeaseLeasesResponse* response) override;

 private:
  ClientApi& api_;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(ClientApi& api) : api_(api) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;

 private:
  ClientApi& api_;
};

}  // namespace lockstep::api
