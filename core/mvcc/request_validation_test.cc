#include "core/mvcc/request_validation.h"

#include <gtest/gtest.h>

namespace lockstep::mvcc {
namespace {

TxnRequest with_success(std::vector<RequestOp> ops) {
  TxnRequest txn;
  txn.success = std::move(ops);
  return txn;
}

TEST(RequestValidationTest, TooManyOpsCountsTheLargestList) {
  // etcd checkTxnRequest: max(len(compare), len(success), len(failure)) > --max-txn-ops.
  TxnRequest txn;
  for (int index = 0; index < 3; ++index) {
    txn.compare.push_back(Compare{.key = "k" + std::to_string(index)});
  }
  EXPECT_TRUE(validate_txn(txn, 3).is_ok());
  EXPECT_EQ(validate_txn(txn, 2).code(), ErrorCode::kTooManyOps);
  TxnRequest puts;
  for (int index = 0; index < 129; ++index) {
    puts.success.push_back(put_op({.key = "k" + std::to_string(index)}));
  }
  EXPECT_EQ(validate_txn(puts).code(), ErrorCode::kTooManyOps);
  puts.success.pop_back();
  EXPECT_TRUE(validate_txn(puts).is_ok());
}

TEST(RequestValidationTest, EmptyKeysAnywhereAreRejected) {
  TxnRequest compare;
  compare.compare = {Compare{.key = ""}};
  EXPECT_EQ(validate_txn(compare).code(), ErrorCode::kEmptyKey);
  EXPECT_EQ(validate_txn(with_success({range_op({.key = ""})})).code(), ErrorCode::kEmptyKey);
  EXPECT_EQ(validate_txn(with_success({delete_op({.key = ""})})).code(), ErrorCode::kEmptyKey);
  TxnRequest nested = with_success({txn_op(with_success({put_op({.key = ""})}))});
  EXPECT_EQ(validate_txn(nested).code(), ErrorCode::kEmptyKey);
}

TEST(RequestValidationTest, DuplicatePutsInOneBranch) {
  EXPECT_EQ(validate_txn(with_success({put_op({.key = "a"}), put_op({.key = "a"})})).code(),
            ErrorCode::kDuplicateKey);
  // Different branches of one txn never both run.
  TxnRequest branches;
  branches.success = {put_op({.key = "a"})};
  branches.failure = {put_op({.key = "a"})};
  EXPECT_TRUE(validate_txn(branches).is_ok());
}

TEST(RequestValidationTest, PutInsideADeletedRange) {
  EXPECT_EQ(
      validate_txn(with_success({delete_op({.key = "a", .range_end = "c"}), put_op({.key = "b"})}))
          .code(),
      ErrorCode::kDuplicateKey);
  EXPECT_TRUE(
      validate_txn(with_success({delete_op({.key = "a", .range_end = "c"}), put_op({.key = "c"})}))
          .is_ok());
  // Deletes may overlap each other.
  EXPECT_TRUE(validate_txn(with_success({delete_op({.key = "a", .range_end = "c"}),
                                         delete_op({.key = "b"})}))
                  .is_ok());
  EXPECT_EQ(validate_txn(with_success({delete_op({.key = "a", .range_end = std::string(1, '\0')}),
                                       put_op({.key = "zzz"})}))
                .code(),
            ErrorCode::kDuplicateKey);
}

TEST(RequestValidationTest, NestedTxnConflictsFollowCheckIntervals) {
  // A nested then-branch put conflicts with a put at the outer level.
  TxnRequest inner_then = with_success({put_op({.key = "a"})});
  EXPECT_EQ(validate_txn(with_success({txn_op(inner_then), put_op({.key = "a"})})).code(),
            ErrorCode::kDuplicateKey);
  // ... and with a delete at the outer level.
  EXPECT_EQ(validate_txn(with_success({txn_op(inner_then), delete_op({.key = "a"})})).code(),
            ErrorCode::kDuplicateKey);
  // Two nested txns putting the same key in their then-branches conflict.
  EXPECT_EQ(validate_txn(with_success({txn_op(inner_then), txn_op(inner_then)})).code(),
            ErrorCode::kDuplicateKey);
  // A nested txn whose then and else both put "a" is fine on its own.
  TxnRequest both;
  both.success = {put_op({.key = "a"})};
  both.failure = {put_op({.key = "a"})};
  EXPECT_TRUE(validate_txn(with_success({txn_op(both)})).is_ok());
}

TEST(RequestValidationTest, PutFlagCombinations) {
  EXPECT_EQ(validate_put({.key = "k", .value = "v", .ignore_value = true}).code(),
            ErrorCode::kValueProvided);
  EXPECT_EQ(validate_put({.key = "k", .lease = LeaseId(3), .ignore_lease = true}).code(),
            ErrorCode::kLeaseProvided);
  EXPECT_TRUE(validate_put({.key = "k", .ignore_value = true, .ignore_lease = true}).is_ok());
}

TEST(RequestValidationTest, RequestSizeLimit) {
  // etcd: "etcdserver: request is too large" above --max-request-bytes (1.5 MiB default).
  EXPECT_TRUE(validate_request_size(limits::kMaxRequestBytesDefault).is_ok());
  Status too_large = validate_request_size(limits::kMaxRequestBytesDefault + 1);
  EXPECT_EQ(too_large.code(), ErrorCode::kRequestTooLarge);
  EXPECT_EQ(too_large.error().message(), "etcdserver: request is too large");
  EXPECT_EQ(validate_request_size(11, 10).code(), ErrorCode::kRequestTooLarge);
}

}  // namespace
}  // namespace lockstep::mvcc
