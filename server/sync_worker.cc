#include "server/sync_worker.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "core/base/assert.h"
#include "server/posix_disk.h"

namespace lockstep::server {

SyncWorker::SyncWorker(EventLoop& loop, env::Runtime& runtime,
                       std::function<bool()> other_work_pending)
    : loop_(loop), runtime_(runtime), other_work_pending_(std::move(other_work_pending)) {
  completion_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT(completion_fd_ >= 0, "eventfd failed: out of descriptors at startup");
  const Status watched = loop_.watch(completion_fd_, EPOLLIN, this);
  ASSERT(watched.is_ok(), "watching a fresh eventfd cannot fail");
  thread_ = std::thread([this] { run_thread(); });
}

SyncWorker::~SyncWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
  loop_.unwatch(completion_fd_);
  ::close(completion_fd_);
}

Status SyncWorker::sync(int fd, const std::string& path) {
  if (!other_work_pending_()) {
    int result;
    do {
      result = ::fdatasync(fd);
    } while (result != 0 && errno == EINTR);
    if (result != 0) return disk_error_from_errno(errno, "fdatasync", path);
    ++inline_syncs_;
    return Status::ok();
  }
  auto request = std::make_shared<Request>();
  request->fd = ::dup(fd);
  if (request->fd < 0) return disk_error_from_errno(errno, "dup for fdatasync", path);
  request->path = path;
  request->fiber = runtime_.current_fiber();
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(request);
  }
  work_ready_.notify_one();
  // Only our completion handler wakes us; the loop guards against any other wake anyway.
  while (!request->done) runtime_.park(std::nullopt);
  if (request->error_number != 0) {
    return disk_error_from_errno(request->error_number, "fdatasync", path);
  }
  return Status::ok();
}

void SyncWorker::run_thread() {
  // Signals are the loop thread's business (RealRuntime::stop_on_signals reads them from a
  // signalfd); a SIGTERM delivered here would take its default action and kill the process.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  for (;;) {
    std::shared_ptr<Request> request;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping with nothing left to flush
      request = std::move(pending_.front());
      pending_.pop_front();
    }
    int result;
    do {
      result = ::fdatasync(request->fd);
    } while (result != 0 && errno == EINTR);
    // Written only here until the request is queued as completed; the loop reads it after
    // taking it from completed_ under the mutex, which orders the two.
    request->error_number = result == 0 ? 0 : errno;
    ::close(request->fd);
    request->fd = -1;
    {
      std::lock_guard lock(mutex_);
      completed_.push_back(std::move(request));
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(completion_fd_, &one, sizeof(one));
  }
}

void SyncWorker::on_io(uint32_t) {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t got = ::read(completion_fd_, &count, sizeof(count));
  std::deque<std::shared_ptr<Request>> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(completed_);
  }
  for (const std::shared_ptr<Request>& request : finished) {
    request->done = true;
    ++completed_syncs_;
    // A no-op when the fiber was killed meanwhile; the shared_ptr kept the request alive.
    runtime_.wake(request->fiber);
  }
}

}  // namespace lockstep::server
