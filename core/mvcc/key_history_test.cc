#include "core/mvcc/key_history.h"

#include <gtest/gtest.h>

namespace lockstep::mvcc {
namespace {

RevisionKey rev(int64_t main, int64_t sub = 0) {
  return RevisionKey{Revision(main), sub};
}

// The example of etcd's key_index.go: put@2 put@4 delete@6 put@8 put@10 delete@12 put@14.
KeyHistory example() {
  KeyHistory history;
  history.put(rev(2));
  history.put(rev(4));
  history.tombstone(rev(6));
  history.put(rev(8));
  history.put(rev(10));
  history.tombstone(rev(12));
  history.put(rev(14));
  return history;
}

TEST(KeyHistoryTest, GetSeesTheVersionAtEachRevision) {
  KeyHistory history = example();
  EXPECT_FALSE(history.get(Revision(1)));
  auto at5 = history.get(Revision(5));
  ASSERT_TRUE(at5);
  EXPECT_EQ(at5->modified, rev(4));
  EXPECT_EQ(at5->created, rev(2));
  EXPECT_EQ(at5->version, 2);
  // At the tombstone revision the key does not exist (etcd findGeneration: tomb <= rev).
  EXPECT_FALSE(history.get(Revision(6)));
  EXPECT_FALSE(history.get(Revision(7)));
  auto at11 = history.get(Revision(11));
  ASSERT_TRUE(at11);
  EXPECT_EQ(at11->created, rev(8));
  EXPECT_EQ(at11->version, 2);
  auto at14 = history.get(Revision(100));
  ASSERT_TRUE(at14);
  EXPECT_EQ(at14->version, 1);  // a put after a delete starts again at version 1
}

TEST(KeyHistoryTest, CompactKeepsNewestRevisionAtOrBelow) {
  KeyHistory history = example();
  std::vector<RevisionKey> removed;
  // A read at 3 still needs revision 2: nothing goes.
  history.compact(Revision(3), removed);
  EXPECT_TRUE(removed.empty());
  EXPECT_EQ(history.get(Revision(3))->modified, rev(2));
  // At 5 the read needs revision 4 only.
  history.compact(Revision(5), removed);
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(2)}));
  EXPECT_EQ(history.get(Revision(5))->modified, rev(4));
  EXPECT_EQ(history.get(Revision(5))->version, 2);
}

// etcd-io/etcd#18089: a watcher resuming at the compaction revision must still get the
// delete at that revision, so its tombstone survives; the generation's puts go.
TEST(KeyHistoryTest, CompactAtTombstoneKeepsTheTombstoneUntilTheNextCompaction) {
  KeyHistory history = example();
  std::vector<RevisionKey> removed;
  history.compact(Revision(6), removed);
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(2), rev(4)}));
  ASSERT_EQ(history.generations().size(), 3u);
  EXPECT_EQ(history.generations().front().revisions, std::vector<RevisionKey>({rev(6)}));
  EXPECT_FALSE(history.get(Revision(6)));
  EXPECT_FALSE(history.get(Revision(7)));
  std::vector<RevisionKey> since;
  history.revisions_since(Revision(6), since);
  EXPECT_EQ(since.front(), rev(6));
  removed.clear();
  history.compact(Revision(7), removed);
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(6)}));
  EXPECT_EQ(history.generations().size(), 2u);
}

TEST(KeyHistoryTest, CompactInsideALiveGenerationKeepsItsNewestRevision) {
  KeyHistory history = example();
  std::vector<RevisionKey> removed;
  history.compact(Revision(11), removed);
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(2), rev(4), rev(6), rev(8)}));
  auto at11 = history.get(Revision(11));
  ASSERT_TRUE(at11);
  EXPECT_EQ(at11->modified, rev(10));
  EXPECT_EQ(at11->version, 2);  // version survives compaction
}

TEST(KeyHistoryTest, CompactAfterFinalDeleteEmptiesTheKey) {
  KeyHistory history;
  history.put(rev(2));
  history.tombstone(rev(3));
  std::vector<RevisionKey> removed;
  history.compact(Revision(5), removed);
  EXPECT_TRUE(history.empty());
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(2), rev(3)}));
}

TEST(KeyHistoryTest, RestoreFromATombstoneKeptByCompaction) {
  KeyHistory history;
  history.restore_tombstone(rev(6));
  EXPECT_FALSE(history.exists_now());
  EXPECT_FALSE(history.empty());
  EXPECT_FALSE(history.get(Revision(6)));
  history.put(rev(8));
  EXPECT_EQ(history.get(Revision(8))->version, 1);
  std::vector<RevisionKey> removed;
  history.compact(Revision(7), removed);
  EXPECT_EQ(removed, std::vector<RevisionKey>({rev(6)}));
  EXPECT_EQ(history.get(Revision(9))->modified, rev(8));
}

TEST(KeyHistoryTest, RestoreRebuildsACompactedGeneration) {
  KeyHistory history;
  history.restore(rev(3), rev(9), 4);
  history.put(rev(11));
  auto now = history.get(Revision(20));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->created.main, Revision(3));
  EXPECT_EQ(now->version, 5);
}

}  // namespace
}  // namespace lockstep::mvcc
