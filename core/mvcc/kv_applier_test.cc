#include "core/mvcc/kv_applier.h"

#include <gtest/gtest.h>

#include "core/mvcc/test_harness.h"

namespace lockstep::mvcc {
namespace {

using testing::compare_create;
using testing::compare_mod;
using testing::compare_value;
using testing::compare_version;
using testing::Harness;

std::vector<std::string> keys_of(const RangeResponse& response) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : response.kvs) keys.push_back(kv.key);
  return keys;
}

// ---- Revisions ----

TEST(KvRevisionTest, FreshStoreIsAtRevisionOneAndFirstWriteGetsTwo) {
  // etcd: a new cluster reports revision 1; the first write creates revision 2.
  Harness h;
  EXPECT_EQ(h.get("a").header.revision, Revision(1));
  EXPECT_EQ(h.put("a", "1").header.revision, Revision(2));
}

TEST(KvRevisionTest, CreateModVersionFollowEtcd) {
  Harness h;
  h.put("a", "1");  // rev 2
  h.put("b", "x");  // rev 3
  h.put("a", "2");  // rev 4
  KeyValue kv = h.get("a").kvs.at(0);
  EXPECT_EQ(kv.create_revision, Revision(2));
  EXPECT_EQ(kv.mod_revision, Revision(4));
  EXPECT_EQ(kv.version, 2);
  h.del("a");       // rev 5
  h.put("a", "3");  // rev 6: created anew
  kv = h.get("a").kvs.at(0);
  EXPECT_EQ(kv.create_revision, Revision(6));
  EXPECT_EQ(kv.version, 1);
}

TEST(KvRevisionTest, DeleteOfNothingDoesNotBumpTheRevision) {
  Harness h;
  h.put("a", "1");
  DeleteRangeResponse response = h.del("zzz");
  EXPECT_EQ(response.deleted, 0);
  EXPECT_EQ(response.header.revision, Revision(2));
  EXPECT_EQ(h.machine().current_revision(), Revision(2));
}

TEST(KvRevisionTest, TxnGetsOneRevisionForAllItsWrites) {
  Harness h;
  TxnRequest txn;
  txn.success = {put_op({.key = "a", .value = "1"}), put_op({.key = "b", .value = "2"}),
                 delete_op({.key = "c"})};
  TxnResponse response = h.txn(txn);
  EXPECT_TRUE(response.succeeded);
  EXPECT_EQ(response.header.revision, Revision(2));
  EXPECT_EQ(h.get("a").kvs.at(0).mod_revision, Revision(2));
  EXPECT_EQ(h.get("b").kvs.at(0).mod_revision, Revision(2));
}

TEST(KvRevisionTest, ReadOnlyTxnDoesNotBumpTheRevision) {
  Harness h;
  h.put("a", "1");
  TxnRequest txn;
  txn.success = {range_op({.key = "a"})};
  TxnResponse response = h.txn(txn);
  EXPECT_EQ(response.header.revision, Revision(2));
  EXPECT_EQ(h.machine().current_revision(), Revision(2));
}

// ---- Range ----

class RangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // rev 2..6; "c" is modified twice so versions differ.
    h.put("a", "5");
    h.put("b", "4");
    h.put("c", "3");
    h.put("d", "2");
    h.put("c", "1");
  }
  Harness h;
};

TEST_F(RangeTest, SingleKeyPrefixAndFromKey) {
  EXPECT_EQ(keys_of(h.get("b")), std::vector<std::string>({"b"}));
  EXPECT_EQ(keys_of(h.get("b", "d")), std::vector<std::string>({"b", "c"}));
  // range_end "\0": every key >= key (etcd --from-key).
  EXPECT_EQ(keys_of(h.get("b", std::string(1, '\0'))), std::vector<std::string>({"b", "c", "d"}));
  EXPECT_EQ(keys_of(h.get(std::string(1, '\0'), std::string(1, '\0'))).size(), 4u);
  // A range_end at or before key selects nothing.
  EXPECT_TRUE(h.get("c", "a").kvs.empty());
}

