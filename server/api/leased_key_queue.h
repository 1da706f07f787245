#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/base/error.h"
#include "server/api/client_api.h"
#include "server/api/wait_deletes.h"

namespace lockstep::api {

// A place in the queue of a lock or an election, built like etcd's concurrency package
// (Mutex.Lock, Election.Campaign) from KV, leases and watches only:
//   1. one txn: if `key` (= prefix + the lease id in hex) does not exist, put it with the
//      lease (its create revision is our place in the queue), else read it (we already
//      queued under this lease); both branches read the queue's first key;
//   2. we hold it when the first key is ours; otherwise wait until every key created before
//      ours is deleted (DeleteWaiter).
// On a failed or cancelled wait the key is deleted again, as etcd's server does, so an
// abandoned request leaves no place in the queue behind.
struct QueuedKey {
  mvcc::ResponseHeader header;
  std::string key;
  Revision create_revision;
  LeaseId lease;  // the caller's, or the session lease granted for a caller that gave none
};

// etcd's concurrency.Session TTL: a Lock or Campaign without a lease holds its key under a
// fresh lease of this many seconds (etcd's lock and election servers open such a session).
inline constexpr int64_t kDefaultSessionTtlSeconds = 60;

class LeasedKeyQueue : public std::enable_shared_from_this<LeasedKeyQueue> {
 public:
  struct Options {
    std::string prefix;  // the lock or election name followed by "/"
    LeaseId lease;
    std::string value;
    // An election re-campaigning under the same lease with a new value proclaims it first.
    bool proclaim_existing = false;
  };

  static std::shared_ptr<LeasedKeyQueue> start(ClientApi& api, Options options,
                                               std::function<void(Result<QueuedKey>)> done);
  // Ends a wait with kCancelled (the gRPC call was cancelled). Any thread.
  void cancel();

  LeasedKeyQueue(ClientApi& api, Options options, std::function<void(Result<QueuedKey>)> done);

 private:
  void grant_session();
  void enqueue();
  void on_enqueued(const mvcc::TxnResponse& txn);
  void wait_turn();
  void finish(Result<QueuedKey> result);

  ClientApi& api_;
  Options options_;  // lease set once by grant_session(), before enqueue()
  QueuedKey mine_;
  std::mutex mutex_;
  bool cancelled_ = false;                       // guarded by mutex_
  std::shared_ptr<DeleteWaiter> waiter_;         // guarded by mutex_
  std::function<void(Result<QueuedKey>)> done_;  // called once, by finish()
};

// "%x" of a lease id, as etcd's concurrency package names keys (fmt.Sprintf("%s%x", ...)).
std::string lease_key(const std::string& prefix, LeaseId lease);

// A compare-and-put of an election's value that holds only while `key` is still the one
// created at `create_revision` (etcd's Election.Proclaim). kNotLeader-like failure is
// reported as succeeded = false in the response.
void proclaim(ClientApi& api, const std::string& key, Revision create_revision, LeaseId lease,
              std::string value, Completion<mvcc::TxnResponse> done);

}  // namespace lockstep::api
