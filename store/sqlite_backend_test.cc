#include "store/sqlite_backend.h"

#include <gtest/gtest.h>

#include "core/mvcc/memory_backend.h"
#include "store/memory_disk.h"

namespace lockstep::store {
namespace {

using mvcc::RevisionKey;
using mvcc::RevisionRecord;
using mvcc::WriteBatch;

RevisionKey rev(int64_t main, int64_t sub = 0) {
  return RevisionKey{Revision(main), sub};
}

RevisionRecord record(int64_t main, int64_t sub, std::string data, bool tombstone = false) {
  return RevisionRecord{rev(main, sub), tombstone, std::move(data)};
}

class SqliteBackendTest : public ::testing::Test {
 protected:
  SqliteBackendTest() {
    SqliteVfsOptions options;
    options.name = "backend-test";
    options.random_seed = 9;
    vfs_ = SqliteVfs::register_vfs(disk_, options).value();
  }
  std::unique_ptr<SqliteBackend> open_backend() {
    Result<std::unique_ptr<SqliteBackend>> backend = SqliteBackend::open(*vfs_);
    EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
    return backend ? std::move(backend).value() : nullptr;
  }
  uint64_t database_file_bytes() { return disk_.contents("mvcc/db.sqlite")->size(); }

  MemoryDisk disk_;
  std::unique_ptr<SqliteVfs> vfs_;
};

WriteBatch sample_batch(uint64_t index) {
  WriteBatch batch;
  batch.consistent_index = LogIndex(index);
  batch.revision_puts = {record(2, 0, "a=1"), record(2, 1, "b=1"), record(3, 0, "a", true)};
  batch.lease_puts = {mvcc::LeaseRecord{LeaseId(7), "ttl=10"}};
  batch.meta_puts = {{"compact_revision", "1"}};
  return batch;
}

TEST_F(SqliteBackendTest, CommitThenReadBackAfterReopen) {
  {
    std::unique_ptr<SqliteBackend> backend = open_backend();
    EXPECT_EQ(backend->consistent_index(), LogIndex(0));
    ASSERT_TRUE(backend->commit(sample_batch(5)).is_ok());
    EXPECT_EQ(backend->consistent_index(), LogIndex(5));
  }
  std::unique_ptr<SqliteBackend> backend = open_backend();
  EXPECT_EQ(backend->consistent_index(), LogIndex(5));
  EXPECT_EQ(**backend->read_revision(rev(2, 1)), record(2, 1, "b=1"));
  EXPECT_EQ(**backend->read_revision(rev(3, 0)), record(3, 0, "a", true));
  EXPECT_FALSE(backend->read_revision(rev(4, 0))->has_value());
  EXPECT_EQ(*backend->read_leases(), (std::vector<mvcc::LeaseRecord>{{LeaseId(7), "ttl=10"}}));
  EXPECT_EQ(backend->read_meta()->at("compact_revision"), "1");
}

TEST_F(SqliteBackendTest, ReadRevisionsIsHalfOpenOrderedAndPaged) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  WriteBatch batch;
  batch.consistent_index = LogIndex(1);
  for (int64_t main = 10; main >= 1; --main) batch.revision_puts.push_back(record(main, 0, "v"));
  batch.revision_puts.push_back(record(5, 1, "v"));
  ASSERT_TRUE(backend->commit(batch).is_ok());
  std::vector<RevisionRecord> page = *backend->read_revisions(rev(3), rev(6), 100);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page[0].revision, rev(3));
  EXPECT_EQ(page[2].revision, rev(5, 0));
  EXPECT_EQ(page[3].revision, rev(5, 1));
  EXPECT_EQ(backend->read_revisions(rev(1), rev(100), 3)->size(), 3u);
  EXPECT_TRUE(backend->read_revisions(rev(1), rev(100), 0)->empty());
}

