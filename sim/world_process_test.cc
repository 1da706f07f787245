#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/env/event.h"
#include "sim/world.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr NodeId kNode{1};

Instant at(Duration duration) {
  return Instant(duration);
}

struct CountsDestruction {
  explicit CountsDestruction(int& count) : count_(count) {}
  ~CountsDestruction() { ++count_; }
  int& count_;
};

TEST(WorldProcess, CrashUnwindsEveryFiberStack) {
  World world(WorldOptions::seeded(1));
  int destroyed = 0;
  int ran_past_block = 0;
  ASSERT_TRUE(world
                  .add_process(kNode, "victim",
                               [&](env::Runtime& runtime) {
                                 runtime.spawn("parked", [&] {
                                   CountsDestruction guard(destroyed);
                                   runtime.park(std::nullopt);
                                   ++ran_past_block;
                                 });
                                 runtime.spawn("receiving", [&] {
                                   CountsDestruction guard(destroyed);
                                   runtime.network().receive(std::nullopt);
                                   ++ran_past_block;
                                 });
                                 CountsDestruction guard(destroyed);
                                 runtime.sleep_for(seconds(100));
                                 ++ran_past_block;
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  EXPECT_EQ(destroyed, 0);
  world.crash(kNode, CrashMode::kDropAll);
  EXPECT_EQ(destroyed, 3) << "every fiber's stack unwinds, running destructors";
  EXPECT_EQ(ran_past_block, 0) << "no fiber resumes normally after a crash";
  EXPECT_EQ(world.state(kNode), ProcessState::kCrashed);
  world.run_until(at(seconds(200)));
  EXPECT_EQ(ran_past_block, 0) << "a crashed process's timers never fire";
}

// Flushes on destruction, as a buffered writer might: disk I/O (with latency) from a
// destructor that runs while a crash unwinds the fiber.
struct FlushOnClose {
  env::File& file;
  ~FlushOnClose() {
    (void)file.write(0, "flushed while dying");
    (void)file.sync();
  }
};

TEST(WorldProcess, DestructorsMayDoIoWhileACrashUnwinds) {
  World world(WorldOptions::seeded(1));
  ASSERT_TRUE(world
                  .add_process(kNode, "flusher",
                               [&](env::Runtime& runtime) {
                                 auto file =
                                     runtime.disk().open("f", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 ASSERT_TRUE(runtime.disk().sync_directory("").is_ok());
                                 FlushOnClose flusher{**file};
                                 runtime.park(std::nullopt);
                               })
                  .is_ok());
  world.disk_faults(kNode).latency_max = milliseconds(1);
  world.run_until(at(seconds(1)));
  world.crash(kNode, CrashMode::kKeepAll);
  // The write happened at the moment of the crash; the crash mode then decided its fate.
  EXPECT_EQ(world.disk(kNode).current_contents("f"), "flushed while dying");
}

TEST(WorldProcess, RestartRunsMainAgainWithWhatTheDiskKept) {
  World world(WorldOptions::seeded(2));
  std::vector<std::string> boots;
  ASSERT_TRUE(world
                  .add_process(kNode, "booter",
                               [&](env::Runtime& runtime) {
                                 auto& disk = runtime.disk();
                                 auto file = disk.open("boots", env::OpenMode::kCreateReadWrite);
                                 ASSERT_TRUE(file.is_ok());
                                 const uint64_t size = *(*file)->size();
                                 boots.push_back(*(*file)->read(0, size));
                                 ASSERT_TRUE((*file)->write(size, "synced,").is_ok());
                                 ASSERT_TRUE((*file)->sync().is_ok());
                                 ASSERT_TRUE(disk.sync_directory("").is_ok());
                                 ASSERT_TRUE((*file)->write(size + 7, "unsynced,").is_ok());
                                 runtime.park(std::nullopt);
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  world.crash(kNode, CrashMode::kDropAll);
  EXPECT_EQ(world.restart(kNode).code(), ErrorCode::kOk);
  EXPECT_EQ(world.restart(kNode).code(), ErrorCode::kInvalidInput) << "already running";
  world.run_until(at(seconds(2)));
  world.crash(kNode, CrashMode::kKeepAll);
  ASSERT_TRUE(world.restart(kNode).is_ok());
  world.run_until(at(seconds(3)));
  EXPECT_EQ(boots, (std::vector<std::string>{"", "synced,", "synced,synced,unsynced,"}));
}

TEST(WorldProcess, EachIncarnationGetsItsOwnRandomStream) {
  World world(WorldOptions::seeded(3));
  std::vector<uint64_t> draws;
  ASSERT_TRUE(
      world
          .add_process(kNode, "drawer",
                       [&](env::Runtime& runtime) { draws.push_back(runtime.random().next_u64()); })
          .is_ok());
  world.run_until(at(seconds(1)));
  world.crash(kNode, CrashMode::kDropAll);
  ASSERT_TRUE(world.restart(kNode).is_ok());
  world.run_until(at(seconds(2)));
  ASSERT_EQ(draws.size(), 2u);
  EXPECT_NE(draws[0], draws[1]);
}

TEST(WorldProcess, PausedProcessRunsNothingAndCatchesUpOnResume) {
  World world(WorldOptions::seeded(4));
  std::vector<Instant> ticks;
  ASSERT_TRUE(world
                  .add_process(kNode, "ticker",
                               [&](env::Runtime& runtime) {
                                 while (true) {
                                   runtime.sleep_for(milliseconds(100));
                                   ticks.push_back(world.now());
                                 }
                               })
                  .is_ok());
  world.run_until(at(milliseconds(250)));
  EXPECT_EQ(ticks.size(), 2u);
  world.pause(kNode);
  world.run_until(at(milliseconds(1000)));
  EXPECT_EQ(ticks.size(), 2u) << "timers of a paused process do not run";
  world.resume(kNode);
  world.run_until(at(milliseconds(1000)));
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[2], at(milliseconds(1000))) << "the overdue sleep ends at the resume";
  world.run_until(at(milliseconds(1100)));
  EXPECT_EQ(ticks.size(), 4u);
}

TEST(WorldProcess, AddProcessRejectsBadInput) {
  World world(WorldOptions::seeded(5));
  EXPECT_EQ(world.add_process(kNoNode, "zero", [](env::Runtime&) {}).code(),
            ErrorCode::kInvalidInput);
  ASSERT_TRUE(world.add_process(kNode, "one", [](env::Runtime&) {}).is_ok());
  EXPECT_EQ(world.add_process(kNode, "dup", [](env::Runtime&) {}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(world.add_process(NodeId(2), "no main", nullptr).code(), ErrorCode::kInvalidInput);
}

// How many of `passes` passes through one buggify site fired, for a seed.
int buggify_fires(uint64_t seed, bool enabled, int passes) {
  WorldOptions options = WorldOptions::seeded(seed);
  options.buggify_enabled = enabled;
  World world(options);
  int fired = 0;
  EXPECT_TRUE(world
                  .add_process(kNode, "buggy",
                               [&](env::Runtime& runtime) {
                                 for (int pass = 0; pass < passes; ++pass)
                                   fired += BUGGIFY(runtime) ? 1 : 0;
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  return fired;
}

TEST(WorldProcess, BuggifySitesAreEnabledPerRunAndFireSometimes) {
  int runs_with_site_enabled = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const int fired = buggify_fires(seed, true, 400);
    EXPECT_EQ(buggify_fires(seed, false, 400), 0) << "the world switch turns buggify off";
    if (fired == 0) continue;
    ++runs_with_site_enabled;
    // An enabled site fires with probability 1/4 per pass: Binomial(400, 0.25) ≈ 100 ± 8.7.
    EXPECT_GT(fired, 50);
    EXPECT_LT(fired, 150);
  }
  // Enabled in about a quarter of runs: Binomial(200, 0.25) ≈ 50 ± 6.1.
  EXPECT_GT(runs_with_site_enabled, 20);
  EXPECT_LT(runs_with_site_enabled, 80);
}

TEST(WorldProcess, ProbesRecordWhichCodeRan) {
  World world(WorldOptions::seeded(6));
  ASSERT_TRUE(world
                  .add_process(kNode, "prober",
                               [](env::Runtime& runtime) {
                                 for (int pass = 0; pass < 3; ++pass) PROBE(runtime, "loop body");
                                 if (runtime.now() < Instant()) PROBE(runtime, "never");
                                 PROBE(runtime, std::string("dynamic ") + "name");
                               })
                  .is_ok());
  world.run_until(at(seconds(1)));
  const std::vector<ProbeHit> hits = world.probes_hit();
  ASSERT_EQ(hits.size(), 2u);
  std::map<std::string, uint64_t> by_name;
  for (const ProbeHit& hit : hits) {
    by_name[hit.name] = hit.hits;
    EXPECT_TRUE(hit.site.starts_with("sim/world_process_test.cc:")) << hit.site;
  }
  EXPECT_EQ(by_name["loop body"], 3u);
  EXPECT_EQ(by_name["dynamic name"], 1u);
}

TEST(WorldProcess, SourcePathsAreRepositoryRelative) {
  EXPECT_EQ(repository_relative_path("/home/me/lockstep/core/node/member.cc"),
            "core/node/member.cc");
  EXPECT_EQ(repository_relative_path("/x/sim/checkout/sim/world.cc"), "sim/world.cc");
  EXPECT_EQ(repository_relative_path("sim/world.cc"), "sim/world.cc");
  EXPECT_EQ(repository_relative_path("elsewhere.cc"), "elsewhere.cc");
}

TEST(WorldProcess, WorldDestructionUnwindsLiveFibers) {
  int destroyed = 0;
  {
    World world(WorldOptions::seeded(7));
    ASSERT_TRUE(world
                    .add_process(kNode, "forever",
                                 [&](env::Runtime& runtime) {
                                   CountsDestruction guard(destroyed);
                                   env::Event never(runtime);
                                   never.wait();
                                 })
                    .is_ok());
    world.run_until(at(seconds(1)));
  }
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace lockstep::sim
