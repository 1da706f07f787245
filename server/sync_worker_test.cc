#include "server/sync_worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "server/posix_disk.h"
#include "server/real_runtime.h"

namespace lockstep::server {
namespace {

struct DestructionFlag {
  explicit DestructionFlag(bool& destroyed) : destroyed_(destroyed) {}
  ~DestructionFlag() { destroyed_ = true; }
  bool& destroyed_;
};

class SyncWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sync_worker_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
    Result<std::unique_ptr<PosixDisk>> disk =
        PosixDisk::open_root(directory_, &runtime_.sync_worker());
    ASSERT_TRUE(disk.is_ok());
    runtime_.set_disk(std::move(disk).value());
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  RealRuntime runtime_{{NodeId(1), 3, nullptr}};
  std::string directory_;
};

TEST_F(SyncWorkerTest, SyncOnTheHelperThreadLetsOtherFibersRunMeanwhile) {
  int other_fiber_turns_during_sync = 0;
  bool syncing = false;
  bool sync_ok = false;
  runtime_.spawn("writer", [&] {
    auto file = runtime_.disk().open("wal", env::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->write(0, std::string(1 << 20, 'w')).is_ok());
    syncing = true;
    sync_ok = (*file)->sync().is_ok();
    syncing = false;
  });
  runtime_.spawn("other", [&] {
    // The writer parks inside sync(); a blocking fdatasync would give this fiber no turn
    // until it returned. The completion only arrives through a poll, after this batch.
    for (int i = 0; i < 3; ++i) {
      if (syncing) ++other_fiber_turns_during_sync;
      runtime_.yield();
    }
  });
  runtime_.run();
  EXPECT_TRUE(sync_ok);
  EXPECT_GE(other_fiber_turns_during_sync, 1);
  EXPECT_EQ(runtime_.sync_worker().completed_syncs(), 1u);
  EXPECT_EQ(runtime_.sync_worker().inline_syncs(), 0u);
}

TEST_F(SyncWorkerTest, SyncWithNothingElseToDoRunsOnTheLoopThread) {
  bool sync_ok = false;
  runtime_.spawn("writer", [&] {
    auto file = runtime_.disk().open("wal", env::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->write(0, "record").is_ok());
    sync_ok = (*file)->sync().is_ok();
  });
  runtime_.run();
  EXPECT_TRUE(sync_ok);
  EXPECT_EQ(runtime_.sync_worker().inline_syncs(), 1u);
  EXPECT_EQ(runtime_.sync_worker().completed_syncs(), 0u) << "no hand-off to the helper";
}

TEST_F(SyncWorkerTest, APostedTaskOrQueuedOutputSendsTheSyncToTheHelper) {
  bool task_ran_during_sync = false;
  bool syncing = false;
  runtime_.spawn("writer", [&] {
    auto file = runtime_.disk().open("wal", env::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->write(0, "record").is_ok());
    // As a gRPC thread posts a request while the member is about to flush its WAL.
    runtime_.loop().post([&] { task_ran_during_sync = syncing; });
    syncing = true;
    ASSERT_TRUE((*file)->sync().is_ok());
    syncing = false;
  });
  runtime_.run();
  EXPECT_TRUE(task_ran_during_sync) << "the loop ran the task while the helper flushed";
  EXPECT_EQ(runtime_.sync_worker().completed_syncs(), 1u);
  EXPECT_EQ(runtime_.sync_worker().inline_syncs(), 0u);
}

TEST_F(SyncWorkerTest, ManyFibersSyncingConcurrentlyAllComplete) {
  int completed = 0;
  for (int i = 0; i < 20; ++i) {
    runtime_.spawn("writer", [&, i] {
      auto file = runtime_.disk().open("f" + std::to_string(i), env::OpenMode::kCreateReadWrite);
      ASSERT_TRUE(file.is_ok());
      ASSERT_TRUE((*file)->write(0, "data").is_ok());
      ASSERT_TRUE((*file)->sync().is_ok());
      ++completed;
    });
  }
  runtime_.run();
  EXPECT_EQ(completed, 20);
}

TEST_F(SyncWorkerTest, FiberKilledWhileSyncingUnwindsAndTheWorkerSurvives) {
  bool unwound = false;
  runtime_.spawn("writer", [&] {
    DestructionFlag flag(unwound);
    auto file = runtime_.disk().open("wal", env::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->write(0, "x").is_ok());
    runtime_.request_stop();      // the stop lands while this fiber is parked in sync()
    runtime_.loop().post([] {});  // other work pending: the flush goes to the helper
    (void)(*file)->sync();
  });
  runtime_.run();
  EXPECT_TRUE(unwound);
  // The helper thread finishes the orphaned flush on its dup'd descriptor and joins cleanly
  // when the runtime is destroyed at the end of the test.
}

TEST(SyncWorkerErrors, FdatasyncFailureIsAnIoErrorNamingThePath) {
  RealRuntime runtime({NodeId(1), 3, nullptr});
  Status synced;
  Status synced_by_helper;
  runtime.spawn("syncer", [&] {
    // fdatasync of a pipe fails with EINVAL: a real errno from the helper thread.
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    synced = runtime.sync_worker().sync(pipe_fds[0], "pipe");
    runtime.loop().post([] {});  // the same failure from the helper thread
    synced_by_helper = runtime.sync_worker().sync(pipe_fds[0], "pipe");
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  });
  runtime.run();
  for (const Status& status : {synced, synced_by_helper}) {
    EXPECT_EQ(status.code(), ErrorCode::kIoError);
    EXPECT_NE(status.error().detail().find("fdatasync pipe"), std::string::npos)
        << status.to_string();
  }
  EXPECT_EQ(runtime.sync_worker().inline_syncs(), 0u) << "failures are not counted as syncs";
  EXPECT_EQ(runtime.sync_worker().completed_syncs(), 1u);
}

}  // namespace
}  // namespace lockstep::server