TEST_F(SqliteBackendTest, ConsistentIndexMakesReplayIdempotent) {
  // etcd's consistent index: after a crash the member re-applies only entries above the
  // index stored in the same transaction as their effects, so each entry applies once.
  Random random(11);
  auto batch_for = [](uint64_t index) {
    WriteBatch batch;
    batch.consistent_index = LogIndex(index);
    batch.revision_puts = {record(static_cast<int64_t>(index) + 1, 0, "v" + std::to_string(index))};
    return batch;
  };
  {
    std::unique_ptr<SqliteBackend> backend = open_backend();
    for (uint64_t index = 1; index <= 6; ++index)
      ASSERT_TRUE(backend->commit(batch_for(index)).is_ok());
  }
  disk_.crash(CrashMode::kDrop, random);
  std::unique_ptr<SqliteBackend> backend = open_backend();
  ASSERT_EQ(backend->consistent_index(), LogIndex(6)) << "every committed batch survived";
  // The Raft log is replayed from the start; entries at or below the index are skipped.
  for (uint64_t index = 1; index <= 9; ++index) {
    if (LogIndex(index) <= backend->consistent_index()) continue;
    ASSERT_TRUE(backend->commit(batch_for(index)).is_ok());
  }
  std::vector<RevisionRecord> all = *backend->read_revisions(rev(0), rev(1000), 1000);
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].data, "v" + std::to_string(i + 1));
}

TEST_F(SqliteBackendTest, CompactionRemovesRevisionsAndDefragmentShrinksTheFile) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  const std::string value(1000, 'v');
  for (int64_t batch_number = 0; batch_number < 20; ++batch_number) {
    WriteBatch batch;
    batch.consistent_index = LogIndex(batch_number + 1);
    for (int64_t i = 0; i < 100; ++i)
      batch.revision_puts.push_back(record(batch_number * 100 + i + 1, 0, value));
    ASSERT_TRUE(backend->commit(batch).is_ok());
  }
  ASSERT_TRUE(backend->checkpoint().is_ok());
  const uint64_t full_size = backend->size_bytes();
  const uint64_t full_file = database_file_bytes();
  EXPECT_GT(full_size, 2000u * 1000u);
  // Compaction: remove all but the last 100 revisions (absent ones are fine too).
  WriteBatch compaction;
  compaction.consistent_index = LogIndex(21);
  for (int64_t main = 1; main <= 1900; ++main) compaction.revision_removals.push_back(rev(main));
  compaction.revision_removals.push_back(rev(99999));
  ASSERT_TRUE(backend->commit(compaction).is_ok());
  EXPECT_FALSE(backend->read_revision(rev(1))->has_value());
  EXPECT_TRUE(backend->read_revision(rev(1901))->has_value());
  EXPECT_EQ(backend->size_bytes(), full_size) << "freed pages stay in the file until defrag";
  EXPECT_LT(backend->size_in_use_bytes(), full_size / 5);
  const std::string before = *backend->dump();
  ASSERT_TRUE(backend->defragment().is_ok());
  EXPECT_LT(backend->size_bytes(), full_size / 5);
  EXPECT_LT(database_file_bytes(), full_file / 5) << "VACUUM returned the space to the disk";
  EXPECT_EQ(*backend->dump(), before) << "defragment changes no contents";
}

TEST_F(SqliteBackendTest, DumpMatchesTheMemoryBackendAndLoadsBack) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  mvcc::MemoryBackend reference;
  WriteBatch second;
  second.consistent_index = LogIndex(8);
  second.revision_removals = {rev(2, 0)};
  second.lease_removals = {LeaseId(7)};
  second.lease_puts = {mvcc::LeaseRecord{LeaseId(9), "x"}};
  for (const WriteBatch& batch : {sample_batch(4), second}) {
    ASSERT_TRUE(backend->commit(batch).is_ok());
    ASSERT_TRUE(reference.commit(batch).is_ok());
  }
  const std::string image = *backend->dump();
  EXPECT_EQ(image, *reference.dump()) << "the canonical image is backend-independent";
  // Load into a second database; the result dumps identically.
  SqliteBackendOptions other;
  other.path = "mvcc/other.sqlite";
  std::unique_ptr<SqliteBackend> copy = SqliteBackend::open(*vfs_, other).value();
  ASSERT_TRUE(copy->commit(sample_batch(1)).is_ok());  // contents to be replaced
  ASSERT_TRUE(copy->load(image).is_ok());
  EXPECT_EQ(copy->consistent_index(), LogIndex(8));
  EXPECT_EQ(*copy->dump(), image);
}

