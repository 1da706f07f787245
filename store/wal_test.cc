#include "store/wal.h"

#include <gtest/gtest.h>

#include "store/memory_disk.h"

namespace lockstep::store {
namespace {

raft::Entry entry(uint64_t index, uint64_t term, std::string data = "") {
  if (data.empty()) data = "data-" + std::to_string(index) + "-" + std::to_string(term);
  return raft::Entry{Term(term), LogIndex(index), raft::EntryType::kNormal, std::move(data)};
}

std::vector<raft::Entry> entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<raft::Entry> out;
  for (uint64_t index = first; index <= last; ++index) out.push_back(entry(index, term));
  return out;
}

struct Opened {
  std::unique_ptr<Wal> wal;
  WalContents contents;
};

Opened open_wal(MemoryDisk& disk, uint64_t segment_bytes = kWalSegmentBytesDefault) {
  Opened opened;
  WalOptions options;
  options.segment_bytes = segment_bytes;
  Result<std::unique_ptr<Wal>> wal = Wal::open(disk, options, opened.contents);
  EXPECT_TRUE(wal.is_ok()) << wal.status().to_string();
  if (wal) opened.wal = std::move(wal).value();
  return opened;
}

Status open_status(MemoryDisk& disk) {
  WalContents contents;
  return Wal::open(disk, WalOptions{}, contents).status();
}

std::vector<std::string> segment_paths(MemoryDisk& disk) {
  return *disk.list("wal");
}

TEST(Wal, EmptyDiskOpensEmpty) {
  MemoryDisk disk;
  Opened opened = open_wal(disk);
  EXPECT_EQ(opened.contents.hard_state, raft::HardState{});
  EXPECT_TRUE(opened.contents.entries.empty());
  EXPECT_EQ(opened.contents.base_index, LogIndex(0));
  ASSERT_EQ(segment_paths(disk).size(), 1u);
  EXPECT_EQ(segment_paths(disk)[0], "wal/0000000000000000-0000000000000001.wal");
}

TEST(Wal, SyncedRecordsSurviveReopen) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk);
    opened.wal->append_hard_state(raft::HardState{Term(2), NodeId(1), LogIndex(3)});
    opened.wal->append_entries(entries(1, 5, 2));
    ASSERT_TRUE(opened.wal->sync().is_ok());
  }
  Opened reopened = open_wal(disk);
  EXPECT_EQ(reopened.contents.hard_state, (raft::HardState{Term(2), NodeId(1), LogIndex(3)}));
  EXPECT_EQ(reopened.contents.entries, entries(1, 5, 2));
  EXPECT_EQ(reopened.wal->last_index(), LogIndex(5));
  EXPECT_FALSE(reopened.contents.torn_tail_note.has_value());
}

TEST(Wal, GroupCommitCoversABatchWithOneFsync) {
  MemoryDisk disk;
  Opened opened = open_wal(disk);
  const uint64_t syncs_before = disk.sync_count();
  opened.wal->append_hard_state(raft::HardState{Term(1), NodeId(1), LogIndex(0)});
  opened.wal->append_entries(entries(1, 256, 1));
  EXPECT_EQ(disk.sync_count(), syncs_before) << "appending alone must not touch the disk";
  ASSERT_TRUE(opened.wal->sync().is_ok());
  EXPECT_EQ(disk.sync_count(), syncs_before + 1);
  EXPECT_EQ(opened.wal->stats().syncs, 1u);
  EXPECT_EQ(opened.wal->stats().records_appended, 257u);
}

TEST(Wal, UnsyncedAppendsAreLostByACrashSyncedOnesAreNot) {
  MemoryDisk disk;
  Random random(1);
  {
    Opened opened = open_wal(disk);
    opened.wal->append_entries(entries(1, 3, 1));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    opened.wal->append_entries(entries(4, 6, 1));  // never synced
  }
  disk.crash(CrashMode::kDrop, random);
  EXPECT_EQ(open_wal(disk).contents.entries, entries(1, 3, 1));
}

TEST(Wal, ConflictingEntriesReplaceTheSuffix) {
  // Raft paper §5.3: "If an existing entry conflicts with a new one (same index but different
  // terms), delete the existing entry and all that follow it".
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk);
    opened.wal->append_entries(entries(1, 5, 1));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    opened.wal->append_entries(entries(3, 4, 2));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    EXPECT_EQ(opened.wal->last_index(), LogIndex(4));
  }
  std::vector<raft::Entry> expected = entries(1, 2, 1);
  for (const raft::Entry& replaced : entries(3, 4, 2)) expected.push_back(replaced);
  EXPECT_EQ(open_wal(disk).contents.entries, expected);
}

