#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
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
//
// When the process has nothing else to do meanwhile (no other ready fiber, no posted task, no
// queued output: `other_work_pending` says so), sync() calls fdatasync on the loop's own
// thread instead. Handing the flush over costs two thread wake-ups (a futex to the helper, an
// eventfd back), and on a loaded machine a woken thread may wait a scheduler slice (1-4 ms)
// for a CPU: `perf sched timehist` of a 1-client put showed half of the helper's wake-ups
// delayed by more than 1 ms, far more than the flush itself (~0.15 ms on a preallocated WAL).
// A single client's request is exactly the case with nothing to overlap, so it pays neither.
class SyncWorker : private IoHandler {
 public:
  SyncWorker(
      EventLoop& loop, env::Runtime& runtime,
      std::function<bool()> other_work_pending = [] { return true; });
  ~SyncWorker() override;  // finishes queued flushes, then joins the thread
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  // From a fiber: fdatasync(fd) on the helper thread. Errors as PosixDisk maps them.
  Status sync(int fd, const std::string& path);

  // Flushes done by the helper thread, and by the loop's thread because nothing else waited.
  uint64_t completed_syncs() const { return completed_syncs_; }
  uint64_t inline_syncs() const { return inline_syncs_; }

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
  std::function<bool()> other_work_pending_;
  int completion_fd_;  // eventfd: the helper's "something finished" to the loop

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::shared_ptr<Request>> pending_;    // guarded by mutex_
  std::deque<std::shared_ptr<Request>> completed_;  // guarded by mutex_
  bool stopping_ = false;                           // guarded by mutex_
  uint64_t completed_syncs_ = 0;                    // loop thread only
  uint64_t inline_syncs_ = 0;                       // loop thread only
  std::thread thread_;
};

}  // namespace lockstep::server
