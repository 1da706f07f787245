#include "core/mvcc/memory_backend.h"

#include <gtest/gtest.h>

#include "core/mvcc/backend_image.h"

namespace lockstep::mvcc {
namespace {

RevisionRecord record(int64_t main, int64_t sub, std::string data, bool tombstone = false) {
  return RevisionRecord{RevisionKey{Revision(main), sub}, tombstone, std::move(data)};
}

WriteBatch batch_at(uint64_t index) {
  WriteBatch batch;
  batch.consistent_index = LogIndex(index);
  return batch;
}

TEST(MemoryBackendTest, CommitStoresRecordsAndConsistentIndexTogether) {
  MemoryBackend backend;
  EXPECT_EQ(backend.consistent_index(), LogIndex(0));
  WriteBatch batch = batch_at(5);
  batch.revision_puts = {record(2, 0, "a"), record(2, 1, "b", true)};
  batch.lease_puts = {LeaseRecord{LeaseId(7), "lease"}};
  batch.meta_puts["name"] = "value";
  ASSERT_TRUE(backend.commit(batch).is_ok());

  EXPECT_EQ(backend.consistent_index(), LogIndex(5));
  auto found = backend.read_revision(RevisionKey{Revision(2), 1});
  ASSERT_TRUE(found.is_ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_TRUE((*found)->tombstone);
  EXPECT_EQ((*found)->data, "b");
  auto missing = backend.read_revision(RevisionKey{Revision(3), 0});
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(backend.read_leases()->size(), 1u);
  EXPECT_EQ(backend.read_meta()->at("name"), "value");
}

TEST(MemoryBackendTest, ReadRevisionsIsHalfOpenOrderedAndPaged) {
  MemoryBackend backend;
  WriteBatch batch = batch_at(1);
  for (int64_t main = 1; main <= 5; ++main) batch.revision_puts.push_back(record(main, 0, "x"));
  ASSERT_TRUE(backend.commit(batch).is_ok());
  auto page = backend.read_revisions(RevisionKey{Revision(2), 0}, RevisionKey{Revision(5), 0}, 2);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].revision.main, Revision(2));
  EXPECT_EQ((*page)[1].revision.main, Revision(3));
  auto rest = backend.read_revisions(RevisionKey{Revision(4), 0}, RevisionKey{Revision(5), 0}, 10);
  ASSERT_EQ(rest->size(), 1u);  // revision 5 is excluded: `until` is exclusive
}

TEST(MemoryBackendTest, RemovalsFreeSpaceUntilDefragment) {
  MemoryBackend backend;
  WriteBatch batch = batch_at(1);
  batch.revision_puts = {record(1, 0, std::string(100, 'v')), record(2, 0, "w")};
  ASSERT_TRUE(backend.commit(batch).is_ok());
  const uint64_t before = backend.size_bytes();
  WriteBatch removal = batch_at(2);
  removal.revision_removals = {RevisionKey{Revision(1), 0}, RevisionKey{Revision(9), 0}};
  ASSERT_TRUE(backend.commit(removal).is_ok());
  EXPECT_EQ(backend.revision_count(), 1u);
  EXPECT_EQ(backend.size_bytes(), before);  // freed pages stay in the file, as in bbolt
  EXPECT_LT(backend.size_in_use_bytes(), before);
  ASSERT_TRUE(backend.defragment().is_ok());
  EXPECT_EQ(backend.size_bytes(), backend.size_in_use_bytes());
}

TEST(MemoryBackendTest, DumpLoadRoundTripsEverything) {
  MemoryBackend source;
  WriteBatch batch = batch_at(42);
  batch.revision_puts = {record(1, 0, "a"), record(3, 2, "", true)};
  batch.lease_puts = {LeaseRecord{LeaseId(-3), "neg"}, LeaseRecord{LeaseId(9), "pos"}};
  batch.meta_puts["compact"] = "7";
  ASSERT_TRUE(source.commit(batch).is_ok());
  auto image = source.dump();
  ASSERT_TRUE(image.is_ok());

  MemoryBackend target;
  ASSERT_TRUE(target.load(*image).is_ok());
  EXPECT_EQ(target.consistent_index(), LogIndex(42));
  EXPECT_EQ(*read_backend_image(target), *read_backend_image(source));
  EXPECT_EQ(target.size_in_use_bytes(), source.size_in_use_bytes());
}

TEST(MemoryBackendTest, CorruptImageIsRejectedAndLosesNothing) {
  MemoryBackend source;
  WriteBatch batch = batch_at(3);
  batch.revision_puts = {record(1, 0, "payload")};
  ASSERT_TRUE(source.commit(batch).is_ok());
  std::string image = *source.dump();

  MemoryBackend target;
  WriteBatch existing = batch_at(9);
  existing.revision_puts = {record(5, 0, "keep me")};
  ASSERT_TRUE(target.commit(existing).is_ok());

  std::string flipped = image;
  flipped[flipped.size() / 2] ^= 0x10;
  EXPECT_EQ(target.load(flipped).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(target.load(image.substr(0, image.size() - 1)).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(target.load("").code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(target.consistent_index(), LogIndex(9));
  EXPECT_TRUE(target.read_revision(RevisionKey{Revision(5), 0})->has_value());
}

}  // namespace
}  // namespace lockstep::mvcc