TEST(Wal, SegmentsRollOverAndReplayInOrder) {
  MemoryDisk disk;
  constexpr uint64_t kSmallSegmentBytes = 4096;
  std::vector<raft::Entry> written;
  {
    Opened opened = open_wal(disk, kSmallSegmentBytes);
    for (uint64_t batch = 0; batch < 40; ++batch) {
      std::vector<raft::Entry> batch_entries = entries(batch * 10 + 1, batch * 10 + 10, 1);
      opened.wal->append_entries(batch_entries);
      opened.wal->append_hard_state(raft::HardState{Term(1), NodeId(2), LogIndex(batch * 10)});
      ASSERT_TRUE(opened.wal->sync().is_ok());
      written.insert(written.end(), batch_entries.begin(), batch_entries.end());
    }
    EXPECT_GT(opened.wal->segment_count(), 3u);
  }
  const std::vector<std::string> paths = segment_paths(disk);
  ASSERT_GT(paths.size(), 3u);
  for (const std::string& path : paths) {
    EXPECT_LE(disk.contents(path)->size(), kSmallSegmentBytes + 1024) << path;
    EXPECT_TRUE(parse_wal_segment_name(path.substr(4)).has_value()) << path;
  }
  Opened reopened = open_wal(disk, kSmallSegmentBytes);
  EXPECT_EQ(reopened.contents.entries, written);
  EXPECT_EQ(reopened.contents.hard_state.commit, LogIndex(390));
}

TEST(Wal, ARecordLargerThanASegmentStillFits) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk, 4096);
    opened.wal->append_entries(std::vector<raft::Entry>{entry(1, 1, std::string(10000, 'b'))});
    ASSERT_TRUE(opened.wal->sync().is_ok());
    opened.wal->append_entries(std::vector<raft::Entry>{entry(2, 1, std::string(10000, 'c'))});
    ASSERT_TRUE(opened.wal->sync().is_ok());
  }
  Opened reopened = open_wal(disk, 4096);
  ASSERT_EQ(reopened.contents.entries.size(), 2u);
  EXPECT_EQ(reopened.contents.entries[1].data, std::string(10000, 'c'));
}

TEST(Wal, ReleaseDropsCoveredSegmentsAndKeepsTheRest) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk, 4096);
    opened.wal->append_hard_state(raft::HardState{Term(3), NodeId(1), LogIndex(300)});
    for (uint64_t batch = 0; batch < 30; ++batch) {
      opened.wal->append_entries(entries(batch * 10 + 1, batch * 10 + 10, 3));
      ASSERT_TRUE(opened.wal->sync().is_ok());
    }
    opened.wal->append_snapshot_marker(WalSnapshotMarker{LogIndex(200), Term(3)});
    ASSERT_TRUE(opened.wal->sync().is_ok());
    const size_t before = opened.wal->segment_count();
    ASSERT_TRUE(opened.wal->release_through(LogIndex(200)).is_ok());
    EXPECT_LT(opened.wal->segment_count(), before);
  }
  Opened reopened = open_wal(disk, 4096);
  const WalContents& contents = reopened.contents;
  EXPECT_GT(contents.base_index, LogIndex(0));
  EXPECT_LE(contents.base_index, LogIndex(200)) << "entries after the snapshot must remain";
  EXPECT_EQ(contents.last_index(), LogIndex(300));
  EXPECT_EQ(contents.entries.front().index, contents.base_index.next());
  EXPECT_EQ(contents.hard_state, (raft::HardState{Term(3), NodeId(1), LogIndex(300)}))
      << "the hard state is repeated in every new segment";
  EXPECT_NE(std::find(contents.snapshot_markers.begin(), contents.snapshot_markers.end(),
                      (WalSnapshotMarker{LogIndex(200), Term(3)})),
            contents.snapshot_markers.end());
}

TEST(Wal, SnapshotMarkerBeyondTheLogReplacesIt) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk);
    opened.wal->append_entries(entries(1, 5, 1));
    opened.wal->append_snapshot_marker(WalSnapshotMarker{LogIndex(50), Term(4)});
    opened.wal->append_entries(entries(51, 52, 4));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    EXPECT_EQ(opened.wal->last_index(), LogIndex(52));
  }
  Opened reopened = open_wal(disk);
  EXPECT_EQ(reopened.contents.base_index, LogIndex(50));
  EXPECT_EQ(reopened.contents.entries, entries(51, 52, 4));
}