TEST_F(RangeTest, LimitSetsMoreAndCountIgnoresLimit) {
  auto response = h.range({.key = "a", .range_end = "z", .limit = 2});
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(keys_of(*response), std::vector<std::string>({"a", "b"}));
  EXPECT_TRUE(response->more);
  EXPECT_EQ(response->count, 4);
  auto exact = h.range({.key = "a", .range_end = "z", .limit = 4});
  EXPECT_FALSE(exact->more);
}

TEST_F(RangeTest, CountOnlyAndKeysOnly) {
  auto counted = h.range({.key = "a", .range_end = "z", .count_only = true});
  EXPECT_TRUE(counted->kvs.empty());
  EXPECT_EQ(counted->count, 4);
  auto keys = h.range({.key = "a", .range_end = "z", .keys_only = true});
  ASSERT_EQ(keys->kvs.size(), 4u);
  EXPECT_TRUE(keys->kvs[0].value.empty());
  EXPECT_EQ(keys->kvs[0].mod_revision, Revision(2));
}

TEST_F(RangeTest, HistoricalReadAndHeaderIsCurrentRevision) {
  auto old = h.range({.key = "c", .revision = Revision(4)});
  ASSERT_EQ(old->kvs.size(), 1u);
  EXPECT_EQ(old->kvs[0].value, "3");
  // etcd reports the store's current revision in the header, not the read revision.
  EXPECT_EQ(old->header.revision, Revision(6));
  EXPECT_TRUE(h.range({.key = "d", .revision = Revision(4)})->kvs.empty());
}

TEST_F(RangeTest, FutureAndCompactedRevisions) {
  EXPECT_EQ(h.range({.key = "a", .revision = Revision(7)}).code(), ErrorCode::kFutureRevision);
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(4)});
  EXPECT_EQ(h.range({.key = "a", .revision = Revision(3)}).code(), ErrorCode::kCompacted);
  // Reading exactly at the compaction revision still works (etcd: rev < compactMainRev).
  EXPECT_TRUE(h.range({.key = "a", .revision = Revision(4)}).is_ok());
}

TEST_F(RangeTest, SortByEachTarget) {
  auto by_value = h.range({.key = "a",
                           .range_end = "z",
                           .sort_order = SortOrder::kAscend,
                           .sort_target = SortTarget::kValue});
  EXPECT_EQ(keys_of(*by_value), std::vector<std::string>({"c", "d", "b", "a"}));
  auto by_mod_desc = h.range({.key = "a",
                              .range_end = "z",
                              .sort_order = SortOrder::kDescend,
                              .sort_target = SortTarget::kMod});
  EXPECT_EQ(keys_of(*by_mod_desc), std::vector<std::string>({"c", "d", "b", "a"}));
  auto by_create = h.range({.key = "a",
                            .range_end = "z",
                            .sort_order = SortOrder::kDescend,
                            .sort_target = SortTarget::kCreate});
  EXPECT_EQ(keys_of(*by_create), std::vector<std::string>({"d", "c", "b", "a"}));
  auto by_key_desc = h.range({.key = "a", .range_end = "z", .sort_order = SortOrder::kDescend});
  EXPECT_EQ(keys_of(*by_key_desc), std::vector<std::string>({"d", "c", "b", "a"}));
}

TEST_F(RangeTest, SortOrderNoneWithNonKeyTargetMeansAscend) {
  // etcd: "sort ASCEND by default only when target is not 'KEY'".
  auto response = h.range({.key = "a", .range_end = "z", .sort_target = SortTarget::kVersion});
  EXPECT_EQ(keys_of(*response), std::vector<std::string>({"a", "b", "d", "c"}));
}

TEST_F(RangeTest, SortHappensBeforeLimit) {
  auto response = h.range({.key = "a",
                           .range_end = "z",
                           .limit = 1,
                           .sort_order = SortOrder::kDescend,
                           .sort_target = SortTarget::kKey});
  EXPECT_EQ(keys_of(*response), std::vector<std::string>({"d"}));
  EXPECT_TRUE(response->more);
  EXPECT_EQ(response->count, 4);
}

