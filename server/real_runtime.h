#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/base/random.h"
#include "core/env/fiber.h"
#include "core/env/runtime.h"
#include "server/event_loop.h"
#include "server/sync_worker.h"

namespace lockstep::server {

struct RealRuntimeOptions {
  NodeId self;
  // The seed of random(). Unset: drawn from getrandom(2) at startup (this is the daemon, not a
  // simulation) and written to the trace, so a run's random choices can still be replayed.
  std::optional<uint64_t> seed;
  // Where trace() lines go; nullptr discards them.
  std::FILE* trace_sink = stderr;
};

// env::Runtime for the daemon: every fiber of the process runs on one thread over an epoll
// EventLoop. A loop iteration runs the fibers that were ready when it began (FIFO), then
// polls: flush hooks write queued network frames, epoll_wait sleeps until I/O or the next
// timer, I/O handlers wake parked fibers, due timers end sleeps and park deadlines.
//
// Because fibers never run concurrently, process code needs no locks — the same property the
// simulated runtime has, which is what lets one node implementation run under both.
//
// Blocking system calls made by a fiber block the whole loop for their duration. PosixDisk's
// pread/pwrite hit the page cache and are short; its fdatasync, the slow one, runs on the
// SyncWorker's helper thread when the disk was opened with sync_worker(), parking only the
// calling fiber while the loop keeps serving sockets and other fibers (or on the loop's own
// thread when no other fiber, posted task or queued output would use the time: sync_worker.h).
//
// Stopping: request_stop() (or SIGTERM/SIGINT after stop_on_signals()) makes run() return
// after killing every fiber with env::FiberKilled, so their stacks unwind and destructors
// (open files, sockets) run.
class RealRuntime : public env::Runtime, private TimerHandler, private IoHandler {
 public:
  explicit RealRuntime(RealRuntimeOptions options);
  ~RealRuntime() override;
  RealRuntime(const RealRuntime&) = delete;
  RealRuntime& operator=(const RealRuntime&) = delete;

  // The network and disk the process sees; set before run(). The runtime owns them and
  // destroys them after its fibers, so fibers may use them while unwinding.
  void set_network(std::unique_ptr<env::Network> network);
  void set_disk(std::unique_ptr<env::Disk> disk);
  EventLoop& loop() { return loop_; }
  // The helper thread that runs fdatasync off the loop (created on first use); pass it to
  // PosixDisk::open_root so File::sync() parks only the calling fiber.
  SyncWorker& sync_worker();

  // Runs fibers until request_stop() or until no fiber is left; then kills the rest.
  void run();
  // Makes run() return at its next iteration. Callable from a fiber or an I/O handler.
  void request_stop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  // SIGTERM and SIGINT become request_stop() through a signalfd (the signals are blocked for
  // the thread, so they no longer kill the process outright).
  Status stop_on_signals();

  // How often each probe name was hit, for a daemon's diagnostics.
  const std::map<std::string, uint64_t, std::less<>>& probe_counts() const { return probes_; }
  size_t live_fibers() const { return fibers_.size(); }

  // env::Runtime
  NodeId self() const override { return self_; }
  Instant now() const override { return loop_.now(); }
  env::FiberId spawn(std::string name, std::function<void()> body) override;
  void sleep_for(Duration duration) override;
  void sleep_until(Instant deadline) override;
  void yield() override;
  bool park(std::optional<Instant> deadline) override;
  void wake(env::FiberId fiber) override;
  env::FiberId current_fiber() const override;
  env::Network& network() override;
  env::Disk& disk() override;
  Random& random() override { return random_; }
  bool buggify(std::source_location) override { return false; }
  void probe(std::source_location site, std::string_view name) override;
  void trace(std::string_view kind, std::string_view detail) override;

 private:
  enum class FiberState { kReady, kRunning, kParked, kSleeping };
  struct FiberRecord {
    FiberRecord(std::string name, std::function<void()> body)
        : fiber(std::move(name), std::move(body)) {}
    env::Fiber fiber;
    FiberState state = FiberState::kReady;
    TimerId timer;
    bool woken = false;  // park() ended by wake() rather than by its deadline
  };

  void on_timer(uint64_t fiber_id) override;
  void on_io(uint32_t events) override;  // the signalfd
  FiberRecord& running_record() const;
  // Suspends the running fiber in `state` until a wake, a timer or a kill.
  void block_running(FiberState state, std::optional<Instant> deadline);
  void make_ready(env::FiberId id, FiberRecord& record);
  void run_ready_fibers();
  void kill_all_fibers();

  NodeId self_;
  Random random_;
  std::FILE* trace_sink_;
  // Declared before fibers_ and the network so it is destroyed after them: both unwatch
  // descriptors and cancel timers in their destructors.
  EventLoop loop_;
  std::unique_ptr<SyncWorker> sync_worker_;  // outlives the disk whose files use it
  std::unique_ptr<env::Disk> disk_;
  std::unique_ptr<env::Network> network_;
  // Ordered by id so that stop kills fibers in spawn order, the same way every time.
  std::map<env::FiberId, std::unique_ptr<FiberRecord>> fibers_;
  std::deque<env::FiberId> ready_;
  env::FiberId running_;
  env::FiberId next_fiber_id_{1};
  bool stop_requested_ = false;
  int signal_fd_ = -1;
  std::map<std::string, uint64_t, std::less<>> probes_;
};

// A seed from the kernel's entropy pool (getrandom(2)).
uint64_t real_seed();

}  // namespace lockstep::server
