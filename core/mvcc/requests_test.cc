#include "core/mvcc/requests.h"

#include <gtest/gtest.h>

#include "core/mvcc/apply_request.h"

namespace lockstep::mvcc {
namespace {

TEST(RequestsTest, EnumValuesMatchEtcdProtobuf) {
  // rpc.proto: RangeRequest.SortOrder / SortTarget, Compare.CompareResult / CompareTarget.
  EXPECT_EQ(static_cast<int>(SortOrder::kDescend), 2);
  EXPECT_EQ(static_cast<int>(SortTarget::kValue), 4);
  EXPECT_EQ(static_cast<int>(CompareResult::kNotEqual), 3);
  EXPECT_EQ(static_cast<int>(CompareResult::kLess), 2);
  EXPECT_EQ(static_cast<int>(CompareTarget::kLease), 4);
  EXPECT_EQ(static_cast<int>(CompareTarget::kValue), 3);
}

TEST(RequestsTest, NestedTxnsAreValuesThatCopyDeeply) {
  TxnRequest inner;
  inner.success.push_back(put_op(PutRequest{.key = "k", .value = "v"}));
  TxnRequest outer;
  outer.success.push_back(txn_op(inner));
  TxnRequest copy = outer;
  EXPECT_EQ(copy, outer);
  std::get<PutRequest>((*std::get<Boxed<TxnRequest>>(copy.success[0].request)).success[0].request)
      .value = "changed";
  EXPECT_NE(copy, outer);
  ApplyRequest request = outer;
  EXPECT_TRUE(std::holds_alternative<TxnRequest>(request));
}

}  // namespace
}  // namespace lockstep::mvcc