TEST_F(RangeTest, RevisionFiltersApplyAfterCount) {
  auto response = h.range({.key = "a",
                           .range_end = "z",
                           .min_mod_revision = Revision(4),
                           .max_mod_revision = Revision(5)});
  EXPECT_EQ(keys_of(*response), std::vector<std::string>({"d"}));
  EXPECT_EQ(response->count, 4);  // etcd takes count before pruning
  auto created = h.range({.key = "a",
                          .range_end = "z",
                          .min_create_revision = Revision(3),
                          .max_create_revision = Revision(4)});
  EXPECT_EQ(keys_of(*created), std::vector<std::string>({"b", "c"}));
}

TEST_F(RangeTest, EmptyKeyIsRejected) {
  EXPECT_EQ(h.range({.key = ""}).code(), ErrorCode::kEmptyKey);
}

// ---- Put ----

TEST(PutTest, PrevKvReturnsThePreviousVersion) {
  Harness h;
  h.put("k", "old");
  auto response = h.apply_ok<PutResponse>(PutRequest{.key = "k", .value = "new", .prev_kv = true});
  ASSERT_TRUE(response.prev_kv);
  EXPECT_EQ(response.prev_kv->value, "old");
  auto first = h.apply_ok<PutResponse>(PutRequest{.key = "n", .value = "v", .prev_kv = true});
  EXPECT_FALSE(first.prev_kv);
}

TEST(PutTest, LeaseMustExist) {
  Harness h;
  EXPECT_EQ(h.apply_error(PutRequest{.key = "k", .value = "v", .lease = LeaseId(9)}),
            ErrorCode::kLeaseNotFound);
  EXPECT_EQ(h.machine().current_revision(), Revision(1));
}

TEST(PutTest, IgnoreValueKeepsValueAndIgnoreLeaseKeepsLease) {
  Harness h;
  h.apply_ok<LeaseGrantResponse>(LeaseGrantRequest{.ttl_seconds = 100, .id = LeaseId(7)});
  h.put("k", "value", LeaseId(7));
  h.apply_ok<PutResponse>(PutRequest{.key = "k", .ignore_value = true, .ignore_lease = true});
  KeyValue kv = h.get("k").kvs.at(0);
  EXPECT_EQ(kv.value, "value");
  EXPECT_EQ(kv.lease, LeaseId(7));
  EXPECT_EQ(kv.version, 2);
  h.apply_ok<PutResponse>(PutRequest{.key = "k", .value = "other", .ignore_lease = true});
  kv = h.get("k").kvs.at(0);
  EXPECT_EQ(kv.value, "other");
  EXPECT_EQ(kv.lease, LeaseId(7));
}

TEST(PutTest, IgnoreFlagsErrors) {
  Harness h;
  // etcd: ErrKeyNotFound when there is nothing to keep.
  EXPECT_EQ(h.apply_error(PutRequest{.key = "k", .ignore_value = true}), ErrorCode::kKeyNotFound);
  EXPECT_EQ(h.apply_error(PutRequest{.key = "k", .ignore_lease = true}), ErrorCode::kKeyNotFound);
  h.put("k", "v");
  EXPECT_EQ(h.apply_error(PutRequest{.key = "k", .value = "x", .ignore_value = true}),
            ErrorCode::kValueProvided);
  EXPECT_EQ(h.apply_error(PutRequest{.key = "k", .lease = LeaseId(1), .ignore_lease = true}),
            ErrorCode::kLeaseProvided);
  EXPECT_EQ(h.apply_error(PutRequest{.key = "", .value = "v"}), ErrorCode::kEmptyKey);
}

// ---- DeleteRange ----

