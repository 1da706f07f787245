#include "store/raft_persistence.h"

#include <gtest/gtest.h>

#include "store/memory_disk.h"

namespace lockstep::store {
namespace {

std::vector<raft::Entry> entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<raft::Entry> out;
  for (uint64_t index = first; index <= last; ++index) {
    out.push_back(raft::Entry{Term(term), LogIndex(index), raft::EntryType::kNormal,
                              "e" + std::to_string(index)});
  }
  return out;
}

raft::Snapshot snapshot_at(uint64_t index, uint64_t term) {
  raft::Snapshot snapshot;
  snapshot.metadata.index = LogIndex(index);
  snapshot.metadata.term = Term(term);
  snapshot.metadata.conf_state.voters = {NodeId(1)};
  snapshot.data = "state@" + std::to_string(index);
  return snapshot;
}

RaftPersistenceOptions small_segments() {
  RaftPersistenceOptions options;
  options.wal_segment_bytes = 4096;
  return options;
}

std::unique_ptr<RaftPersistence> open_ok(MemoryDisk& disk) {
  Result<std::unique_ptr<RaftPersistence>> opened = RaftPersistence::open(disk, small_segments());
  EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
  return opened ? std::move(opened).value() : nullptr;
}

TEST(RaftPersistence, FreshDiskLoadsEmpty) {
  MemoryDisk disk;
  std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
  RaftRecoveredState state = *persistence->load();
  EXPECT_EQ(state.hard_state, raft::HardState{});
  EXPECT_TRUE(state.snapshot.empty());
  EXPECT_TRUE(state.entries.empty());
}

TEST(RaftPersistence, SaveThenLoadAfterRestart) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    const raft::HardState hard_state{Term(1), NodeId(2), LogIndex(3)};
    ASSERT_TRUE(persistence->save(hard_state, entries(1, 5, 1), raft::Snapshot{}).is_ok());
    EXPECT_EQ(persistence->wal_stats().syncs, 1u) << "hard state and entries share one fsync";
    EXPECT_EQ(persistence->load().code(), ErrorCode::kInternal) << "load() is stale after save()";
  }
  RaftRecoveredState state = *open_ok(disk)->load();
  EXPECT_EQ(state.hard_state, (raft::HardState{Term(1), NodeId(2), LogIndex(3)}));
  EXPECT_EQ(state.entries, entries(1, 5, 1));
}

TEST(RaftPersistence, SnapshotThenEntriesAfterIt) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    ASSERT_TRUE(
        persistence->save({Term(1), NodeId(1), LogIndex(0)}, entries(1, 30, 1), {}).is_ok());
    ASSERT_TRUE(
        persistence->save({Term(1), NodeId(1), LogIndex(30)}, {}, snapshot_at(20, 1)).is_ok());
    ASSERT_TRUE(persistence->release_through(LogIndex(20)).is_ok());
  }
  RaftRecoveredState state = *open_ok(disk)->load();
  EXPECT_EQ(state.snapshot, snapshot_at(20, 1));
  EXPECT_EQ(state.entries, entries(21, 30, 1));
  EXPECT_EQ(state.hard_state.commit, LogIndex(30));
}

TEST(RaftPersistence, InstalledSnapshotReplacesAConflictingLog) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    ASSERT_TRUE(
        persistence->save({Term(1), NodeId(1), LogIndex(2)}, entries(1, 10, 1), {}).is_ok());
    // The leader sends a snapshot at index 8 of term 3: our entry 8 has term 1, so the whole
    // log goes (thesis §5.1), and the following entries continue from 9.
    ASSERT_TRUE(
        persistence->save({Term(3), NodeId(0), LogIndex(8)}, entries(9, 9, 3), snapshot_at(8, 3))
            .is_ok());
  }
  RaftRecoveredState state = *open_ok(disk)->load();
  EXPECT_EQ(state.snapshot, snapshot_at(8, 3));
  EXPECT_EQ(state.entries, entries(9, 9, 3));
}

TEST(RaftPersistence, SnapshotFileWithoutDurableMarkerIsIgnored) {
  MemoryDisk disk;
  Random random(3);
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    ASSERT_TRUE(persistence->save({Term(1), NodeId(1), LogIndex(5)}, entries(1, 5, 1), {}).is_ok());
    // The snapshot file's fsync and its directory fsync succeed; the WAL marker's fsync fails.
    disk.fail_one_sync_after(2);
    const Status status = persistence->save({}, {}, snapshot_at(5, 1));
    ASSERT_FALSE(status.is_ok());
  }
  disk.crash(CrashMode::kDrop, random);
  ASSERT_EQ(disk.list("snap")->size(), 1u) << "the snapshot file itself is durable";
  RaftRecoveredState state = *open_ok(disk)->load();
  EXPECT_EQ(state.entries, entries(1, 5, 1));
  EXPECT_TRUE(state.snapshot.empty()) << "no durable marker, so the file is not state";
  ASSERT_EQ(state.notes.size(), 1u);
  EXPECT_NE(state.notes[0].find("without a WAL marker"), std::string::npos);
}

