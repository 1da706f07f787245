#include "server/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "core/base/assert.h"

namespace lockstep::server {
namespace {

// Events collected per epoll_wait. More ready descriptors than this are simply reported by
// the next wait (level-triggered), so it bounds the stack array, not the number of peers.
constexpr int kMaxEventsPerPoll = 256;
// epoll_wait's timeout is in milliseconds; a deadline 1.2 ms away waits 2 ms rather than 1,
// so the loop does not spin waking up just before its timer is due.
constexpr int64_t kNanosecondsPerMillisecond = 1'000'000;
// Longest single wait, so an int never overflows for far deadlines.
constexpr int64_t kMaxWaitMilliseconds = 60'000;

}  // namespace

Instant monotonic_now() {
  timespec now{};
  const int got = ::clock_gettime(CLOCK_MONOTONIC, &now);
  ASSERT(got == 0, "CLOCK_MONOTONIC is always available on Linux");
  return Instant(Duration(int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec));
}

EventLoop::EventLoop() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT(epoll_fd_ >= 0, "epoll_create1 failed: out of descriptors at startup");
  interrupt_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT(interrupt_fd_ >= 0, "eventfd failed: out of descriptors at startup");
  const Status watched = watch(interrupt_fd_, EPOLLIN, this);
  ASSERT(watched.is_ok(), "watching a fresh eventfd cannot fail");
}

EventLoop::~EventLoop() {
  ::close(interrupt_fd_);
  ::close(epoll_fd_);
}

Status EventLoop::watch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return Status(ErrorCode::kIoError, std::string("epoll_ctl add: ") + std::strerror(errno));
  }
  return Status::ok();
}

Status EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) {
    return Status(ErrorCode::kIoError, std::string("epoll_ctl mod: ") + std::strerror(errno));
  }
  return Status::ok();
}

void EventLoop::unwatch(int fd) {
  // Failure means the descriptor was not watched (or already closed): nothing to undo.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

TimerId EventLoop::schedule(Instant deadline, TimerHandler* handler, uint64_t cookie) {
  return timers_.schedule(deadline, handler, cookie);
}

void EventLoop::add_flush_handler(FlushHandler* handler) {
  flush_handlers_.push_back(handler);
}

void EventLoop::remove_flush_handler(FlushHandler* handler) {
  std::erase(flush_handlers_, handler);
}

void EventLoop::interrupt() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already nonzero: the loop will wake anyway.
  [[maybe_unused]] const ssize_t written = ::write(interrupt_fd_, &one, sizeof(one));
}

void EventLoop::post(std::function<void()> task) {
  bool was_empty;
  {
    std::lock_guard lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(task));
  }
  // A non-empty queue has a wake-up in flight already, or the loop is about to drain it: the
  // drain happens after the eventfd is read in the same poll.
  if (was_empty) interrupt();
}

bool EventLoop::has_pending_work() {
  for (const FlushHandler* handler : flush_handlers_) {
    if (handler->has_pending_flush()) return true;
  }
  std::lock_guard lock(posted_mutex_);
  return !posted_.empty();
}

void EventLoop::run_posted_tasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    if (posted_.empty()) return;
    tasks.swap(posted_);
  }
  for (std::function<void()>& task : tasks) task();
}

void EventLoop::on_io(uint32_t) {
  uint64_t count = 0;
  if (::read(interrupt_fd_, &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count))) {
    ++interrupts_seen_;
  }
}

int EventLoop::wait_timeout_ms(bool may_block) const {
  if (!may_block) return 0;
  const std::optional<Instant> next = timers_.next_deadline();
  if (!next) return static_cast<int>(kMaxWaitMilliseconds);
  const int64_t remaining_ns = (*next - now()).count();
  if (remaining_ns <= 0) return 0;
  const int64_t rounded_up_ms =
      (remaining_ns + kNanosecondsPerMillisecond - 1) / kNanosecondsPerMillisecond;
  return static_cast<int>(std::min(rounded_up_ms, kMaxWaitMilliseconds));
}

void EventLoop::poll(bool may_block) {
  // By index: a flush handler may add or remove handlers (a network shutting down).
  for (size_t i = 0; i < flush_handlers_.size(); ++i) flush_handlers_[i]->on_flush();

  std::array<epoll_event, kMaxEventsPerPoll> events;
  const int ready =
      ::epoll_wait(epoll_fd_, events.data(), kMaxEventsPerPoll, wait_timeout_ms(may_block));
  ASSERT(ready >= 0 || errno == EINTR, "epoll_wait fails only on EINTR with a valid epoll fd");
  for (int i = 0; i < ready; ++i) {
    static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
  }
  run_posted_tasks();

  // Fire the timers due at one reading of the clock: a handler that schedules a new timer
  // for now() or later (a retry) sees it fire in a later poll, after I/O had its turn.
  const Instant fire_up_to = now();
  while (std::optional<DueTimer> due = timers_.pop_due(fire_up_to)) {
    due->handler->on_timer(due->cookie);
  }
}

}  // namespace lockstep::server
