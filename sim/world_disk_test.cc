#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/world.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr NodeId kNode{1};

Instant at(Duration duration) {
  return Instant(duration);
}

TEST(WorldDisk, WriteAndSyncErrorsSurfaceAsStatusValues) {
  World world(WorldOptions::seeded(1));
  std::vector<ErrorCode> codes;
  ASSERT_TRUE(world
                  .add_process(kNode, "writer",
                               [&](env::Runtime& runtime) {
                                 auto file =
                                     runtime.disk().open("f", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 world.disk_faults(kNode).fail_next_writes = 1;
                                 codes.push_back((*file)->write(0, "a").code());
                                 codes.push_back((*file)->write(0, "a").code());
                                 world.disk_faults(kNode).fail_next_syncs = 1;
                                 codes.push_back((*file)->sync().code());
                                 world.disk_faults(kNode).capacity_bytes = 4;
                                 codes.push_back((*file)->write(1, "bcdef").code());
                                 codes.push_back(
                                     runtime.disk().open("nope", env::OpenMode::kReadWrite).code());
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(codes, (std::vector<ErrorCode>{ErrorCode::kIoError, ErrorCode::kOk, ErrorCode::kIoError,
                                           ErrorCode::kDiskFull, ErrorCode::kFileNotFound}));
}

TEST(WorldDisk, LatencySleepsTheCallingFiberInVirtualTime) {
  World world(WorldOptions::seeded(2));
  std::vector<Duration> write_durations;
  ASSERT_TRUE(world
                  .add_process(kNode, "slow",
                               [&](env::Runtime& runtime) {
                                 auto file =
                                     runtime.disk().open("f", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 for (int index = 0; index < 20; ++index) {
                                   const Instant before = runtime.now();
                                   ASSERT_TRUE((*file)->write(0, "x").is_ok());
                                   write_durations.push_back(runtime.now() - before);
                                 }
                               })
                  .is_ok());
  // Set before the process first runs (add_process only makes its main fiber ready).
  world.disk_faults(kNode).latency_min = milliseconds(2);
  world.disk_faults(kNode).latency_max = milliseconds(8);
  world.run_until(at(seconds(1)));
  ASSERT_EQ(write_durations.size(), 20u);
  bool varied = false;
  for (Duration duration : write_durations) {
    EXPECT_GE(duration, milliseconds(2));
    EXPECT_LE(duration, milliseconds(8));
    varied = varied || duration != write_durations[0];
  }
  EXPECT_TRUE(varied) << "latency is drawn per operation";
}

TEST(WorldDisk, CrashKeepsSyncedBytesAndResolvesUnsyncedOnesByMode) {
  World world(WorldOptions::seeded(3));
  ASSERT_TRUE(world
                  .add_process(kNode, "writer",
                               [&](env::Runtime& runtime) {
                                 ASSERT_TRUE(runtime.disk().create_directory("data").is_ok());
                                 ASSERT_TRUE(runtime.disk().sync_directory("").is_ok());
                                 auto file = runtime.disk().open("data/log",
                                                                 env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 ASSERT_TRUE((*file)->write(0, "committed|").is_ok());
                                 ASSERT_TRUE((*file)->sync().is_ok());
                                 ASSERT_TRUE(runtime.disk().sync_directory("data").is_ok());
                                 ASSERT_TRUE((*file)->write(10, "pending").is_ok());
                                 runtime.park(std::nullopt);
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(world.disk(kNode).current_contents("data/log"), "committed|pending");
  EXPECT_EQ(world.disk(kNode).durable_contents("data/log"), "committed|");
  world.crash(kNode, CrashMode::kDropAll);
  EXPECT_EQ(world.disk(kNode).current_contents("data/log"), "committed|");
}

TEST(WorldDisk, HandlesFromBeforeACrashAreStale) {
  World world(WorldOptions::seeded(4));
  std::unique_ptr<env::File> leaked;
  ASSERT_TRUE(world
                  .add_process(kNode, "leaker",
                               [&](env::Runtime& runtime) {
                                 auto file =
                                     runtime.disk().open("f", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 leaked =
                                     std::move(*file);  // outlives the process's fibers on purpose
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  world.crash(kNode, CrashMode::kKeepAll);
  ASSERT_TRUE(world.restart(kNode).is_ok());
  EXPECT_EQ(leaked->size().code(), ErrorCode::kIoError);
  leaked.reset();
}

TEST(WorldDisk, BitFlipThroughTheWorldChangesDurableBytes) {
  World world(WorldOptions::seeded(5));
  ASSERT_TRUE(world
                  .add_process(kNode, "writer",
                               [&](env::Runtime& runtime) {
                                 auto file =
                                     runtime.disk().open("f", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 ASSERT_TRUE((*file)->write(0, std::string(32, 'a')).is_ok());
                                 ASSERT_TRUE((*file)->sync().is_ok());
                                 ASSERT_TRUE(runtime.disk().sync_directory("").is_ok());
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  ASSERT_TRUE(world.flip_random_bit(kNode, "f").is_ok());
  EXPECT_NE(world.disk(kNode).durable_contents("f"), std::string(32, 'a'));
  EXPECT_EQ(world.flip_random_bit(kNode, "missing").code(), ErrorCode::kFileNotFound);
}

}  // namespace
}  // namespace lockstep::sim
