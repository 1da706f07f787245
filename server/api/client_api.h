#pragma once

#include <functional>
#include <memory>

#include "core/base/error.h"
#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"
#include "core/mvcc/watch_requests.h"

namespace lockstep::api {

// What a member offers its clients, in core/mvcc's types: the seam between the wire (gRPC
// services and the JSON gateway in this folder) and the member (core/node, run by the real
// runtime). The member implements it; this folder only translates.
//
// Every call is asynchronous: the member answers through `done`, exactly once, from whatever
// thread or fiber it likes, possibly before the call returns. A write is answered after it is
// committed and applied (etcd answers a Put once applied on the member that proposed it); a
// linearizable range after its ReadIndex is applied (Raft thesis §6.4), a serializable one
// from local state. Expected failures are Errors from core/base/error.h, which the gRPC layer
// turns into etcd's codes and messages (e.g. kCompacted -> OUT_OF_RANGE "etcdserver: mvcc:
// required revision has been compacted").
template <typename Response>
using Completion = std::function<void(Result<Response>)>;

// Receives every WatchResponse of one Watch stream, in order (created/canceled confirmations,
// events, progress notifications). May be called from any thread, but never concurrently.
using WatchSink = std::function<void(mvcc::WatchResponse)>;

// One client Watch stream: many watchers, told apart by watch id (etcd's watch stream).
// Destroying the session cancels all its watchers; after that the sink is never called again.
class WatchSession {
 public:
  virtual ~WatchSession() = default;
  virtual void create(mvcc::WatchCreateRequest request) = 0;
  virtual void cancel(mvcc::WatchCancelRequest request) = 0;
  // etcd 3.4's WatchProgressRequest: a progress notification for every watcher of the
  // stream, each with its own watch id, once that watcher has caught up (clientv3 hands each
  // watcher a stream-wide -1 notification the same way).
  virtual void request_progress() = 0;
};

class ClientApi {
 public:
  virtual ~ClientApi() = default;

  virtual void range(mvcc::RangeRequest request, Completion<mvcc::RangeResponse> done) = 0;
  virtual void put(mvcc::PutRequest request, Completion<mvcc::PutResponse> done) = 0;
  virtual void delete_range(mvcc::DeleteRangeRequest request,
                            Completion<mvcc::DeleteRangeResponse> done) = 0;
  virtual void txn(mvcc::TxnRequest request, Completion<mvcc::TxnResponse> done) = 0;
  virtual void compact(mvcc::CompactionRequest request,
                       Completion<mvcc::CompactionResponse> done) = 0;

  virtual void lease_grant(mvcc::LeaseGrantRequest request,
                           Completion<mvcc::LeaseGrantResponse> done) = 0;
  virtual void lease_revoke(mvcc::LeaseRevokeRequest request,
                            Completion<mvcc::LeaseRevokeResponse> done) = 0;
  virtual void lease_keep_alive(mvcc::LeaseKeepAliveRequest request,
                                Completion<mvcc::LeaseKeepAliveResponse> done) = 0;
  virtual void lease_time_to_live(mvcc::LeaseTimeToLiveRequest request,
                                  Completion<mvcc::LeaseTimeToLiveResponse> done) = 0;
  virtual void lease_leases(mvcc::LeaseLeasesRequest request,
                            Completion<mvcc::LeaseLeasesResponse> done) = 0;

  virtual std::unique_ptr<WatchSession> open_watch_session(WatchSink sink) = 0;
};

}  // namespace lockstep::api
