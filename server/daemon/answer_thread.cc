#include "server/daemon/answer_thread.h"

#include <pthread.h>

#include <csignal>

#include "server/api/corked_answers.h"

namespace lockstep::daemon {

AnswerThread::AnswerThread() : thread_([this] { loop(); }) {}

AnswerThread::~AnswerThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

void AnswerThread::run(Batch batch) {
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(batch));
  }
  work_ready_.notify_one();
}

bool AnswerThread::idle() {
  std::lock_guard lock(mutex_);
  return queued_.empty() && !running_;
}

void AnswerThread::drain() {
  std::unique_lock lock(mutex_);
  became_idle_.wait(lock, [&] { return queued_.empty() && !running_; });
}

void AnswerThread::loop() {
  // Signals are the loop thread's (RealRuntime reads them from a signalfd); one delivered
  // here would take its default action and kill the process.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) return;  // stopping with nothing left
    Batch batch = std::move(queued_.front());
    queued_.pop_front();
    running_ = true;
    lock.unlock();
    {
      // The batch's answers to one client connection leave together (corked_answers.h).
      api::CorkedAnswers together;
      for (std::function<void()>& delivery : batch) delivery();
    }
    batch.clear();  // the closures' captures die here, off the lock
    lock.lock();
    running_ = false;
    if (queued_.empty()) became_idle_.notify_all();
  }
}

}  // namespace lockstep::daemon
