#include "core/mvcc/state_machine.h"

#include <gtest/gtest.h>

#include "core/base/random.h"
#include "core/mvcc/backend_image.h"
#include "core/mvcc/test_harness.h"

namespace lockstep::mvcc {
namespace {

using testing::Harness;

// ---- Compaction ----

TEST(CompactionTest, ErrorsForOldAndFutureRevisions) {
  Harness h;
  h.put("a", "1");  // 2
  h.put("a", "2");  // 3
  EXPECT_EQ(h.apply_error(CompactionRequest{.revision = Revision(4)}), ErrorCode::kFutureRevision);
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(3)});
  EXPECT_EQ(h.apply_error(CompactionRequest{.revision = Revision(3)}), ErrorCode::kCompacted);
  EXPECT_EQ(h.apply_error(CompactionRequest{.revision = Revision(2)}), ErrorCode::kCompacted);
  EXPECT_EQ(h.machine().compact_revision(), Revision(3));
}

TEST(CompactionTest, KeepsLatestVersionOfEveryKeyAndRemovesTheRestPhysically) {
  Harness h;
  h.put("a", "1");  // 2
  h.put("a", "2");  // 3
  h.put("b", "1");  // 4
  h.del("b");       // 5
  h.put("c", "1");  // 6
  EXPECT_EQ(h.backend().revision_count(), 5u);
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(5)});
  // Left: a@3 (newest of a at or below 5), b's tombstone at the compaction revision itself
  // (a watch from 5 must still see that delete, etcd#18089) and c@6. b's put is gone.
  EXPECT_EQ(h.backend().revision_count(), 3u);
  EXPECT_TRUE(h.get("b", "", Revision(5)).kvs.empty());
  RangeResponse at5 = h.get("a", std::string(1, '\0'), Revision(5));
  ASSERT_EQ(at5.kvs.size(), 1u);
  EXPECT_EQ(at5.kvs[0].value, "2");
  EXPECT_EQ(at5.kvs[0].version, 2);
  EXPECT_EQ(h.get("a", std::string(1, '\0')).kvs.size(), 2u);
}

TEST(CompactionTest, CompactedStoreSurvivesReboot) {
  Harness h;
  h.put("a", "1");  // 2
  h.put("a", "2");  // 3
  h.put("a", "3");  // 4
  h.del("z");       // no-op
  h.put("t", "x");  // 5
  h.del("t");       // 6
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(6)});
  h.reboot();
  // The tombstone at the compaction revision survives it and the reboot (etcd#19179).
  EXPECT_EQ(h.machine().current_revision(), Revision(6));
  EXPECT_EQ(h.machine().compact_revision(), Revision(6));
  KeyValue a = h.get("a").kvs.at(0);
  EXPECT_EQ(a.create_revision, Revision(2));
  EXPECT_EQ(a.version, 3);
  EXPECT_EQ(h.put("a", "4").header.revision, Revision(7));
  EXPECT_EQ(h.get("a").kvs.at(0).version, 4);
  EXPECT_TRUE(h.get("t").kvs.empty());
  // The next compaction removes it, and the store boots again without it.
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(7)});
  h.reboot();
  EXPECT_TRUE(h.get("t").kvs.empty());
  EXPECT_EQ(h.put("t", "y").header.revision, Revision(8));
  EXPECT_EQ(h.get("t").kvs.at(0).version, 1);
}

// ---- Apply, replay, restore ----

TEST(StateMachineTest, ReplayedEntriesAreSkipped) {
  Harness h;
  h.put("a", "1");
  // Re-applying index 1 (as after a crash before the node learned it was applied).
  Result<ApplyOutcome> again = h.machine().apply(LogIndex(1), PutRequest{.key = "a", .value = "1"});
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(h.get("a").kvs.at(0).version, 1);
  EXPECT_EQ(h.machine().current_revision(), Revision(2));
}

TEST(StateMachineTest, FailedRequestsStillAdvanceTheConsistentIndex) {
  Harness h;
  EXPECT_EQ(h.apply_error(PutRequest{.key = "", .value = "v"}), ErrorCode::kEmptyKey);
  EXPECT_EQ(h.machine().applied_index(), LogIndex(1));
  h.apply_ok<RangeResponse>(RangeRequest{.key = "a"});
  EXPECT_EQ(h.machine().applied_index(), LogIndex(2));
}

