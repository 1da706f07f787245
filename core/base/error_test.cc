#include "core/base/error.h"

#include <gtest/gtest.h>

namespace lockstep {
namespace {

TEST(Error, CarriesEtcdMessagesAndCodes) {
  const Error compacted(ErrorCode::kCompacted);
  EXPECT_EQ(compacted.message(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(compacted.grpc_code(), GrpcCode::kOutOfRange);
  EXPECT_EQ(Error(ErrorCode::kLeaseNotFound).grpc_code(), GrpcCode::kNotFound);
  EXPECT_EQ(Error(ErrorCode::kTooManyOps).message(),
            "etcdserver: too many operations in txn request");
}

TEST(Error, DetailIsAppendedForHumans) {
  EXPECT_EQ(Error(ErrorCode::kIoError, "wal/0001.log").to_string(),
            "input/output error: wal/0001.log");
}

Result<int> parse_positive(int value) {
  if (value <= 0) return Error(ErrorCode::kInvalidInput, "not positive");
  return value;
}

Status twice_positive(int value) {
  RETURN_IF_ERROR(parse_positive(value));
  return Status::ok();
}

TEST(Result, HoldsValueOrError) {
  EXPECT_EQ(parse_positive(3).value(), 3);
  EXPECT_EQ(parse_positive(-1).code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(twice_positive(2).is_ok());
  EXPECT_EQ(twice_positive(0).code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace lockstep
