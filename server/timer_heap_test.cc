#include "server/timer_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "core/base/random.h"

namespace lockstep::server {
namespace {

using std::chrono::milliseconds;

struct Recorder : TimerHandler {
  void on_timer(uint64_t cookie) override { fired.push_back(cookie); }
  std::vector<uint64_t> fired;
};

Instant at_ms(int64_t ms) {
  return Instant(milliseconds(ms));
}

std::vector<uint64_t> pop_all_due(TimerHeap& heap, Instant now) {
  std::vector<uint64_t> cookies;
  while (auto due = heap.pop_due(now)) cookies.push_back(due->cookie);
  return cookies;
}

TEST(TimerHeap, FiresInDeadlineOrderAndTiesInSchedulingOrder) {
  Recorder recorder;
  TimerHeap heap;
  heap.schedule(at_ms(30), &recorder, 3);
  heap.schedule(at_ms(10), &recorder, 1);
  heap.schedule(at_ms(20), &recorder, 20);
  heap.schedule(at_ms(20), &recorder, 21);
  heap.schedule(at_ms(20), &recorder, 22);
  EXPECT_EQ(heap.next_deadline(), at_ms(10));
  EXPECT_EQ(pop_all_due(heap, at_ms(5)), std::vector<uint64_t>{});
  EXPECT_EQ(pop_all_due(heap, at_ms(20)), (std::vector<uint64_t>{1, 20, 21, 22}));
  EXPECT_EQ(pop_all_due(heap, at_ms(100)), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(heap.empty());
  EXPECT_FALSE(heap.next_deadline().has_value());
}

TEST(TimerHeap, CancelRemovesOnlyThatTimerAndStaleHandlesAreHarmless) {
  Recorder recorder;
  TimerHeap heap;
  const TimerId first = heap.schedule(at_ms(1), &recorder, 1);
  heap.schedule(at_ms(2), &recorder, 2);
  heap.cancel(first);
  heap.cancel(first);      // already cancelled
  heap.cancel(TimerId{});  // the default handle names no timer
  // The slot of `first` is reused by the next timer; the stale handle must not cancel it.
  heap.schedule(at_ms(3), &recorder, 3);
  heap.cancel(first);
  EXPECT_EQ(pop_all_due(heap, at_ms(10)), (std::vector<uint64_t>{2, 3}));
}

TEST(TimerHeap, MatchesASortedModelUnderRandomScheduleAndCancel) {
  // Property: whatever the interleaving, the heap pops exactly the surviving timers in
  // (deadline, scheduling order).
  Random random(7);
  for (int round = 0; round < 50; ++round) {
    Recorder recorder;
    TimerHeap heap;
    std::map<std::pair<int64_t, uint64_t>, TimerId> model;  // (deadline, cookie) -> id
    uint64_t cookie = 0;
    for (int step = 0; step < 200; ++step) {
      if (model.empty() || random.chance(0.7)) {
        const int64_t deadline = random.between(0, 50);
        model[{deadline, cookie}] = heap.schedule(at_ms(deadline), &recorder, cookie);
        ++cookie;
      } else {
        auto victim = model.begin();
        std::advance(victim, random.below(model.size()));
        heap.cancel(victim->second);
        model.erase(victim);
      }
    }
    ASSERT_EQ(heap.size(), model.size());
    std::vector<uint64_t> expected;
    for (const auto& [key, id] : model) expected.push_back(key.second);
    EXPECT_EQ(pop_all_due(heap, at_ms(50)), expected) << "round " << round;
  }
}

}  // namespace
}  // namespace lockstep::server