TEST_F(SqliteBackendTest, CorruptImageIsRejectedAndLosesNothing) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  ASSERT_TRUE(backend->commit(sample_batch(3)).is_ok());
  const std::string before = *backend->dump();
  std::string damaged = before;
  damaged[damaged.size() / 2] ^= 0x10;
  EXPECT_EQ(backend->load(damaged).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(backend->load(before.substr(0, before.size() - 3)).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(*backend->dump(), before);
}

// read_revision answers recently committed revisions from memory: it must never answer one
// that a compaction removed, a failed commit never wrote, or a loaded image replaced.
TEST_F(SqliteBackendTest, RecentRevisionReadsFollowRemovalFailureAndLoad) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  WriteBatch put;
  put.consistent_index = LogIndex(1);
  put.revision_puts = {record(5, 0, "five"), record(5, 1, "five.1")};
  ASSERT_TRUE(backend->commit(put).is_ok());
  EXPECT_EQ(backend->read_revision(rev(5, 1))->value().data, "five.1");
  const std::string image = *backend->dump();
  WriteBatch removal;
  removal.consistent_index = LogIndex(2);
  removal.revision_removals = {rev(5, 0)};
  ASSERT_TRUE(backend->commit(removal).is_ok());
  EXPECT_FALSE(backend->read_revision(rev(5, 0))->has_value());
  EXPECT_TRUE(backend->read_revision(rev(5, 1))->has_value());
  WriteBatch failed;
  failed.consistent_index = LogIndex(3);
  failed.revision_puts = {record(7, 0, std::string(5000, 'x'))};
  disk_.fail_next_writes(1);
  ASSERT_FALSE(backend->commit(failed).is_ok());
  EXPECT_FALSE(backend->read_revision(rev(7, 0))->has_value()) << "never committed";
  WriteBatch later;
  later.consistent_index = LogIndex(3);
  later.revision_puts = {record(9, 0, "nine")};
  ASSERT_TRUE(backend->commit(later).is_ok());
  ASSERT_TRUE(backend->load(image).is_ok());
  EXPECT_FALSE(backend->read_revision(rev(9, 0))->has_value()) << "not in the loaded image";
  EXPECT_EQ(backend->read_revision(rev(5, 0))->value().data, "five");
}

TEST_F(SqliteBackendTest, FailedWriteLeavesTheBackendAsItWas) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  ASSERT_TRUE(backend->commit(sample_batch(3)).is_ok());
  const std::string before = *backend->dump();
  WriteBatch big;
  big.consistent_index = LogIndex(4);
  for (int64_t main = 100; main < 400; ++main)
    big.revision_puts.push_back(record(main, 0, std::string(500, 'z')));
  disk_.fail_next_writes(1);
  const Status failed = backend->commit(big);
  EXPECT_EQ(failed.code(), ErrorCode::kIoError) << failed.to_string();
  EXPECT_NE(failed.error().detail().find("injected"), std::string::npos)
      << "the Disk's own error detail is kept: " << failed.to_string();
  EXPECT_EQ(backend->consistent_index(), LogIndex(3));
  EXPECT_EQ(*backend->dump(), before) << "all of the batch or none of it";
  ASSERT_TRUE(backend->commit(big).is_ok()) << "a failed write (not fsync) can be retried";
  EXPECT_EQ(backend->consistent_index(), LogIndex(4));
}

TEST_F(SqliteBackendTest, GroupedCommitsAreOneTransactionVisibleInside) {
  SqliteBackendOptions options;
  options.sync_every_commit = false;
  options.group_commits = true;
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    ASSERT_TRUE(backend->begin_group().is_ok());
    ASSERT_TRUE(backend->commit(sample_batch(1)).is_ok());
    WriteBatch second;
    second.consistent_index = LogIndex(2);
    second.revision_puts = {record(4, 0, "c=1")};
    ASSERT_TRUE(backend->commit(second).is_ok());
    EXPECT_EQ(backend->consistent_index(), LogIndex(2));
    EXPECT_EQ(**backend->read_revision(rev(4, 0)), record(4, 0, "c=1")) << "reads see the group";
    ASSERT_TRUE(backend->end_group().is_ok());
    ASSERT_TRUE(backend->sync().is_ok());
  }
  std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
  EXPECT_EQ(backend->consistent_index(), LogIndex(2));
  EXPECT_EQ(**backend->read_revision(rev(2, 1)), record(2, 1, "b=1"));
  EXPECT_EQ(**backend->read_revision(rev(4, 0)), record(4, 0, "c=1"));
}

