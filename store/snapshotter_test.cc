#include "store/snapshotter.h"

#include <gtest/gtest.h>

#include "store/memory_disk.h"

namespace lockstep::store {
namespace {

raft::Snapshot make_snapshot(uint64_t index, uint64_t term, std::string data) {
  raft::Snapshot snapshot;
  snapshot.metadata.index = LogIndex(index);
  snapshot.metadata.term = Term(term);
  snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  snapshot.metadata.conf_state.learners = {NodeId(4)};
  snapshot.metadata.conf_state.auto_leave = true;
  snapshot.data = std::move(data);
  return snapshot;
}

TEST(Snapshotter, SavesAndLoadsNewestFirst) {
  MemoryDisk disk;
  Snapshotter snapshotter(disk, "snap");
  ASSERT_TRUE(snapshotter.open().is_ok());
  ASSERT_TRUE(snapshotter.save(make_snapshot(10, 2, "ten")).is_ok());
  ASSERT_TRUE(snapshotter.save(make_snapshot(20, 3, "twenty")).is_ok());
  const std::vector<SnapshotFile> files = *snapshotter.list();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].index, LogIndex(20));
  EXPECT_EQ(files[0].path, "snap/0000000000000003-0000000000000014.snap");
  EXPECT_EQ(*snapshotter.load(files[0]), make_snapshot(20, 3, "twenty"));
  EXPECT_EQ(*snapshotter.load(files[1]), make_snapshot(10, 2, "ten"));
}

TEST(Snapshotter, EveryFlippedBitIsDetected) {
  const std::string bytes = encode_snapshot_file(make_snapshot(5, 1, "state"));
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_EQ(decode_snapshot_file(damaged).code(), ErrorCode::kDataCorruption)
          << "byte " << byte << " bit " << bit;
    }
  }
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_EQ(decode_snapshot_file(bytes.substr(0, length)).code(), ErrorCode::kDataCorruption);
  }
}

TEST(Snapshotter, CorruptFileIsReportedWithItsPath) {
  MemoryDisk disk;
  Snapshotter snapshotter(disk, "snap");
  ASSERT_TRUE(snapshotter.open().is_ok());
  ASSERT_TRUE(snapshotter.save(make_snapshot(10, 2, "ten")).is_ok());
  const SnapshotFile file = (*snapshotter.list())[0];
  disk.flip_bit(file.path, 30, 1);
  const Result<raft::Snapshot> loaded = snapshotter.load(file);
  ASSERT_EQ(loaded.code(), ErrorCode::kDataCorruption);
  EXPECT_NE(loaded.error().detail().find(file.path), std::string::npos);
}

TEST(Snapshotter, ACrashDuringSaveLeavesNoFileOrTheWholeFile) {
  // Atomic save: temp file, fsync, rename, directory fsync. Whatever the crash keeps, the
  // directory never shows a partial snapshot under its final name.
  for (CrashMode mode : {CrashMode::kDrop, CrashMode::kKeep, CrashMode::kTorn}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      MemoryDisk disk;
      Random random(seed);
      {
        Snapshotter snapshotter(disk, "snap");
        ASSERT_TRUE(snapshotter.open().is_ok());
        // Fail a random step of the save (the file fsync or the directory fsync), then crash.
        disk.fail_one_sync_after(static_cast<int>(random.below(2)));
        (void)snapshotter.save(make_snapshot(7, 1, std::string(5000, 'q')));
      }
      disk.crash(mode, random);
      Snapshotter reopened(disk, "snap");
      const Status reopened_status = reopened.open();
      ASSERT_TRUE(reopened_status.is_ok()) << reopened_status.to_string();
      const std::vector<SnapshotFile> files = *reopened.list();
      for (const SnapshotFile& file : files) {
        EXPECT_EQ(*reopened.load(file), make_snapshot(7, 1, std::string(5000, 'q')));
      }
      const std::vector<std::string> paths = *disk.list("snap");
      for (const std::string& path : paths) {
        EXPECT_FALSE(path.ends_with(".tmp")) << "open() removes leftovers";
      }
    }
  }
}

TEST(Snapshotter, NameMustMatchContents) {
  MemoryDisk disk;
  Snapshotter snapshotter(disk, "snap");
  ASSERT_TRUE(snapshotter.open().is_ok());
  ASSERT_TRUE(snapshotter.save(make_snapshot(10, 2, "ten")).is_ok());
  ASSERT_TRUE(disk.rename("snap/0000000000000002-000000000000000a.snap",
                          "snap/0000000000000002-000000000000000b.snap")
                  .is_ok());
  EXPECT_EQ(snapshotter.load((*snapshotter.list())[0]).code(), ErrorCode::kDataCorruption);
}

TEST(Snapshotter, StrangeFilesAreReported) {
  MemoryDisk disk;
  Snapshotter snapshotter(disk, "snap");
  ASSERT_TRUE(snapshotter.open().is_ok());
  ASSERT_TRUE(disk.open("snap/readme", env::OpenMode::kCreateReadWrite).is_ok());
  EXPECT_EQ(snapshotter.list().code(), ErrorCode::kDataCorruption);
}

}  // namespace
}  // namespace lockstep::store
