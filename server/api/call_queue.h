#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/server_builder.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

namespace lockstep::api {

// The client API's gRPC calls run on gRPC's asynchronous (completion-queue) API: every
// operation of every call (a call's arrival, a read, a write, the final status) is started
// with a tag, and one thread of ours takes the tags back from one completion queue and runs
// what each one is waiting for. All of one call's operations complete on the queue it was
// accepted on, so a call's own code never runs on two threads at once; a server may have
// several queues (ApiServer has kCallQueues), each accepting calls of every method. An answer
// from the member may be started from any thread (gRPC allows it), or posted to the queue's
// thread in batches (post()).
//
// Why not gRPC's callback API, which the services used before: in gRPC 1.51 a server with any
// callback service runs its calls on two process-wide "nexting" threads that hand every event
// over to an executor, so one put cost two thread hand-offs and about half of the daemon's
// CPU at 100 clients (docs/benchmarks/daemon.md). Polled by one thread of our own, a put takes
// no hand-off: the thread that reads it from the socket also converts it for the member.
class CallQueue {
 public:
  // What one started operation is waiting for; runs on the queue's thread when gRPC completes
  // the operation (ok is false when it failed: the call was cancelled, the server is stopping).
  class Operation {
   public:
    virtual ~Operation() = default;
    virtual void done(bool ok) = 0;
  };

  // The gate every operation is started through. gRPC forbids starting an operation on a
  // completion queue that is shutting down, yet the member may answer a call at any time, even
  // after the server stopped; calls therefore keep this gate (not the queue) and an answer that
  // arrives after stop() is dropped.
  class Gate {
   public:
    explicit Gate(grpc::ServerCompletionQueue* queue) : queue_(queue) {}

    // Starts one operation: `start(queue, tag)` hands `tag` to gRPC, and `on_done(ok)` runs on
    // the queue's thread when the operation completes. Returns false, and starts nothing,
    // once the queue is stopping.
    template <typename OnDone, typename Start>
    bool start(OnDone on_done, Start&& start) {
      std::shared_lock lock(mutex_);
      if (stopping_) return false;
      start(queue_, static_cast<void*>(new PendingOperation<OnDone>(std::move(on_done))));
      return true;
    }

   private:
    friend class CallQueue;

    template <typename OnDone>
    class PendingOperation final : public Operation {
     public:
      explicit PendingOperation(OnDone on_done) : on_done_(std::move(on_done)) {}
      void done(bool ok) override {
        on_done_(ok);
        delete this;
      }

     private:
      OnDone on_done_;
    };

    // Shared by operations being started (any number of threads at once), exclusive while the
    // queue begins to stop.
    std::shared_mutex mutex_;
    bool stopping_ = false;
    grpc::ServerCompletionQueue* const queue_;
  };

  // Adds the completion queue to a server being built; start() once it is built and started.
  explicit CallQueue(grpc::ServerBuilder& builder);
  ~CallQueue();
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  const std::shared_ptr<Gate>& gate() const { return gate_; }

  // Work handed to the queue's thread: the member's answers, which start gRPC operations.
  using Batch = std::vector<std::function<void()>>;

  // Runs `batch` on the queue's thread, after every batch posted before it, inside one
  // CorkedAnswers scope. Any thread. Once the queue is stopping, runs it on the calling
  // thread (its answers are dropped at the gate).
  //
  // Why answers belong on this thread: gRPC completes an operation on the thread that polls
  // the queue, so a Finish started on any other thread costs a wake-up of this one to hand
  // the completion back, per answer. A batch posted here costs one wake-up (a grpc::Alarm
  // that is already due), and the operations it starts complete on the thread already awake.
  void post(Batch batch);
  // True when every posted batch has run: a delivery made now on the calling thread cannot
  // overtake one of them.
  bool idle();
  // Waits until idle().
  void drain();

  // Starts the thread that runs completed operations.
  void start();
  // Call after grpc::Server::Shutdown: closes the gate, shuts the queue down, runs what is
  // still queued (each with ok = false) and joins the thread. Idempotent.
  void stop();

 private:
  void run();
  void run_posted();

  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::shared_ptr<Gate> gate_;
  std::thread thread_;
  bool stopped_ = false;

  std::mutex posted_mutex_;
  std::condition_variable posted_ran_;
  std::deque<Batch> posted_;      // guarded by posted_mutex_
  bool wake_up_pending_ = false;  // the alarm is set; guarded by posted_mutex_
  bool running_posted_ = false;   // guarded by posted_mutex_
  grpc::Alarm wake_up_;
};

}  // namespace lockstep::api