TEST(DeleteRangeTest, DeletedCountPrevKvsAndOneRevision) {
  Harness h;
  h.put("a", "1");
  h.put("b", "2");
  h.put("c", "3");
  DeleteRangeResponse response = h.del("a", "c");
  EXPECT_EQ(response.deleted, 2);
  ASSERT_EQ(response.prev_kvs.size(), 2u);
  EXPECT_EQ(response.prev_kvs[1].value, "2");
  EXPECT_EQ(response.header.revision, Revision(5));
  EXPECT_EQ(keys_of(h.get("a", std::string(1, '\0'))), std::vector<std::string>({"c"}));
  auto without = h.apply_ok<DeleteRangeResponse>(DeleteRangeRequest{.key = "c"});
  EXPECT_EQ(without.deleted, 1);
  EXPECT_TRUE(without.prev_kvs.empty());  // prev_kv not asked for
}

// ---- Txn ----

TEST(TxnTest, CompareValueChoosesTheBranch) {
  Harness h;
  h.put("k", "v1");
  TxnRequest txn;
  txn.compare = {compare_value("k", CompareResult::kEqual, "v1")};
  txn.success = {put_op({.key = "k", .value = "v2"})};
  txn.failure = {range_op({.key = "k"})};
  EXPECT_TRUE(h.txn(txn).succeeded);
  TxnResponse again = h.txn(txn);
  EXPECT_FALSE(again.succeeded);
  const auto& range = std::get<RangeResponse>(again.responses.at(0).response);
  EXPECT_EQ(range.kvs.at(0).value, "v2");
}

TEST(TxnTest, CompareTargetsAndResults) {
  Harness h;
  h.put("k", "b");  // rev 2, version 1
  h.put("k", "b");  // rev 3, version 2
  auto holds = [&](Compare compare) {
    TxnRequest txn;
    txn.compare = {std::move(compare)};
    return h.txn(txn).succeeded;
  };
  EXPECT_TRUE(holds(compare_version("k", CompareResult::kEqual, 2)));
  EXPECT_TRUE(holds(compare_version("k", CompareResult::kGreater, 1)));
  EXPECT_TRUE(holds(compare_version("k", CompareResult::kLess, 3)));
  EXPECT_TRUE(holds(compare_version("k", CompareResult::kNotEqual, 0)));
  EXPECT_TRUE(holds(compare_create("k", CompareResult::kEqual, 2)));
  EXPECT_TRUE(holds(compare_mod("k", CompareResult::kEqual, 3)));
  EXPECT_TRUE(holds(compare_value("k", CompareResult::kGreater, "a")));
  EXPECT_TRUE(holds(compare_value("k", CompareResult::kLess, "c")));
  EXPECT_TRUE(holds(Compare{.target = CompareTarget::kLease, .key = "k", .lease = kNoLease}));
}

TEST(TxnTest, MissingKeyComparesAsZeroExceptValue) {
  Harness h;
  auto holds = [&](Compare compare) {
    TxnRequest txn;
    txn.compare = {std::move(compare)};
    return h.txn(txn).succeeded;
  };
  // etcd: "create_revision = 0" is the idiom for "key does not exist".
  EXPECT_TRUE(holds(compare_create("missing", CompareResult::kEqual, 0)));
  EXPECT_TRUE(holds(compare_version("missing", CompareResult::kEqual, 0)));
  // "Always fail if comparing a value on a key/keys that doesn't exist".
  EXPECT_FALSE(holds(compare_value("missing", CompareResult::kEqual, "")));
  EXPECT_FALSE(holds(compare_value("missing", CompareResult::kNotEqual, "x")));
}

TEST(TxnTest, CompareOverARangeMustHoldForEveryKey) {
  Harness h;
  h.put("p/a", "1");
  h.put("p/b", "2");
  TxnRequest txn;
  Compare compare = compare_version("p/", CompareResult::kEqual, 1);
  compare.range_end = "p0";
  txn.compare = {compare};
  EXPECT_TRUE(h.txn(txn).succeeded);
  h.put("p/b", "3");
  EXPECT_FALSE(h.txn(txn).succeeded);
}

