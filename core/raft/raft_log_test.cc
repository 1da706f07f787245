#include "core/raft/raft_log.h"

#include <gtest/gtest.h>

namespace lockstep::raft {
namespace {

std::vector<Entry> entries_with_terms(uint64_t first_index, std::vector<uint64_t> terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(Entry{.term = Term(terms[i]),
                            .index = LogIndex(first_index + i),
                            .data = "e" + std::to_string(first_index + i)});
  }
  return entries;
}

TEST(MemoryStorageTest, AppendTruncatesOverlapAndRefusesGaps) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1, 1})).is_ok());
  ASSERT_TRUE(storage.append(entries_with_terms(2, {2})).is_ok());
  EXPECT_EQ(storage.last_index(), LogIndex(2));
  EXPECT_EQ(storage.term(LogIndex(2)), Term(2));
  EXPECT_FALSE(storage.append(entries_with_terms(5, {2})).is_ok());
  EXPECT_EQ(storage.last_index(), LogIndex(2)) << "a refused append changes nothing";
}

// Thesis §5.1: compaction discards the log prefix a snapshot covers; the snapshot's own
// (index, term) stays known for the consistency check of the next append.
TEST(MemoryStorageTest, SnapshotThenCompact) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1, 2, 2, 3})).is_ok());
  EXPECT_FALSE(storage.compact(LogIndex(3)).is_ok()) << "no snapshot covers index 3 yet";
  ASSERT_TRUE(
      storage.create_snapshot(LogIndex(3), ConfState{.voters = {NodeId(1)}}, "image").is_ok());
  ASSERT_TRUE(storage.compact(LogIndex(3)).is_ok());
  EXPECT_EQ(storage.first_index(), LogIndex(4));
  EXPECT_EQ(storage.term(LogIndex(3)), Term(2));
  EXPECT_FALSE(storage.term(LogIndex(2)).has_value());
  EXPECT_FALSE(storage.entries(LogIndex(3), LogIndex(5), UINT64_MAX).has_value());
  EXPECT_EQ(storage.entries(LogIndex(4), LogIndex(6), UINT64_MAX)->size(), 2u);
  EXPECT_FALSE(storage.create_snapshot(LogIndex(2), ConfState{}, "").is_ok()) << "older snapshot";
  EXPECT_FALSE(storage.apply_snapshot(Snapshot{.metadata = {.index = LogIndex(1)}}).is_ok());
}

TEST(MemoryStorageTest, EntriesRespectByteLimitButReturnAtLeastOne) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1, 1, 1})).is_ok());  // 2 bytes each
  EXPECT_EQ(storage.entries(LogIndex(1), LogIndex(5), 0)->size(), 1u);
  EXPECT_EQ(storage.entries(LogIndex(1), LogIndex(5), 4)->size(), 2u);
  EXPECT_EQ(storage.entries(LogIndex(1), LogIndex(5), 100)->size(), 4u);
}

TEST(RaftLogTest, UnstableEntriesShadowStableOnesAfterTruncation) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1, 1})).is_ok());
  RaftLog log(&storage);
  std::optional<LogIndex> last =
      log.maybe_append(LogIndex(1), Term(1), LogIndex(0), entries_with_terms(2, {2, 2}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, LogIndex(3));
  EXPECT_EQ(log.term(LogIndex(2)), Term(2));
  EXPECT_EQ(log.term(LogIndex(3)), Term(2));
  EXPECT_EQ(log.unstable_entries().size(), 2u);
  std::optional<std::vector<Entry>> all = log.entries(LogIndex(1), LogIndex(4), UINT64_MAX);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ((*all)[0].term, Term(1));
  EXPECT_EQ((*all)[1].term, Term(2));
  // Persisting moves them to stable storage.
  ASSERT_TRUE(storage.append(log.unstable_entries()).is_ok());
  log.stable_to(LogIndex(3), Term(2));
  EXPECT_FALSE(log.has_unstable_entries());
  EXPECT_EQ(log.term(LogIndex(3)), Term(2));
}

TEST(RaftLogTest, StableToIgnoresEntriesReplacedSinceTheReady) {
  MemoryStorage storage;
  RaftLog log(&storage);
  log.append(entries_with_terms(1, {1, 1}));
  // Replaced by a new leader's entry before the old ones were acknowledged as persisted.
  ASSERT_TRUE(log.maybe_append(LogIndex(1), Term(1), LogIndex(0), entries_with_terms(2, {2})));
  log.stable_to(LogIndex(2), Term(1));
  EXPECT_EQ(log.unstable_entries().size(), 2u) << "entry 2 of term 2 is not yet stable";
}

// etcd's fast backtracking: the follower's hint is the last index whose term is <= the
// leader's term at the probed index, so a whole divergent term is skipped at once.
TEST(RaftLogTest, FindConflictByTerm) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1, 2, 2, 5, 5, 5})).is_ok());
  RaftLog log(&storage);
  EXPECT_EQ(log.find_conflict_by_term(LogIndex(7), Term(4)), std::make_pair(LogIndex(4), Term(2)));
  EXPECT_EQ(log.find_conflict_by_term(LogIndex(7), Term(5)), std::make_pair(LogIndex(7), Term(5)));
  EXPECT_EQ(log.find_conflict_by_term(LogIndex(4), Term(1)), std::make_pair(LogIndex(2), Term(1)));
  EXPECT_EQ(log.find_conflict_by_term(LogIndex(9), Term(3)), std::make_pair(LogIndex(4), Term(2)));
}

TEST(RaftLogTest, CommitIndexNeverDecreasesAndOnlyCurrentTermCommitsByCount) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 2, 3})).is_ok());
  RaftLog log(&storage);
  EXPECT_FALSE(log.maybe_commit(LogIndex(2), Term(3))) << "entry 2 is of term 2";
  EXPECT_TRUE(log.maybe_commit(LogIndex(3), Term(3)));
  log.commit_to(LogIndex(1));
  EXPECT_EQ(log.committed(), LogIndex(3));
}

TEST(RaftLogTest, RestoreSnapshotEmptiesTheLog) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append(entries_with_terms(1, {1, 1})).is_ok());
  RaftLog log(&storage);
  log.restore(Snapshot{.metadata = {.index = LogIndex(10), .term = Term(4)}});
  EXPECT_EQ(log.first_index(), LogIndex(11));
  EXPECT_EQ(log.last_index(), LogIndex(10));
  EXPECT_EQ(log.last_term(), Term(4));
  EXPECT_EQ(log.committed(), LogIndex(10));
  EXPECT_FALSE(log.term(LogIndex(2)).has_value());
  EXPECT_FALSE(log.entries(LogIndex(2), LogIndex(3), UINT64_MAX).has_value());
}

}  // namespace
}  // namespace lockstep::raft
