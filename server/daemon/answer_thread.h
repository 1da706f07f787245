#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lockstep::daemon {

// One helper thread that runs batches of deliveries (gRPC answers) in the order handed over.
//
// Why: at 100 clients, gRPC's Finish (serialising the answer, the socket write, waking a
// completion thread) is about half of the event loop thread's CPU (perf, docs/benchmarks/
// daemon.md). On a machine where every runnable thread gets a slice of a core, doing it on a
// second thread lets the loop take the next Ready meanwhile. Small batches stay on the loop
// (MemberClientApi decides): handing one answer over would add a thread wake-up to a single
// client's round trip. A batch runs inside an api::CorkedAnswers scope, so that the answers
// of one batch to one client connection leave in one TCP segment where they fit.
class AnswerThread {
 public:
  using Batch = std::vector<std::function<void()>>;

  AnswerThread();
  ~AnswerThread();  // runs what is queued, then joins
  AnswerThread(const AnswerThread&) = delete;
  AnswerThread& operator=(const AnswerThread&) = delete;

  // Queues `batch` behind the earlier ones. Any thread.
  void run(Batch batch);
  // True when every batch handed over has finished: a delivery made now on the calling thread
  // cannot overtake one of them.
  bool idle();
  // Waits until idle().
  void drain();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable became_idle_;
  std::deque<Batch> queued_;  // guarded by mutex_
  bool running_ = false;      // a batch is being run; guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  std::thread thread_;
};

}  // namespace lockstep::daemon