TEST(TxnTest, ReadsInsideATxnSeeItsOwnWrites) {
  Harness h;
  TxnRequest txn;
  txn.success = {put_op({.key = "k", .value = "mine"}), range_op({.key = "k"})};
  TxnResponse response = h.txn(txn);
  const auto& range = std::get<RangeResponse>(response.responses.at(1).response);
  ASSERT_EQ(range.kvs.size(), 1u);
  EXPECT_EQ(range.kvs[0].value, "mine");
  EXPECT_EQ(range.header.revision, Revision(2));
}

TEST(TxnTest, NestedTxnComparesAgainstTheStateBeforeTheTxn) {
  Harness h;
  TxnRequest inner;
  inner.compare = {compare_create("k", CompareResult::kEqual, 0)};
  inner.success = {put_op({.key = "inner", .value = "saw-missing"})};
  inner.failure = {put_op({.key = "inner", .value = "saw-present"})};
  TxnRequest outer;
  outer.success = {put_op({.key = "k", .value = "v"}), txn_op(inner)};
  TxnResponse response = h.txn(outer);
  EXPECT_TRUE(response.succeeded);
  const auto& nested = *std::get<Boxed<TxnResponse>>(response.responses.at(1).response);
  EXPECT_TRUE(nested.succeeded);
  EXPECT_EQ(h.get("inner").kvs.at(0).value, "saw-missing");
  EXPECT_EQ(h.get("inner").kvs.at(0).mod_revision, Revision(2));
}

TEST(TxnTest, FailedPreCheckLeavesNoWrites) {
  Harness h;
  TxnRequest txn;
  txn.success = {put_op({.key = "a", .value = "1"}),
                 put_op({.key = "b", .value = "2", .lease = LeaseId(5)})};
  EXPECT_EQ(h.apply_error(txn), ErrorCode::kLeaseNotFound);
  EXPECT_TRUE(h.get("a").kvs.empty());
  EXPECT_EQ(h.machine().current_revision(), Revision(1));
  TxnRequest ignore;
  ignore.success = {put_op({.key = "x", .ignore_value = true})};
  EXPECT_EQ(h.apply_error(ignore), ErrorCode::kKeyNotFound);
  TxnRequest future;
  future.success = {range_op({.key = "a", .revision = Revision(10)})};
  EXPECT_EQ(h.apply_error(future), ErrorCode::kFutureRevision);
}

TEST(TxnTest, TooManyOpsAtApplyFollowsTheConfiguredLimit) {
  Harness h(StateMachineOptions{.max_txn_ops = 2});
  TxnRequest txn;
  txn.success = {put_op({.key = "a"}), put_op({.key = "b"}), put_op({.key = "c"})};
  EXPECT_EQ(h.apply_error(txn), ErrorCode::kTooManyOps);
  txn.success.pop_back();
  EXPECT_TRUE(h.txn(txn).succeeded);
}

TEST(TxnTest, RangeOfACompactedRevisionFailsTheWholeTxn) {
  Harness h;
  h.put("a", "1");  // 2
  h.put("a", "2");  // 3
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(3)});
  TxnRequest txn;
  txn.success = {put_op({.key = "b", .value = "x"}),
                 range_op({.key = "a", .revision = Revision(2)})};
  EXPECT_EQ(h.apply_error(txn), ErrorCode::kCompacted);
  EXPECT_TRUE(h.get("b").kvs.empty());  // etcd checks ranges before writing anything
}

TEST(TxnTest, PutHeaderRevisionInsideTxn) {
  Harness h;
  h.put("x", "1");
  TxnRequest txn;
  txn.success = {put_op({.key = "a", .value = "1"}), delete_op({.key = "x"})};
  TxnResponse response = h.txn(txn);
  EXPECT_EQ(std::get<PutResponse>(response.responses[0].response).header.revision, Revision(3));
  EXPECT_EQ(std::get<DeleteRangeResponse>(response.responses[1].response).deleted, 1);
  // The sub revisions keep the order inside the revision: the delete comes after the put.
  EXPECT_EQ(h.machine().current_revision(), Revision(3));
}

}  // namespace
}  // namespace lockstep::mvcc
