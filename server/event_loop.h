#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "core/base/error.h"
#include "core/base/time.h"
#include "server/timer_heap.h"

namespace lockstep::server {

// Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, ...) of a watched descriptor.
class IoHandler {
 public:
  virtual void on_io(uint32_t events) = 0;

 protected:
  virtual ~IoHandler() = default;
};

// Called once per loop iteration, after the ready fibers ran and before the loop may block in
// epoll_wait. The network uses it to write everything fibers queued during the iteration with
// one gathering sendmsg per peer instead of one write per message.
class FlushHandler {
 public:
  virtual void on_flush() = 0;
  // True when the next on_flush() has something to do (queued output, deferred answers).
  virtual bool has_pending_flush() const = 0;

 protected:
  virtual ~FlushHandler() = default;
};

// The real clock under the daemon: CLOCK_MONOTONIC, which never jumps with NTP or an admin's
// `date`, so timeouts measure elapsed time.
Instant monotonic_now();

// A single-threaded epoll loop: level-triggered descriptors, a timer heap, and flush hooks.
// It runs no fibers itself; RealRuntime drives it between batches of ready fibers. Handlers
// run on the loop's own stack, never inside a fiber, so they must not park or sleep.
class EventLoop : private IoHandler {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` for `events` (EPOLLIN/EPOLLOUT; errors and hang-ups are always reported).
  Status watch(int fd, uint32_t events, IoHandler* handler);
  Status modify(int fd, uint32_t events, IoHandler* handler);
  // Stops watching `fd`. Events already collected for it in the current poll are still
  // delivered, so a handler that closes itself must stay alive until the poll returns
  // (TcpNetwork parks closed connections until its next flush).
  void unwatch(int fd);

  TimerId schedule(Instant deadline, TimerHandler* handler, uint64_t cookie);
  void cancel(TimerId timer) { timers_.cancel(timer); }

  void add_flush_handler(FlushHandler* handler);
  void remove_flush_handler(FlushHandler* handler);

  // Makes a blocked poll() return early. Safe to call from any thread (an eventfd write), so
  // a helper thread can hand results back to the loop.
  void interrupt();

  // Runs `task` on the loop's thread during the next poll(), after I/O handlers; tasks run in
  // the order posted. Safe to call from any thread: the bridge for threads the loop does not
  // own (gRPC's completion threads) into the single-threaded world of the process's fibers.
  // A task runs on the loop's stack, not in a fiber, so it may spawn or wake fibers but must
  // not park. Only the first post into an empty queue writes the eventfd, so a burst of posts
  // from a busy thread costs one wake-up.
  void post(std::function<void()> task);

  // True when the next poll() has work queued already: a posted task or a flush handler with
  // something to write. SyncWorker asks before it blocks the loop's thread in an fdatasync.
  bool has_pending_work();

  // One iteration: runs flush handlers, waits for I/O up to the next timer deadline (or not at
  // all when `may_block` is false), dispatches I/O handlers, then fires due timers.
  void poll(bool may_block);

  Instant now() const { return monotonic_now(); }
  size_t pending_timers() const { return timers_.size(); }
  // Polls that an interrupt() ended (or found pending).
  uint64_t interrupts_seen() const { return interrupts_seen_; }

 private:
  void on_io(uint32_t events) override;  // the interrupt eventfd became readable
  void run_posted_tasks();
  int wait_timeout_ms(bool may_block) const;

  int epoll_fd_;
  int interrupt_fd_;
  TimerHeap timers_;
  std::vector<FlushHandler*> flush_handlers_;
  uint64_t interrupts_seen_ = 0;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
};

}  // namespace lockstep::server
