#include "sim/disk_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace lockstep::sim {
namespace {

using env::OpenMode;

// Opens (creating) `path` and writes `bytes` at `offset`.
DiskState::InodeId write_file(DiskState& disk, Random& random, std::string_view path,
                              uint64_t offset, std::string_view bytes) {
  auto inode = disk.open(path, OpenMode::kCreateReadWrite);
  EXPECT_TRUE(inode.is_ok()) << inode.status().to_string();
  EXPECT_TRUE(disk.write(*inode, offset, bytes, random).is_ok());
  return *inode;
}

TEST(DiskState, ReadsSeePendingWritesBeforeSync) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "a", 0, "hello");
  EXPECT_EQ(*disk.read(inode, 0, 100), "hello");
  EXPECT_EQ(*disk.read(inode, 1, 3), "ell");
  EXPECT_EQ(*disk.read(inode, 10, 3), "");
}

TEST(DiskState, SyncedBytesSurviveEveryCrashMode) {
  for (CrashMode mode :
       {CrashMode::kDropAll, CrashMode::kKeepAll, CrashMode::kTorn, CrashMode::kRandom}) {
    DiskState disk;
    Random random(7);
    const auto inode = write_file(disk, random, "log", 0, "durable");
    ASSERT_TRUE(disk.sync(inode, random).is_ok());
    ASSERT_TRUE(disk.sync_directory("", random).is_ok());
    disk.crash(mode, random);
    EXPECT_EQ(disk.durable_contents("log"), "durable") << crash_mode_name(mode);
    EXPECT_EQ(disk.current_contents("log"), "durable") << crash_mode_name(mode);
  }
}

// Durable "old" content plus one unsynced write of `bytes` at `offset`, then a crash.
std::string crash_after_unsynced_write(CrashMode mode, uint64_t seed, uint64_t offset,
                                       const std::string& bytes) {
  DiskState disk;
  Random random(seed);
  const auto inode = write_file(disk, random, "f", 0, std::string(4 * kSectorBytes, 'o'));
  EXPECT_TRUE(disk.sync(inode, random).is_ok());
  EXPECT_TRUE(disk.sync_directory("", random).is_ok());
  EXPECT_TRUE(disk.write(inode, offset, bytes, random).is_ok());
  disk.crash(mode, random);
  return *disk.current_contents("f");
}

TEST(DiskState, DropAllLosesUnsyncedWrites) {
  const std::string result =
      crash_after_unsynced_write(CrashMode::kDropAll, 3, 0, std::string(kSectorBytes, 'n'));
  EXPECT_EQ(result, std::string(4 * kSectorBytes, 'o'));
}

TEST(DiskState, KeepAllKeepsUnsyncedWrites) {
  const std::string result =
      crash_after_unsynced_write(CrashMode::kKeepAll, 3, 0, std::string(kSectorBytes, 'n'));
  EXPECT_EQ(result, std::string(kSectorBytes, 'n') + std::string(3 * kSectorBytes, 'o'));
}

TEST(DiskState, TornWritesKeepASectorAlignedPrefix) {
  // A 3-sector write at offset 0 may survive as 0..3 whole sectors, never a partial sector.
  std::set<size_t> new_sectors_seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::string result =
        crash_after_unsynced_write(CrashMode::kRandom, seed, 0, std::string(3 * kSectorBytes, 'n'));
    ASSERT_EQ(result.size(), 4 * kSectorBytes);
    const size_t new_bytes = result.find('o');
    ASSERT_EQ(new_bytes % kSectorBytes, 0u) << "torn writes keep whole sectors only";
    ASSERT_EQ(result.find('n', new_bytes), std::string::npos) << "the kept part is a prefix";
    new_sectors_seen.insert(new_bytes / kSectorBytes);
  }
  EXPECT_EQ(new_sectors_seen, (std::set<size_t>{0, 1, 2, 3}))
      << "over many seeds, lost, torn at each boundary and kept must all occur";
}

