#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/base/error.h"
#include "server/api/client_api.h"

namespace lockstep::api {

// The end of the range of every key starting with `prefix` (etcd's clientv3 GetPrefixRangeEnd).
std::string prefix_range_end(const std::string& prefix);

// Waits, over ClientApi alone, until no key under `prefix` was created at or below
// `max_create_revision`, the way etcd's concurrency package queues lock holders and election
// candidates (concurrency/key.go waitDeletes): find the newest such key, watch it from the
// revision of that read until it is deleted, repeat. Every waiter watches only the key just
// ahead of it, so a release wakes one waiter, not all.
//
// `done` is called exactly once: ok when the prefix is clear, kCancelled after cancel(), or
// the error of a failed read. Thread-safe: cancel() may race with the member's answers.
class DeleteWaiter : public std::enable_shared_from_this<DeleteWaiter> {
 public:
  static std::shared_ptr<DeleteWaiter> start(ClientApi& api, std::string prefix,
                                             Revision max_create_revision,
                                             std::function<void(Status)> done);
  void cancel();

  DeleteWaiter(ClientApi& api, std::string prefix, Revision max_create_revision,
               std::function<void(Status)> done);

 private:
  void find_next();
  void watch(const std::string& key, Revision from);
  void on_watch(const mvcc::WatchResponse& response, const std::string& key);
  void finish(Status status);

  ClientApi& api_;
  const std::string prefix_;
  const Revision max_create_revision_;
  std::mutex mutex_;
  std::function<void(Status)> done_;       // guarded by mutex_; empty once finished
  std::unique_ptr<WatchSession> session_;  // guarded by mutex_
};

}  // namespace lockstep::api