TEST(StateMachineTest, RebootRebuildsIndexLeasesAndRevisions) {
  Harness h;
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(5)});
  h.put("a", "1", LeaseId(5));
  h.put("b", "2");
  h.del("b");
  h.put("b", "3");
  RangeResponse before = h.get("a", std::string(1, '\0'));
  h.reboot();
  RangeResponse after = h.get("a", std::string(1, '\0'));
  EXPECT_EQ(after, before);
  EXPECT_EQ(h.machine().lessor().keys_of(LeaseId(5)), std::vector<std::string>({"a"}));
  // Revoking after the reboot still deletes the attached key.
  h.apply_ok<LeaseRevokeResponse>(LeaseRevokeRequest{.id = LeaseId(5)});
  EXPECT_TRUE(h.get("a").kvs.empty());
}

TEST(StateMachineTest, SnapshotInstallReproducesTheState) {
  Harness leader;
  leader.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 60, .id = LeaseId(9)});
  leader.put("x", "1", LeaseId(9));
  leader.put("y", "2");
  leader.put("y", "3");
  leader.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(3)});
  Result<std::string> image = leader.machine().snapshot();
  ASSERT_TRUE(image.is_ok());

  Harness follower;
  follower.put("stale", "value");
  ASSERT_TRUE(follower.machine().install_snapshot(*image).is_ok());
  EXPECT_EQ(follower.get("a", std::string(1, '\0')).kvs, leader.get("a", std::string(1, '\0')).kvs);
  EXPECT_EQ(follower.machine().current_revision(), leader.machine().current_revision());
  EXPECT_EQ(follower.machine().compact_revision(), Revision(3));
  EXPECT_EQ(follower.machine().applied_index(), leader.machine().applied_index());
  EXPECT_TRUE(follower.machine().lessor().exists(LeaseId(9)));

  std::string corrupt = *image;
  corrupt[corrupt.size() / 2] ^= 1;
  EXPECT_EQ(follower.machine().install_snapshot(corrupt).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(follower.get("x").kvs.at(0).value, "1");  // the bad image changed nothing
}

TEST(StateMachineTest, HashKvMatchesAcrossMembersAndDetectsDivergence) {
  Harness one;
  Harness two;
  for (Harness* h : {&one, &two}) {
    h->put("a", "1");
    h->put("b", "2");
    h->del("a");
  }
  auto hash_one = one.machine().kv().hash_kv(Revision(0));
  auto hash_two = two.machine().kv().hash_kv(Revision(0));
  ASSERT_TRUE(hash_one.is_ok());
  EXPECT_EQ(hash_one->hash, hash_two->hash);
  EXPECT_EQ(hash_one->revision, Revision(4));
  // Hashing at an older revision ignores later writes.
  auto at3 = one.machine().kv().hash_kv(Revision(3));
  one.put("c", "3");
  EXPECT_EQ(one.machine().kv().hash_kv(Revision(3))->hash, at3->hash);
  two.put("c", "different");
  EXPECT_NE(one.machine().kv().hash_kv(Revision(5))->hash,
            two.machine().kv().hash_kv(Revision(5))->hash);
  EXPECT_EQ(one.machine().kv().hash_kv(Revision(6)).code(), ErrorCode::kFutureRevision);
}