TEST(DiskState, TornModeKeepsAnInOrderPrefixOfWrites) {
  // kTorn: writes reach the disk in order, so a later write survives only if every earlier one
  // survived whole.
  int later_without_earlier = 0;
  std::set<int> outcomes;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    DiskState disk;
    Random random(seed);
    const auto inode = write_file(disk, random, "f", 0, "");
    ASSERT_TRUE(disk.sync(inode, random).is_ok());
    ASSERT_TRUE(disk.sync_directory("", random).is_ok());
    ASSERT_TRUE(disk.write(inode, 0, "A", random).is_ok());
    ASSERT_TRUE(disk.write(inode, 1, "B", random).is_ok());
    ASSERT_TRUE(disk.write(inode, 2, "C", random).is_ok());
    disk.crash(CrashMode::kTorn, random);
    const std::string result = *disk.current_contents("f");
    outcomes.insert(static_cast<int>(result.size()));
    if (result.size() >= 2 && result.substr(0, 2) != "AB") ++later_without_earlier;
  }
  EXPECT_EQ(later_without_earlier, 0);
  EXPECT_EQ(outcomes, (std::set<int>{0, 1, 2, 3}));
}

TEST(DiskState, CreatedFileNeedsDirectorySyncToSurvive) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "new", 0, "data");
  ASSERT_TRUE(disk.sync(inode, random).is_ok());  // the bytes are durable, the name is not
  EXPECT_FALSE(disk.durably_exists("new"));
  disk.crash(CrashMode::kDropAll, random);
  EXPECT_FALSE(disk.exists("new")) << "POSIX: a new name is durable only after fsync(dir)";
}

TEST(DiskState, RenameAndRemoveArePendingUntilDirectorySync) {
  DiskState disk;
  Random random(1);
  ASSERT_TRUE(disk.create_directory("wal").is_ok());
  ASSERT_TRUE(disk.sync_directory("", random).is_ok());
  const auto inode = write_file(disk, random, "wal/tmp", 0, "v1");
  ASSERT_TRUE(disk.sync(inode, random).is_ok());
  ASSERT_TRUE(disk.sync_directory("wal", random).is_ok());
  ASSERT_TRUE(disk.rename("wal/tmp", "wal/final").is_ok());
  EXPECT_TRUE(disk.exists("wal/final"));
  EXPECT_FALSE(disk.exists("wal/tmp"));

  disk.crash(CrashMode::kDropAll, random);
  EXPECT_TRUE(disk.exists("wal/tmp")) << "the unsynced rename is undone by the crash";
  EXPECT_FALSE(disk.exists("wal/final"));

  ASSERT_TRUE(disk.rename("wal/tmp", "wal/final").is_ok());
  ASSERT_TRUE(disk.sync_directory("wal", random).is_ok());
  ASSERT_TRUE(disk.remove("wal/final").is_ok());
  disk.crash(CrashMode::kDropAll, random);
  EXPECT_EQ(disk.current_contents("wal/final"), "v1") << "the unsynced remove is undone";
  ASSERT_TRUE(disk.remove("wal/final").is_ok());
  ASSERT_TRUE(disk.sync_directory("wal", random).is_ok());
  disk.crash(CrashMode::kKeepAll, random);
  EXPECT_FALSE(disk.exists("wal/final"));
}

TEST(DiskState, DirectoryMustExistAndListIsSorted) {
  DiskState disk;
  Random random(1);
  EXPECT_EQ(disk.open("missing/file", OpenMode::kCreateReadWrite).code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk.open("absent", OpenMode::kReadWrite).code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk.open("", OpenMode::kCreateReadWrite).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(disk.open("a/../b", OpenMode::kCreateReadWrite).code(), ErrorCode::kInvalidInput);
  ASSERT_TRUE(disk.create_directory("d").is_ok());
  write_file(disk, random, "d/b", 0, "");
  write_file(disk, random, "d/a", 0, "");
  ASSERT_TRUE(disk.create_directory("d/sub").is_ok());
  auto listed = disk.list("d");
  ASSERT_TRUE(listed.is_ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{"d/a", "d/b"}));
  EXPECT_EQ(disk.list("nope").code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk.remove("d").code(), ErrorCode::kIoError) << "non-empty directory";
}

TEST(DiskState, OrphansOfALostDirectoryDisappearOnCrash) {
  DiskState disk;
  Random random(1);
  ASSERT_TRUE(disk.create_directory("d").is_ok());
  const auto inode = write_file(disk, random, "d/f", 0, "x");
  ASSERT_TRUE(disk.sync(inode, random).is_ok());
  ASSERT_TRUE(disk.sync_directory("d", random).is_ok());  // "d" itself never made durable
  disk.crash(CrashMode::kDropAll, random);
  EXPECT_FALSE(disk.exists("d"));
  EXPECT_FALSE(disk.exists("d/f"));
}