TEST(RaftPersistence, CorruptNewestSnapshotFallsBackToTheOlderOne) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    for (uint64_t round = 1; round <= 4; ++round) {
      ASSERT_TRUE(persistence
                      ->save({Term(1), NodeId(1), LogIndex(round * 50)},
                             entries(round * 50 - 49, round * 50, 1), {})
                      .is_ok());
      ASSERT_TRUE(persistence->save({}, {}, snapshot_at(round * 50 - 10, 1)).is_ok());
      ASSERT_TRUE(persistence->release_through(LogIndex(round * 50 - 10)).is_ok());
    }
  }
  std::vector<std::string> snapshots = *disk.list("snap");
  ASSERT_EQ(snapshots.size(), 2u) << "two snapshots are retained";
  const std::string newest = snapshots.back();  // names sort by term then index
  disk.flip_bit(newest, 40, 2);
  RaftRecoveredState state = *open_ok(disk)->load();
  EXPECT_EQ(state.snapshot, snapshot_at(140, 1));
  EXPECT_EQ(state.entries, entries(141, 200, 1));
  ASSERT_FALSE(state.notes.empty());
  EXPECT_NE(state.notes.back().find(newest), std::string::npos);
}

TEST(RaftPersistence, CorruptSnapshotWithoutFallbackStopsTheMember) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    ASSERT_TRUE(
        persistence->save({Term(1), NodeId(1), LogIndex(300)}, entries(1, 300, 1), {}).is_ok());
    ASSERT_TRUE(persistence->save({}, {}, snapshot_at(250, 1)).is_ok());
    ASSERT_TRUE(persistence->release_through(LogIndex(250)).is_ok());
  }
  const std::string only = (*disk.list("snap"))[0];
  disk.flip_bit(only, 40, 2);
  Result<std::unique_ptr<RaftPersistence>> reopened = RaftPersistence::open(disk, small_segments());
  ASSERT_EQ(reopened.code(), ErrorCode::kDataCorruption);
  EXPECT_NE(reopened.error().detail().find(only), std::string::npos)
      << reopened.status().to_string();
}

TEST(RaftPersistence, ReleaseKeepsDiskUseBounded) {
  MemoryDisk disk;
  std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
  for (uint64_t round = 1; round <= 40; ++round) {
    ASSERT_TRUE(persistence
                    ->save({Term(1), NodeId(1), LogIndex(round * 50)},
                           entries(round * 50 - 49, round * 50, 1), {})
                    .is_ok());
    ASSERT_TRUE(persistence->save({}, {}, snapshot_at(round * 50, 1)).is_ok());
    ASSERT_TRUE(persistence->release_through(LogIndex(round * 50)).is_ok());
  }
  EXPECT_LE(disk.list("wal")->size(), 4u);
  EXPECT_EQ(disk.list("snap")->size(), 2u);
}

// The member keeps only a snapshot's metadata in memory and reads the image back when a
// follower needs it: the newest snapshot must be readable after release_through() and after a
// restart, and one that was released or never saved is an error, not an empty image.
TEST(RaftPersistence, SavedSnapshotsAreReadBackByMetadata) {
  MemoryDisk disk;
  {
    std::unique_ptr<RaftPersistence> persistence = open_ok(disk);
    ASSERT_TRUE(
        persistence->save({Term(1), NodeId(1), LogIndex(30)}, entries(1, 30, 1), {}).is_ok());
    for (const uint64_t index : {10, 20, 30}) {
      ASSERT_TRUE(persistence->save({}, {}, snapshot_at(index, 1)).is_ok());
      ASSERT_TRUE(persistence->release_through(LogIndex(index)).is_ok());
    }
    Result<raft::Snapshot> newest = persistence->load_snapshot(LogIndex(30), Term(1));
    ASSERT_TRUE(newest.is_ok()) << newest.status().to_string();
    EXPECT_EQ(*newest, snapshot_at(30, 1));
    EXPECT_FALSE(persistence->load_snapshot(LogIndex(10), Term(1)).is_ok()) << "released";
    EXPECT_FALSE(persistence->load_snapshot(LogIndex(30), Term(2)).is_ok()) << "another term";
  }
  std::unique_ptr<RaftPersistence> reopened = open_ok(disk);
  Result<raft::Snapshot> after_restart = reopened->load_snapshot(LogIndex(30), Term(1));
  ASSERT_TRUE(after_restart.is_ok()) << after_restart.status().to_string();
  EXPECT_EQ(after_restart->data, "state@30");
}

}  // namespace
}  // namespace lockstep::store
