#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/error.h"
#include "core/env/runtime.h"
#include "server/event_loop.h"

namespace lockstep::server {

// Runs fdatasync(2) on a helper thread so the event loop keeps serving sockets and other
// fibers while the disk flushes. The calling fiber parks until its flush is done; to the
// caller, sync() is as blocking as the direct system call, but the process is not.
//
// Why: an fdatasync costs from tens of microseconds (battery-backed cache) to tens of
// milliseconds (a consumer SSD without power-loss protection). The store group-commits, so
// one fsync covers a batch; while it runs, the loop should already be reading the next
// batch's requests from the network. This is the one place in server/ that starts a thread
// (DESIGN.md allows threads only outside the deterministic layers).
//
// Each request syncs a dup() of the caller's descriptor, so a fiber killed mid-sync (its
// File closed while unwinding) cannot make the helper flush a recycled descriptor number.
class SyncWorker : private IoHandler {
 public:
  SyncWorker(EventLoop& loop, env::Runtime& runtime);
  ~SyncWorker() override;  // finishes queued flushes, then joins the thread
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  // From a fiber: fdatasync(fd) on the helper thread. Errors as PosixDisk maps them.
  Status sync(int fd, const std::string& path);

  uint64_t completed_syncs() const { return completed_syncs_; }

 private:
  struct Request {
    int fd = -1;  // a dup owned by the request
    std::string path;
    env::FiberId fiber;
    bool done = false;
    int error_number = 0;
  };

  void on_io(uint32_t events) override;  // completions are ready
  void run_thread();

  EventLoop& loop_;
  env::Runtime& runtime_;
  int completion_fd_;  // eventfd: the helper's "something finished" to the loop

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::shared_ptr<Request>> pending_;    // guarded by mutex_
  std::deque<std::shared_ptr<Request>> completed_;  // guarded by mutex_
  bool stopping_ = false;                           // guarded by mutex_
  uint64_t completed_syncs_ = 0;                    // loop thread only
  std::thread thread_;
};

}  // namespace lockstep::server