TEST(Wal, SnapshotMarkerDisagreeingWithTheLogReplacesIt) {
  // Thesis §5.1: a follower keeps the entries after a snapshot only if its log has the
  // snapshot's last entry (same index and term); otherwise it discards the whole log.
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk);
    opened.wal->append_entries(entries(1, 10, 1));
    opened.wal->append_snapshot_marker(WalSnapshotMarker{LogIndex(4), Term(1)});  // agrees
    opened.wal->append_snapshot_marker(WalSnapshotMarker{LogIndex(6), Term(2)});  // conflicts
    ASSERT_TRUE(opened.wal->sync().is_ok());
    EXPECT_EQ(opened.wal->last_index(), LogIndex(6));
  }
  Opened reopened = open_wal(disk);
  EXPECT_EQ(reopened.contents.base_index, LogIndex(6));
  EXPECT_TRUE(reopened.contents.entries.empty());
  EXPECT_EQ(reopened.contents.snapshot_markers.size(), 2u);
}

class WalTail : public ::testing::Test {
 protected:
  // Two synced batches; returns the segment path.
  std::string write_two_batches() {
    Opened opened = open_wal(disk_);
    opened.wal->append_entries(entries(1, 3, 1));
    EXPECT_TRUE(opened.wal->sync().is_ok());
    first_batch_end_ = disk_.contents(segment_paths(disk_)[0])->size();
    opened.wal->append_entries(entries(4, 6, 1));
    EXPECT_TRUE(opened.wal->sync().is_ok());
    return segment_paths(disk_)[0];
  }
  void overwrite(const std::string& path, uint64_t offset, std::string_view bytes) {
    std::unique_ptr<env::File> file = disk_.open(path, env::OpenMode::kReadWrite).value();
    ASSERT_TRUE(file->write(offset, bytes).is_ok());
    ASSERT_TRUE(file->sync().is_ok());
  }
  MemoryDisk disk_;
  uint64_t first_batch_end_ = 0;
};

TEST_F(WalTail, PartialLastRecordIsCut) {
  const std::string path = write_two_batches();
  const uint64_t size = disk_.contents(path)->size();
  std::unique_ptr<env::File> file = disk_.open(path, env::OpenMode::kReadWrite).value();
  ASSERT_TRUE(file->truncate(size - 5).is_ok());
  file.reset();
  Opened reopened = open_wal(disk_);
  EXPECT_EQ(reopened.contents.entries, entries(1, 5, 1));
  ASSERT_TRUE(reopened.contents.torn_tail_note.has_value());
  EXPECT_NE(reopened.contents.torn_tail_note->find(path), std::string::npos);
  // Appending after the cut continues a clean log.
  reopened.wal->append_entries(entries(6, 7, 2));
  ASSERT_TRUE(reopened.wal->sync().is_ok());
  reopened.wal.reset();
  std::vector<raft::Entry> expected = entries(1, 5, 1);
  for (const raft::Entry& added : entries(6, 7, 2)) expected.push_back(added);
  EXPECT_EQ(open_wal(disk_).contents.entries, expected);
}

TEST_F(WalTail, ZeroFilledTailIsCut) {
  const std::string path = write_two_batches();
  const uint64_t size = disk_.contents(path)->size();
  overwrite(path, size, std::string(4096, '\0'));  // the file grew but the data never landed
  EXPECT_EQ(open_wal(disk_).contents.entries, entries(1, 6, 1));
}

TEST_F(WalTail, ZeroedLastBatchIsCut) {
  const std::string path = write_two_batches();
  const uint64_t size = disk_.contents(path)->size();
  overwrite(path, first_batch_end_, std::string(size - first_batch_end_, '\0'));
  EXPECT_EQ(open_wal(disk_).contents.entries, entries(1, 3, 1));
}

TEST_F(WalTail, LaterRecordsOfAnUnsyncedBatchWithoutEarlierOnesAreCut) {
  // A crash may persist a batch's later pages but not its earlier ones; nothing in that batch
  // was acknowledged, so the hole and what follows it are a torn tail, not corruption.
  const std::string path = write_two_batches();
  overwrite(path, first_batch_end_, std::string(24, '\0'));
  EXPECT_EQ(open_wal(disk_).contents.entries, entries(1, 3, 1));
}

TEST_F(WalTail, BitFlipFollowedByLaterSyncedDataIsCorruption) {
  const std::string path = write_two_batches();
  const uint64_t damaged_offset = 120;  // inside the first batch, long synced
  ASSERT_LT(damaged_offset, first_batch_end_);
  disk_.flip_bit(path, damaged_offset, 3);
  const Status status = open_status(disk_);
  ASSERT_EQ(status.code(), ErrorCode::kDataCorruption);
  EXPECT_NE(status.error().detail().find(path), std::string::npos) << status.to_string();
  EXPECT_NE(status.error().detail().find("offset "), std::string::npos) << status.to_string();
  // Nothing was cut: the evidence stays on disk, and a second open says the same.
  EXPECT_EQ(open_status(disk_).code(), ErrorCode::kDataCorruption);
}

