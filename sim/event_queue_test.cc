#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/base/random.h"

namespace lockstep::sim {
namespace {

ScheduledEvent event_at(int64_t time_ns, uint64_t sequence) {
  ScheduledEvent event;
  event.time = Instant(Duration(time_ns));
  event.sequence = sequence;
  event.token = sequence;  // lets the test see which event came out
  return event;
}

bool earlier(const ScheduledEvent& left, const ScheduledEvent& right) {
  if (left.time != right.time) return left.time < right.time;
  return left.sequence < right.sequence;
}

TEST(EventQueue, PopsByTimeThenSequence) {
  EventQueue queue;
  queue.push(event_at(30, 0));
  queue.push(event_at(10, 1));
  queue.push(event_at(10, 2));
  queue.push(event_at(20, 3));
  queue.push(event_at(10, 4));
  std::vector<uint64_t> order;
  while (!queue.empty()) order.push_back(queue.pop().token);
  EXPECT_EQ(order, (std::vector<uint64_t>{1, 2, 4, 3, 0}));
}

// The world's determinism rests on this: whatever mix of pushes and pops, every pop returns
// the smallest (time, sequence) still queued, exactly as a sorted list would.
TEST(EventQueue, MatchesASortedListUnderRandomPushesAndPops) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Random random(seed);
    EventQueue queue;
    std::vector<ScheduledEvent> reference;
    uint64_t sequence = 0;
    int64_t now = 0;
    for (int step = 0; step < 5000; ++step) {
      const bool push = reference.empty() || random.below(100) < 55;
      if (push) {
        // Few distinct times, so ties on time (decided by sequence) are common.
        const ScheduledEvent event = event_at(now + random.between(0, 50), sequence++);
        queue.push(event);
        reference.push_back(event);
        continue;
      }
      const auto smallest = std::ranges::min_element(reference, earlier);
      ASSERT_FALSE(queue.empty());
      EXPECT_EQ(queue.top().token, smallest->token) << "seed " << seed << " step " << step;
      const ScheduledEvent popped = queue.pop();
      EXPECT_EQ(popped.token, smallest->token) << "seed " << seed << " step " << step;
      now = popped.time.nanoseconds();
      reference.erase(smallest);
      EXPECT_EQ(queue.size(), reference.size());
    }
  }
}

}  // namespace
}  // namespace lockstep::sim
