#include "sim/disk_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

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

// The durable bytes are kept implicitly (current bytes minus undo records) until a failed
// fsync or a bit flip; this compares them after every step of random overwrites, appends past
// the end, growing and shrinking truncates, syncs, failed syncs and bit flips with a model that
// stores them outright, and then the bytes each all-or-nothing crash mode leaves.
struct ExplicitModel {
  struct Op {
    bool truncate;
    uint64_t offset;
    std::string bytes;
    bool lost = false;
  };
  std::string durable;
  std::string current;
  std::vector<Op> pending;

  static void apply(std::string& target, const Op& op) {
    if (op.truncate) {
      target.resize(op.offset);
      return;
    }
    if (target.size() < op.offset + op.bytes.size()) target.resize(op.offset + op.bytes.size());
    target.replace(op.offset, op.bytes.size(), op.bytes);
  }
  void record(Op op) {
    apply(current, op);
    pending.push_back(std::move(op));
  }
  void sync(bool fails) {
    std::vector<Op> kept;
    for (Op& op : pending) {
      if (fails) op.lost = true;
      if (op.lost) {
        kept.push_back(std::move(op));
      } else {
        apply(durable, op);
      }
    }
    pending = std::move(kept);
  }
  std::string after_keep_all_crash() const {
    std::string result = durable;
    for (const Op& op : pending) {
      if (!op.lost) apply(result, op);
    }
    return result;
  }
};

TEST(DiskState, DurableBytesMatchAModelThatStoresThem) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    for (CrashMode mode : {CrashMode::kDropAll, CrashMode::kKeepAll}) {
      DiskState disk;
      Random random(seed);
      Random unused(0);
      ExplicitModel model;
      const auto inode = write_file(disk, unused, "f", 0, "");
      model.record({false, 0, ""});
      ASSERT_TRUE(disk.sync_directory("", unused).is_ok());
      for (int step = 0; step < 60; ++step) {
        const uint64_t size = model.current.size();
        switch (random.below(6)) {
          case 0:
          case 1: {
            const uint64_t offset = random.below(size + 8);
            const std::string bytes(random.below(12) + 1, static_cast<char>('a' + step % 26));
            ASSERT_TRUE(disk.write(inode, offset, bytes, unused).is_ok());
            model.record({false, offset, bytes});
            break;
          }
          case 2: {
            const uint64_t new_size = random.below(size + 8);
            ASSERT_TRUE(disk.truncate(inode, new_size, unused).is_ok());
            model.record({true, new_size, ""});
            break;
          }
          case 3:
          case 4: {
            const bool fails = random.chance(0.15);
            disk.faults().fail_next_syncs = fails ? 1 : 0;
            EXPECT_EQ(disk.sync(inode, unused).is_ok(), !fails);
            model.sync(fails);
            break;
          }
          default:
            if (model.durable.empty()) break;
            const uint64_t bit = random.below(model.durable.size() * 8);
            ASSERT_TRUE(disk.flip_bit("f", bit).is_ok());
            model.durable[bit / 8] = static_cast<char>(model.durable[bit / 8] ^ (1 << (bit % 8)));
            model.current = model.durable;
            for (const ExplicitModel::Op& op : model.pending)
              ExplicitModel::apply(model.current, op);
            break;
        }
        ASSERT_EQ(disk.durable_contents("f"), model.durable) << "seed " << seed << " step " << step;
        ASSERT_EQ(disk.current_contents("f"), model.current) << "seed " << seed << " step " << step;
      }
      disk.crash(mode, unused);
      EXPECT_EQ(disk.current_contents("f"),
                mode == CrashMode::kDropAll ? model.durable : model.after_keep_all_crash())
          << "seed " << seed << " " << crash_mode_name(mode);
      EXPECT_EQ(disk.durable_contents("f"), disk.current_contents("f"));
    }
  }
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
