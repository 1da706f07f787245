// WatchStream sorts a watcher's incoming stream messages. The case that motivated it (a soak
// counterexample, docs/benchmarks/cluster.md): a watcher's cancel of a broken watch was lost,
// so the member kept streaming that watch's progress notifications every 10 ms; the watch
// created next was gone after its first message (a compaction cancel, lost too). The
// stray's steady stream counted as life, the watcher never noticed its watch was gone, and
// it stopped seeing events for the rest of the run.
#include "sim/cluster/watch_stream.h"

#include <gtest/gtest.h>

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;

constexpr Duration kIdle = milliseconds(500);
const NodeId kMember{1};
const NodeId kOtherMember{2};

Instant at_ms(int64_t ms) {
  return Instant(milliseconds(ms));
}

node::WatchStreamMessage message(NodeId member, mvcc::WatchId id, uint64_t sequence,
                                 bool canceled = false) {
  node::WatchStreamMessage out;
  out.response.header.member_id = member;
  out.response.watch_id = id;
  out.response.canceled = canceled;
  out.sequence = sequence;
  return out;
}

TEST(WatchStreamTest, OnlyTheCurrentWatchKeepsItAlive) {
  WatchStream stream(kIdle);
  stream.start(kMember, 5, at_ms(1000));
  EXPECT_EQ(stream.silent_at(), at_ms(1500));
  // The stray watch 4 on the same member streams progress notifications every 10 ms.
  for (int64_t t = 1010; t < 1500; t += 10) {
    EXPECT_EQ(stream.classify(message(kMember, 4, static_cast<uint64_t>(t)), at_ms(t)),
              WatchStream::Kind::kStray);
  }
  EXPECT_FALSE(stream.silent(at_ms(1499)));
  EXPECT_TRUE(stream.silent(at_ms(1500))) << "strays must not hide that watch 5 went silent";
}

TEST(WatchStreamTest, TheCurrentWatchIsHeardInSequence) {
  WatchStream stream(kIdle);
  stream.start(kMember, 5, at_ms(1000));
  EXPECT_EQ(stream.classify(message(kMember, 5, 1), at_ms(1200)), WatchStream::Kind::kCurrent);
  EXPECT_EQ(stream.silent_at(), at_ms(1700));
  EXPECT_EQ(stream.classify(message(kMember, 5, 2), at_ms(1300)), WatchStream::Kind::kCurrent);
  // Sequence 3 was lost.
  EXPECT_EQ(stream.classify(message(kMember, 5, 4), at_ms(1400)), WatchStream::Kind::kBroken);
  // Watch ids are per member: watch 5 of another member is a stray.
  EXPECT_EQ(stream.classify(message(kOtherMember, 5, 3), at_ms(1400)), WatchStream::Kind::kStray);
}

TEST(WatchStreamTest, StraysAreCanceledOnceAndAgainIfTheyKeepStreaming) {
  WatchStream stream(kIdle);
  stream.start(kMember, 5, at_ms(1000));
  (void)stream.classify(message(kMember, 4, 30), at_ms(1010));
  (void)stream.classify(message(kMember, 4, 31), at_ms(1020));
  (void)stream.classify(message(kOtherMember, 9, 2), at_ms(1020));
  using Strays = std::vector<std::pair<NodeId, mvcc::WatchId>>;
  EXPECT_EQ(stream.stray_cancels(at_ms(1020)), (Strays{{kMember, 4}, {kOtherMember, 9}}));
  // The cancel was lost: watch 4 keeps streaming. Within an idle check, no second cancel.
  (void)stream.classify(message(kMember, 4, 32), at_ms(1030));
  EXPECT_TRUE(stream.stray_cancels(at_ms(1030)).empty());
  (void)stream.classify(message(kMember, 4, 80), at_ms(1520));
  EXPECT_EQ(stream.stray_cancels(at_ms(1520)), (Strays{{kMember, 4}}));
  // A stray's own cancel notice needs no cancel.
  (void)stream.classify(message(kOtherMember, 7, 3, /*canceled=*/true), at_ms(1530));
  EXPECT_TRUE(stream.stray_cancels(at_ms(1530)).empty());
}

TEST(WatchStreamTest, AStoppedWatchsLateMessagesAreStrays) {
  WatchStream stream(kIdle);
  stream.start(kMember, 5, at_ms(1000));
  EXPECT_EQ(stream.classify(message(kMember, 5, 1), at_ms(1010)), WatchStream::Kind::kCurrent);
  stream.stop();
  EXPECT_EQ(stream.classify(message(kMember, 5, 2), at_ms(1020)), WatchStream::Kind::kStray);
  EXPECT_EQ(stream.stray_cancels(at_ms(1020)).size(), 1U);
}

}  // namespace
}  // namespace lockstep::sim