TEST(Wal, BitFlipInASealedSegmentIsCorruption) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk, 4096);
    for (uint64_t batch = 0; batch < 10; ++batch) {
      opened.wal->append_entries(entries(batch * 10 + 1, batch * 10 + 10, 1));
      ASSERT_TRUE(opened.wal->sync().is_ok());
    }
  }
  const std::vector<std::string> paths = segment_paths(disk);
  ASSERT_GE(paths.size(), 2u);
  const uint64_t size = disk.contents(paths[0])->size();
  disk.flip_bit(paths[0], size - 3, 0);  // the very last record of a sealed segment
  const Status status = open_status(disk);
  ASSERT_EQ(status.code(), ErrorCode::kDataCorruption);
  EXPECT_NE(status.error().detail().find(paths[0]), std::string::npos);
  EXPECT_NE(status.error().detail().find("sealed"), std::string::npos);
}

// The daemon's preallocation (WalOptions::preallocate_bytes): appends land in zeros written
// ahead of the tail, recovery cuts the zeros like a torn tail and keeps every synced record,
// and a segment is trimmed to its records before it is sealed (a sealed segment must end
// with a record).
Opened open_preallocated_wal(MemoryDisk& disk, uint64_t segment_bytes, uint64_t preallocate) {
  Opened opened;
  WalOptions options;
  options.segment_bytes = segment_bytes;
  options.preallocate_bytes = preallocate;
  Result<std::unique_ptr<Wal>> wal = Wal::open(disk, options, opened.contents);
  EXPECT_TRUE(wal.is_ok()) << wal.status().to_string();
  if (wal) opened.wal = std::move(wal).value();
  return opened;
}

TEST(Wal, PreallocatedZerosAheadOfTheTailAreWrittenOncePerChunk) {
  MemoryDisk disk;
  constexpr uint64_t kPreallocate = 8192;
  Opened opened = open_preallocated_wal(disk, kWalSegmentBytesDefault, kPreallocate);
  const std::string path = segment_paths(disk)[0];
  const uint64_t prologue = disk.contents(path)->size();
  opened.wal->append_entries(entries(1, 1, 1));
  ASSERT_TRUE(opened.wal->sync().is_ok());
  const uint64_t grown = disk.contents(path)->size();
  EXPECT_GE(grown, prologue + kPreallocate);
  opened.wal->append_entries(entries(2, 3, 1));
  ASSERT_TRUE(opened.wal->sync().is_ok());
  EXPECT_EQ(disk.contents(path)->size(), grown) << "the second batch fits in the zeros";
  const std::string bytes = *disk.contents(path);
  EXPECT_EQ(bytes.back(), '\0');
}

TEST(Wal, PreallocatedTailIsCutAtRecoveryAndTheSyncedRecordsStay) {
  MemoryDisk disk;
  Random random(7);
  {
    Opened opened = open_preallocated_wal(disk, kWalSegmentBytesDefault, 8192);
    opened.wal->append_hard_state(raft::HardState{Term(1), NodeId(1), LogIndex(2)});
    opened.wal->append_entries(entries(1, 5, 1));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    opened.wal->append_entries(entries(6, 6, 1));  // never synced
  }
  disk.crash(CrashMode::kTorn, random);
  Opened reopened = open_preallocated_wal(disk, kWalSegmentBytesDefault, 8192);
  EXPECT_EQ(reopened.contents.entries, entries(1, 5, 1));
  EXPECT_EQ(reopened.contents.hard_state.commit, LogIndex(2));
  // Appending after recovery preallocates again and survives another reopen.
  reopened.wal->append_entries(entries(6, 8, 1));
  ASSERT_TRUE(reopened.wal->sync().is_ok());
  reopened.wal.reset();
  EXPECT_EQ(open_preallocated_wal(disk, kWalSegmentBytesDefault, 8192).contents.entries,
            entries(1, 8, 1));
}

