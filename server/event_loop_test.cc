#include "server/event_loop.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace lockstep::server {
namespace {

using std::chrono::milliseconds;

struct PipeReader : IoHandler {
  explicit PipeReader(int fd) : fd(fd) {}
  void on_io(uint32_t events) override {
    char buffer[64];
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got > 0) received.append(buffer, static_cast<size_t>(got));
    if (got == 0 || (events & EPOLLHUP)) hung_up = true;
  }
  int fd;
  std::string received;
  bool hung_up = false;
};

struct Log : TimerHandler, FlushHandler {
  void on_timer(uint64_t cookie) override { entries.push_back("timer " + std::to_string(cookie)); }
  void on_flush() override {
    entries.push_back("flush");
    pending = false;
  }
  bool has_pending_flush() const override { return pending; }
  std::vector<std::string> entries;
  bool pending = false;
};

class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe(fds_), 0); }
  ~Pipe() {
    close_write_end();
    ::close(fds_[0]);
  }
  int read_end() const { return fds_[0]; }
  void write(const std::string& bytes) {
    EXPECT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void close_write_end() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2];
};

TEST(EventLoop, DispatchesReadableDescriptorsAndHangUps) {
  EventLoop loop;
  Pipe pipe;
  PipeReader reader(pipe.read_end());
  ASSERT_TRUE(loop.watch(pipe.read_end(), EPOLLIN, &reader).is_ok());
  pipe.write("hello");
  loop.poll(/*may_block=*/true);
  EXPECT_EQ(reader.received, "hello");
  pipe.close_write_end();
  loop.poll(/*may_block=*/true);
  EXPECT_TRUE(reader.hung_up);
  loop.unwatch(pipe.read_end());
}

TEST(EventLoop, WatchingAClosedDescriptorIsAnError) {
  EventLoop loop;
  PipeReader reader(-1);
  const Status watched = loop.watch(-1, EPOLLIN, &reader);
  EXPECT_EQ(watched.code(), ErrorCode::kIoError);
}

TEST(EventLoop, FlushRunsBeforeWaitingAndTimersFireInOrderOnlyWhenDue) {
  EventLoop loop;
  Log log;
  loop.add_flush_handler(&log);
  const Instant now = loop.now();
  loop.schedule(now + milliseconds(2), &log, 2);
  loop.schedule(now + milliseconds(1), &log, 1);
  const TimerId cancelled = loop.schedule(now + milliseconds(1), &log, 99);
  loop.schedule(now + std::chrono::hours(1), &log, 3);
  loop.cancel(cancelled);
  while (loop.pending_timers() > 1) loop.poll(/*may_block=*/true);
  // Every poll flushes first; the far timer never fires.
  ASSERT_GE(log.entries.size(), 3u);
  EXPECT_EQ(log.entries.front(), "flush");
  std::vector<std::string> timers;
  for (const std::string& entry : log.entries) {
    if (entry != "flush") timers.push_back(entry);
  }
  EXPECT_EQ(timers, (std::vector<std::string>{"timer 1", "timer 2"}));
  EXPECT_GE(loop.now() - now, milliseconds(2)) << "a timer never fires before its deadline";
  loop.remove_flush_handler(&log);
}

TEST(EventLoop, InterruptFromAnotherThreadEndsABlockingPoll) {
  EventLoop loop;
  Log log;
  // Without the interrupt this poll would sleep until the hour-long timer.
  loop.schedule(loop.now() + std::chrono::hours(1), &log, 1);
  std::thread interrupter([&] {
    std::this_thread::sleep_for(milliseconds(10));
    loop.interrupt();
  });
  loop.poll(/*may_block=*/true);
  interrupter.join();
  EXPECT_EQ(loop.interrupts_seen(), 1u) << "the poll ended because of the interrupt";
  EXPECT_TRUE(log.entries.empty()) << "the hour-long timer did not fire";
}

TEST(EventLoop, TasksPostedFromOtherThreadsRunOnTheLoopThreadInOrder) {
  EventLoop loop;
  constexpr int kTasksPerThread = 1000;
  std::vector<int> ran;  // touched only on the loop thread
  std::vector<std::thread::id> ran_on;
  std::vector<std::thread> posters;
  for (int thread = 0; thread < 2; ++thread) {
    posters.emplace_back([&, thread] {
      for (int i = 0; i < kTasksPerThread; ++i) {
        loop.post([&, thread, i] {
          ran.push_back(thread * kTasksPerThread + i);
          ran_on.push_back(std::this_thread::get_id());
        });
      }
    });
  }
  while (ran.size() < 2 * kTasksPerThread) loop.poll(/*may_block=*/true);
  for (std::thread& poster : posters) poster.join();
  for (const std::thread::id& id : ran_on) EXPECT_EQ(id, std::this_thread::get_id());
  // Each thread's tasks keep their posting order.
  for (int thread = 0; thread < 2; ++thread) {
    int previous = -1;
    for (int task : ran) {
      if (task / kTasksPerThread != thread) continue;
      EXPECT_GT(task, previous);
      previous = task;
    }
  }
}

TEST(EventLoop, PendingWorkIsAPostedTaskOrAFlushHandlerWithOutput) {
  EventLoop loop;
  Log log;
  loop.add_flush_handler(&log);
  EXPECT_FALSE(loop.has_pending_work());
  log.pending = true;
  EXPECT_TRUE(loop.has_pending_work()) << "a flush handler has output queued";
  loop.poll(/*may_block=*/false);
  EXPECT_FALSE(loop.has_pending_work()) << "the poll flushed it";
  bool ran = false;
  loop.post([&] { ran = true; });
  EXPECT_TRUE(loop.has_pending_work()) << "a posted task waits for the next poll";
  loop.poll(/*may_block=*/false);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(loop.has_pending_work());
  loop.remove_flush_handler(&log);
}

}  // namespace
}  // namespace lockstep::server