// A group's pages stay in SQLite's cache until end_group() writes them, so that is where a
// disk failure surfaces; the group is then lost and the backend refuses further use (the
// member stops and replays the group from its Raft log).
TEST_F(SqliteBackendTest, AFailedGroupCommitStopsTheBackend) {
  SqliteBackendOptions options;
  options.sync_every_commit = false;
  options.group_commits = true;
  options.commits_per_transaction = 1;  // every end_group() commits
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    ASSERT_TRUE(backend->commit(sample_batch(3)).is_ok());
    ASSERT_TRUE(backend->sync().is_ok());
    ASSERT_TRUE(backend->begin_group().is_ok());
    WriteBatch big;
    big.consistent_index = LogIndex(4);
    for (int64_t main = 100; main < 400; ++main)
      big.revision_puts.push_back(record(main, 0, std::string(500, 'z')));
    ASSERT_TRUE(backend->commit(big).is_ok());
    disk_.fail_next_writes(1);
    EXPECT_FALSE(backend->end_group().is_ok());
    EXPECT_FALSE(backend->commit(sample_batch(5)).is_ok()) << "no use after a lost group";
  }
  std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
  EXPECT_EQ(backend->consistent_index(), LogIndex(3));
  EXPECT_FALSE(backend->read_revision(rev(100, 0))->has_value());
}

TEST_F(SqliteBackendTest, AGroupNeverEndedIsLostWhole) {
  SqliteBackendOptions options;
  options.sync_every_commit = false;
  options.group_commits = true;
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    ASSERT_TRUE(backend->commit(sample_batch(1)).is_ok());
    ASSERT_TRUE(backend->sync().is_ok());
    ASSERT_TRUE(backend->begin_group().is_ok());
    WriteBatch second;
    second.consistent_index = LogIndex(2);
    second.revision_puts = {record(4, 0, "c=1")};
    ASSERT_TRUE(backend->commit(second).is_ok());
    // Closed mid-group, as a crash between apply and end_group would leave it.
  }
  std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
  EXPECT_EQ(backend->consistent_index(), LogIndex(1)) << "the Raft log replays entry 2";
  EXPECT_FALSE(backend->read_revision(rev(4, 0))->has_value());
}

// Groups share one transaction until it holds commits_per_transaction commits: until then a
// close (or crash) loses all of them together, and the consistent index on disk says which
// entries the Raft log must replay.
TEST_F(SqliteBackendTest, GroupsShareATransactionUntilItIsFull) {
  SqliteBackendOptions options;
  options.sync_every_commit = false;
  options.group_commits = true;
  options.commits_per_transaction = 3;
  auto one_group = [](SqliteBackend& backend, int64_t index) {
    ASSERT_TRUE(backend.begin_group().is_ok());
    WriteBatch batch;
    batch.consistent_index = LogIndex(static_cast<uint64_t>(index));
    batch.revision_puts = {record(index + 10, 0, "v" + std::to_string(index))};
    ASSERT_TRUE(backend.commit(batch).is_ok());
    ASSERT_TRUE(backend.end_group().is_ok());
  };
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    one_group(*backend, 1);
    one_group(*backend, 2);
    EXPECT_EQ(backend->consistent_index(), LogIndex(2));
    EXPECT_EQ(backend->read_revision(rev(12, 0))->value().data, "v2") << "reads see it";
    EXPECT_EQ(*backend->read_revisions(rev(0, 0), rev(100, 0), 10),
              (std::vector<RevisionRecord>{record(11, 0, "v1"), record(12, 0, "v2")}));
  }
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    EXPECT_EQ(backend->consistent_index(), LogIndex(0)) << "two groups, not yet committed";
    EXPECT_FALSE(backend->read_revision(rev(11, 0))->has_value());
    for (int64_t index = 1; index <= 4; ++index) one_group(*backend, index);
  }
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    EXPECT_EQ(backend->consistent_index(), LogIndex(3)) << "the third group committed";
    EXPECT_EQ(backend->read_revision(rev(13, 0))->value().data, "v3");
    EXPECT_FALSE(backend->read_revision(rev(14, 0))->has_value());
    one_group(*backend, 4);
    ASSERT_TRUE(backend->begin_group().is_ok());
    EXPECT_FALSE(backend->flush().is_ok()) << "not inside a group";
    ASSERT_TRUE(backend->end_group().is_ok());
    // Everything that must see the committed file commits the open transaction first.
    ASSERT_TRUE(backend->serialize_database().is_ok());
    EXPECT_EQ(backend->durable_consistent_index(), LogIndex(3));
    ASSERT_TRUE(backend->sync().is_ok());
    EXPECT_EQ(backend->durable_consistent_index(), LogIndex(4));
  }
  std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
  EXPECT_EQ(backend->consistent_index(), LogIndex(4));
  EXPECT_EQ(backend->read_revision(rev(14, 0))->value().data, "v4");
}