TEST(Wal, PreallocatedSegmentsAreTrimmedBeforeTheyAreSealed) {
  MemoryDisk disk;
  constexpr uint64_t kSmallSegmentBytes = 4096;
  std::vector<raft::Entry> written;
  {
    Opened opened = open_preallocated_wal(disk, kSmallSegmentBytes, 2048);
    for (uint64_t batch = 0; batch < 20; ++batch) {
      std::vector<raft::Entry> batch_entries = entries(batch * 10 + 1, batch * 10 + 10, 1);
      opened.wal->append_entries(batch_entries);
      ASSERT_TRUE(opened.wal->sync().is_ok());
      written.insert(written.end(), batch_entries.begin(), batch_entries.end());
    }
  }
  const std::vector<std::string> paths = segment_paths(disk);
  ASSERT_GT(paths.size(), 2u);
  // A sealed segment holding its 2048 zeros would be corruption at the reopen below.
  for (size_t i = 0; i + 1 < paths.size(); ++i) {
    EXPECT_LE(disk.contents(paths[i])->size(), kSmallSegmentBytes + 1024) << paths[i];
  }
  // Reopened without preallocation too: the files are plain WAL segments.
  EXPECT_EQ(open_wal(disk, kSmallSegmentBytes).contents.entries, written);
}

TEST(Wal, MissingSegmentIsCorruption) {
  MemoryDisk disk;
  {
    Opened opened = open_wal(disk, 4096);
    for (uint64_t batch = 0; batch < 30; ++batch) {
      opened.wal->append_entries(entries(batch * 10 + 1, batch * 10 + 10, 1));
      ASSERT_TRUE(opened.wal->sync().is_ok());
    }
  }
  const std::vector<std::string> paths = segment_paths(disk);
  ASSERT_GE(paths.size(), 3u);
  ASSERT_TRUE(disk.remove(paths[1]).is_ok());
  const Status status = open_status(disk);
  EXPECT_EQ(status.code(), ErrorCode::kDataCorruption);
  EXPECT_NE(status.to_string().find("missing"), std::string::npos);
}

TEST(Wal, UnexpectedFileInTheDirectoryIsReported) {
  MemoryDisk disk;
  { open_wal(disk); }
  ASSERT_TRUE(disk.open("wal/notes.txt", env::OpenMode::kCreateReadWrite).is_ok());
  EXPECT_EQ(open_status(disk).code(), ErrorCode::kDataCorruption);
}

TEST(Wal, FailedFsyncPoisonsTheWalAndRecoveryKeepsTheDurablePrefix) {
  MemoryDisk disk;
  Random random(7);
  {
    Opened opened = open_wal(disk);
    opened.wal->append_entries(entries(1, 2, 1));
    ASSERT_TRUE(opened.wal->sync().is_ok());
    disk.fail_next_syncs(1);
    opened.wal->append_entries(entries(3, 4, 1));
    const Status failed = opened.wal->sync();
    EXPECT_EQ(failed.code(), ErrorCode::kIoError);
    opened.wal->append_entries(entries(5, 5, 1));
    EXPECT_EQ(opened.wal->sync().code(), ErrorCode::kIoError) << "no retry after a failed fsync";
  }
  disk.crash(CrashMode::kDrop, random);
  EXPECT_EQ(open_wal(disk).contents.entries, entries(1, 2, 1));
}

TEST(Wal, DiskFullIsReportedAsSuch) {
  MemoryDisk disk;
  Opened opened = open_wal(disk);
  disk.set_capacity_bytes(disk.total_bytes() + 100);
  opened.wal->append_entries(std::vector<raft::Entry>{entry(1, 1, std::string(1000, 'z'))});
  EXPECT_EQ(opened.wal->sync().code(), ErrorCode::kDiskFull);
}

TEST(Wal, LeftoverTemporarySegmentIsRemoved) {
  MemoryDisk disk;
  { open_wal(disk); }
  {
    std::unique_ptr<env::File> file =
        disk.open("wal/0000000000000001-0000000000000001.wal.tmp", env::OpenMode::kCreateReadWrite)
            .value();
    ASSERT_TRUE(file->write(0, "half a header").is_ok());
  }
  Opened reopened = open_wal(disk);
  EXPECT_EQ(segment_paths(disk).size(), 1u);
}

TEST(WalSegmentName, ParsesOnlyCanonicalNames) {
  auto parsed = parse_wal_segment_name("000000000000000a-0000000000000100.wal");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, 10u);
  EXPECT_EQ(parsed->second, LogIndex(256));
  EXPECT_FALSE(parse_wal_segment_name("000000000000000A-0000000000000100.wal").has_value());
  EXPECT_FALSE(parse_wal_segment_name("0-1.wal").has_value());
  EXPECT_FALSE(parse_wal_segment_name("000000000000000a-0000000000000100.snap").has_value());
}

}  // namespace
}  // namespace lockstep::store