TEST(StateMachineTest, CorruptRecordIsReportedAtRestoreAndNothingIsServed) {
  Harness h;
  h.put("a", "1");
  WriteBatch garbage;
  garbage.consistent_index = LogIndex(2);
  garbage.revision_puts = {RevisionRecord{RevisionKey{Revision(3), 0}, false, "not a record"}};
  ASSERT_TRUE(h.backend().commit(garbage).is_ok());
  StateMachine rebooted(h.backend());
  EXPECT_EQ(rebooted.restore().code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(rebooted.range(RangeRequest{.key = "a"}).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(rebooted.apply(LogIndex(3), PutRequest{.key = "b", .value = "v"}).code(),
            ErrorCode::kDataCorruption);
  EXPECT_EQ(h.backend().revision_count(), 2u);  // nothing was thrown away
}

// A backend whose next commit fails, to check that a disk failure stops the state machine.
class FailingBackend final : public Backend {
 public:
  Status commit(const WriteBatch& batch) override {
    if (fail_next_commit) return Error(ErrorCode::kIoError, "injected");
    return inner.commit(batch);
  }
  LogIndex consistent_index() const override { return inner.consistent_index(); }
  Result<std::optional<RevisionRecord>> read_revision(RevisionKey revision) const override {
    return inner.read_revision(revision);
  }
  Result<std::vector<RevisionRecord>> read_revisions(RevisionKey from, RevisionKey until,
                                                     size_t limit) const override {
    return inner.read_revisions(from, until, limit);
  }
  Result<std::vector<LeaseRecord>> read_leases() const override { return inner.read_leases(); }
  Result<std::map<std::string, std::string>> read_meta() const override {
    return inner.read_meta();
  }
  uint64_t size_bytes() const override { return inner.size_bytes(); }
  uint64_t size_in_use_bytes() const override { return inner.size_in_use_bytes(); }
  Status defragment() override { return inner.defragment(); }
  Result<std::string> dump() const override { return inner.dump(); }
  Status load(std::string_view image) override { return inner.load(image); }

  MemoryBackend inner;
  bool fail_next_commit = false;
};

TEST(StateMachineTest, BackendFailureStopsUntilRestore) {
  FailingBackend backend;
  StateMachine machine(backend);
  ASSERT_TRUE(machine.apply(LogIndex(1), PutRequest{.key = "a", .value = "1"}).is_ok());
  backend.fail_next_commit = true;
  EXPECT_EQ(machine.apply(LogIndex(2), PutRequest{.key = "a", .value = "2"}).code(),
            ErrorCode::kIoError);
  EXPECT_EQ(machine.failure().code(), ErrorCode::kIoError);
  EXPECT_EQ(machine.range(RangeRequest{.key = "a"}).code(), ErrorCode::kIoError);
  backend.fail_next_commit = false;
  ASSERT_TRUE(machine.restore().is_ok());
  // The in-memory write that never reached the disk is gone; entry 2 can be applied again.
  EXPECT_EQ(machine.range(RangeRequest{.key = "a"})->kvs.at(0).value, "1");
  ASSERT_TRUE(machine.apply(LogIndex(2), PutRequest{.key = "a", .value = "2"}).is_ok());
  EXPECT_EQ(machine.range(RangeRequest{.key = "a"})->kvs.at(0).value, "2");
  EXPECT_EQ(machine.current_revision(), Revision(3));
}

TEST(StateMachineTest, ReplayAfterRandomCommitFailuresConvergesToTheSameState) {
  // The node's recovery path: when a commit fails, rebuild from the backend and re-apply the
  // log from the backend's consistent index. Whatever commits failed, the end state must be
  // the one of a run where none did, because index and effects land atomically.
  Random random(42);
  std::vector<ApplyRequest> log;
  for (int index = 0; index < 400; ++index) {
    const std::string key(1, static_cast<char>('a' + random.below(6)));
    switch (random.below(5)) {
      case 0:
        log.push_back(DeleteRangeRequest{.key = key, .range_end = "d"});
        break;
      case 1: {
        TxnRequest txn;
        txn.compare = {Compare{.result = CompareResult::kGreater,
                               .target = CompareTarget::kVersion,
                               .key = key,
                               .version = 2}};
        txn.success = {delete_op({.key = key})};
        txn.failure = {put_op({.key = key, .value = "t" + std::to_string(index)})};
        log.push_back(txn);
        break;
      }
      case 2:
        log.push_back(CompactionRequest{.revision = Revision(std::max<int64_t>(1, index / 2))});
        break;
      default:
        log.push_back(PutRequest{.key = key, .value = std::to_string(index)});
    }
  }
  MemoryBackend reference_backend;
  StateMachine reference(reference_backend);
  for (size_t index = 0; index < log.size(); ++index) {
    ASSERT_TRUE(reference.apply(LogIndex(index + 1), log[index]).is_ok());
  }

  FailingBackend backend;
  StateMachine machine(backend);
  size_t next = 0;
  int failures = 0;
  while (next < log.size()) {
    backend.fail_next_commit = random.chance(0.2);
    Result<ApplyOutcome> outcome = machine.apply(LogIndex(next + 1), log[next]);
    if (outcome.is_ok()) {
      ++next;
      continue;
    }
    ++failures;
    backend.fail_next_commit = false;
    ASSERT_TRUE(machine.restore().is_ok());
    next = static_cast<size_t>(machine.applied_index().value());  // replay from here
  }
  EXPECT_GT(failures, 10);
  EXPECT_EQ(machine.current_revision(), reference.current_revision());
  EXPECT_EQ(machine.compact_revision(), reference.compact_revision());
  EXPECT_EQ(machine.kv().hash_kv(Revision(0))->hash, reference.kv().hash_kv(Revision(0))->hash);
  EXPECT_EQ(*read_backend_image(backend), *read_backend_image(reference_backend));
}

}  // namespace
}  // namespace lockstep::mvcc