TEST_F(SqliteBackendTest, ACommitOutsideAGroupCommitsTheGroupsFirst) {
  SqliteBackendOptions options;
  options.sync_every_commit = false;
  options.group_commits = true;
  {
    std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
    ASSERT_TRUE(backend->begin_group().is_ok());
    ASSERT_TRUE(backend->commit(sample_batch(1)).is_ok());
    ASSERT_TRUE(backend->end_group().is_ok());
    WriteBatch alone;
    alone.consistent_index = LogIndex(2);
    alone.revision_puts = {record(4, 0, "c=1")};
    ASSERT_TRUE(backend->commit(alone).is_ok());
  }
  std::unique_ptr<SqliteBackend> backend = SqliteBackend::open(*vfs_, options).value();
  EXPECT_EQ(backend->consistent_index(), LogIndex(2));
  EXPECT_EQ(**backend->read_revision(rev(2, 1)), record(2, 1, "b=1"));
  EXPECT_EQ(**backend->read_revision(rev(4, 0)), record(4, 0, "c=1"));
}

TEST_F(SqliteBackendTest, DiskFullIsReportedAsSuch) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  disk_.set_capacity_bytes(disk_.total_bytes() + 64 * 1024);
  WriteBatch big;
  big.consistent_index = LogIndex(1);
  for (int64_t main = 1; main < 400; ++main)
    big.revision_puts.push_back(record(main, 0, std::string(1000, 'z')));
  EXPECT_EQ(backend->commit(big).code(), ErrorCode::kDiskFull);
  EXPECT_EQ(backend->consistent_index(), LogIndex(0));
  disk_.set_capacity_bytes(std::nullopt);
  EXPECT_TRUE(backend->commit(big).is_ok());
}

TEST_F(SqliteBackendTest, FsyncFailureStopsTheBackend) {
  std::unique_ptr<SqliteBackend> backend = open_backend();
  disk_.fail_next_syncs(1);
  EXPECT_EQ(backend->commit(sample_batch(1)).code(), ErrorCode::kIoError);
  EXPECT_EQ(backend->commit(sample_batch(1)).code(), ErrorCode::kIoError)
      << "after a failed fsync nothing more is written";
  EXPECT_EQ(backend->read_leases().code(), ErrorCode::kIoError);
}

TEST_F(SqliteBackendTest, GarbageDatabaseFileIsCorruption) {
  {
    ASSERT_TRUE(disk_.create_directory("mvcc").is_ok());
    std::unique_ptr<env::File> file =
        disk_.open("mvcc/db.sqlite", env::OpenMode::kCreateReadWrite).value();
    ASSERT_TRUE(file->write(0, std::string(8192, 'g')).is_ok());
  }
  Result<std::unique_ptr<SqliteBackend>> backend = SqliteBackend::open(*vfs_);
  EXPECT_EQ(backend.code(), ErrorCode::kDataCorruption) << backend.status().to_string();
}

}  // namespace
}  // namespace lockstep::store