TEST(DiskState, WriteErrorsFailWithoutWriting) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "f", 0, "abc");
  disk.faults().fail_next_writes = 2;
  EXPECT_EQ(disk.write(inode, 0, "xyz", random).code(), ErrorCode::kIoError);
  EXPECT_EQ(disk.truncate(inode, 0, random).code(), ErrorCode::kIoError);
  EXPECT_EQ(*disk.read(inode, 0, 10), "abc");
  EXPECT_TRUE(disk.write(inode, 0, "xyz", random).is_ok()) << "next-N counts down";

  disk.faults().write_error_probability = 1.0;
  EXPECT_EQ(disk.write(inode, 0, "q", random).code(), ErrorCode::kIoError);
}

TEST(DiskState, FailedFsyncLosesThoseWritesEvenAfterALaterSuccessfulSync) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "f", 0, "");
  ASSERT_TRUE(disk.sync(inode, random).is_ok());
  ASSERT_TRUE(disk.sync_directory("", random).is_ok());
  ASSERT_TRUE(disk.write(inode, 0, "lost", random).is_ok());
  disk.faults().fail_next_syncs = 1;
  EXPECT_EQ(disk.sync(inode, random).code(), ErrorCode::kIoError);
  EXPECT_TRUE(disk.sync(inode, random).is_ok());
  EXPECT_EQ(*disk.read(inode, 0, 10), "lost") << "the page cache still shows the data";
  disk.crash(CrashMode::kKeepAll, random);
  EXPECT_EQ(disk.current_contents("f"), "") << "fsyncgate: the failed writes never hit disk";
}

TEST(DiskState, LyingFsyncLeavesWritesToTheCrash) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "f", 0, "");
  ASSERT_TRUE(disk.sync(inode, random).is_ok());
  ASSERT_TRUE(disk.sync_directory("", random).is_ok());
  disk.faults().fsync_lies = true;
  ASSERT_TRUE(disk.write(inode, 0, "believed durable", random).is_ok());
  EXPECT_TRUE(disk.sync(inode, random).is_ok()) << "the lie: fsync reports success";
  disk.crash(CrashMode::kDropAll, random);
  EXPECT_EQ(disk.current_contents("f"), "");
}

TEST(DiskState, FullDiskFailsWritesThatGrowPastCapacity) {
  DiskState disk;
  Random random(1);
  disk.faults().capacity_bytes = 10;
  const auto inode = write_file(disk, random, "f", 0, "12345678");
  EXPECT_EQ(disk.write(inode, 8, "abc", random).code(), ErrorCode::kDiskFull);
  EXPECT_EQ(*disk.read(inode, 0, 100), "12345678") << "a failed write changes nothing";
  EXPECT_TRUE(disk.write(inode, 0, "overwrite!", random).is_ok()) << "exactly at capacity";
  EXPECT_EQ(disk.used_bytes(), 10u);
  ASSERT_TRUE(disk.remove("f").is_ok());
  EXPECT_EQ(disk.used_bytes(), 0u) << "removing frees the space";
}

TEST(DiskState, BitFlipChangesExactlyOneDurableBit) {
  DiskState disk;
  Random random(1);
  const std::string original(64, '\0');
  const auto inode = write_file(disk, random, "f", 0, original);
  ASSERT_TRUE(disk.sync(inode, random).is_ok());
  ASSERT_TRUE(disk.sync_directory("", random).is_ok());
  ASSERT_TRUE(disk.flip_random_bit("f", random).is_ok());
  const std::string flipped = *disk.durable_contents("f");
  int differing_bits = 0;
  for (size_t index = 0; index < original.size(); ++index) {
    differing_bits +=
        __builtin_popcount(static_cast<unsigned char>(original[index] ^ flipped[index]));
  }
  EXPECT_EQ(differing_bits, 1);
  EXPECT_EQ(*disk.read(inode, 0, 64), flipped) << "reads see the damage";
  EXPECT_EQ(disk.flip_bit("f", 64 * 8).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(disk.flip_bit("nope", 0).code(), ErrorCode::kFileNotFound);
}

TEST(DiskState, RemovedFileStaysReadableWhileAHandleIsOpen) {
  DiskState disk;
  Random random(1);
  const auto inode = write_file(disk, random, "f", 0, "still here");
  disk.add_handle(inode);
  ASSERT_TRUE(disk.remove("f").is_ok());
  EXPECT_EQ(*disk.read(inode, 0, 100), "still here");
  disk.release_handle(inode, disk.generation());
  EXPECT_EQ(disk.used_bytes(), 0u);
}

}  // namespace
}  // namespace lockstep::sim
