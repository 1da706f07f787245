#include "server/api/proto_convert.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace lockstep::api {
namespace {

using google::protobuf::util::MessageDifferencer;

etcdserverpb::TxnRequest nested_txn_request() {
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* compare = request.add_compare();
  compare->set_key("config");
  compare->set_target(etcdserverpb::Compare::MOD);
  compare->set_result(etcdserverpb::Compare::LESS);
  compare->set_mod_revision(42);
  compare->set_range_end("confih");
  etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
  put->set_key("config");
  put->set_value(std::string("v\0\xff", 3));  // bytes, not text
  put->set_lease(7);
  put->set_prev_kv(true);
  etcdserverpb::TxnRequest* inner = request.add_success()->mutable_request_txn();
  inner->add_failure()->mutable_request_delete_range()->set_key("stale");
  etcdserverpb::RangeRequest* range = request.add_failure()->mutable_request_range();
  range->set_key("config");
  range->set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  range->set_sort_target(etcdserverpb::RangeRequest::CREATE);
  range->set_revision(9);
  range->set_serializable(true);
  return request;
}

TEST(ProtoConvert, TxnRequestSurvivesARoundTripThroughMvccTypes) {
  const etcdserverpb::TxnRequest original = nested_txn_request();
  const Result<mvcc::TxnRequest> converted = from_proto(original);
  ASSERT_TRUE(converted.is_ok()) << converted.error();
  ASSERT_EQ(converted->success.size(), 2u);
  const auto& put = std::get<mvcc::PutRequest>(converted->success[0].request);
  EXPECT_EQ(put.value, std::string("v\0\xff", 3));
  EXPECT_EQ(put.lease, LeaseId(7));
  EXPECT_EQ(converted->compare[0].mod_revision, Revision(42));
  const etcdserverpb::TxnRequest back = to_proto(*converted);
  EXPECT_TRUE(MessageDifferencer::Equals(original, back)) << back.DebugString();
}

// etcd's apply reads the union member named by `target`; a union holding another member
// compares against zero. Copying the member that is set keeps exactly that behaviour.
TEST(ProtoConvert, CompareUnionThatDisagreesWithTargetComparesAgainstZero) {
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* compare = request.add_compare();
  compare->set_key("k");
  compare->set_target(etcdserverpb::Compare::VERSION);
  compare->set_mod_revision(5);
  const Result<mvcc::TxnRequest> converted = from_proto(request);
  ASSERT_TRUE(converted.is_ok());
  EXPECT_EQ(converted->compare[0].version, 0);
  EXPECT_EQ(converted->compare[0].mod_revision, Revision(5));
}

TEST(ProtoConvert, UnknownEnumValuesAreRefused) {
  etcdserverpb::RangeRequest range;
  range.set_key("k");
  range.set_sort_order(static_cast<etcdserverpb::RangeRequest::SortOrder>(7));
  EXPECT_EQ(from_proto(range).code(), ErrorCode::kInvalidInput);

  etcdserverpb::TxnRequest txn;
  txn.add_compare()->set_target(static_cast<etcdserverpb::Compare::CompareTarget>(9));
  EXPECT_EQ(from_proto(txn).code(), ErrorCode::kInvalidInput);

  etcdserverpb::WatchCreateRequest watch;
  watch.add_filters(static_cast<etcdserverpb::WatchCreateRequest::FilterType>(5));
  EXPECT_EQ(from_proto(watch).code(), ErrorCode::kInvalidInput);
}

// etcd's checkRequestOp answers an op with no request set with ErrGRPCKeyNotFound.
TEST(ProtoConvert, EmptyRequestOpIsKeyNotFound) {
  etcdserverpb::TxnRequest txn;
  txn.add_success();
  EXPECT_EQ(from_proto(txn).code(), ErrorCode::kKeyNotFound);
}

TEST(ProtoConvert, TxnNestingIsBounded) {
  etcdserverpb::TxnRequest outer;
  etcdserverpb::TxnRequest* level = &outer;
  for (int depth = 0; depth < kMaxTxnNestingDepth; ++depth) {
    level = level->add_success()->mutable_request_txn();
  }
  EXPECT_TRUE(from_proto(outer).is_ok());
  level->add_success()->mutable_request_txn();
  EXPECT_EQ(from_proto(outer).code(), ErrorCode::kInvalidInput);
}

TEST(ProtoConvert, TxnResponseSurvivesARoundTrip) {
  mvcc::TxnResponse response;
  response.header = mvcc::ResponseHeader{17, NodeId(3), Revision(12), Term(4)};
  response.succeeded = true;
  mvcc::KeyValue key_value{"k", Revision(10), Revision(12), 3, "v", LeaseId(0)};
  mvcc::RangeResponse range;
  range.kvs.push_back(key_value);
  range.count = 1;
  range.more = true;
  response.responses.push_back(mvcc::ResponseOp{range});
  mvcc::PutResponse put;
  put.prev_kv = key_value;
  response.responses.push_back(mvcc::ResponseOp{put});
  mvcc::TxnResponse inner;
  inner.responses.push_back(mvcc::ResponseOp{mvcc::DeleteRangeResponse{{}, 2, {key_value}}});
  response.responses.push_back(mvcc::ResponseOp{mvcc::Boxed<mvcc::TxnResponse>(inner)});

  const etcdserverpb::TxnResponse wire = to_proto(response);
  EXPECT_EQ(wire.header().member_id(), 3u);
  EXPECT_EQ(wire.header().raft_term(), 4u);
  ASSERT_EQ(wire.responses_size(), 3);
  EXPECT_TRUE(wire.responses(1).response_put().has_prev_kv());
  EXPECT_EQ(from_proto(wire), response);
}

TEST(ProtoConvert, WatchResponseKeepsEventsAndCompaction) {
  mvcc::WatchResponse response;
  response.watch_id = 4;
  response.canceled = true;
  response.compact_revision = Revision(30);
  response.cancel_reason = "compacted";
  mvcc::Event event;
  event.type = mvcc::EventType::kDelete;
  event.kv = mvcc::KeyValue{"gone", Revision(), Revision(31), 0, "", LeaseId(0)};
  event.prev_kv = mvcc::KeyValue{"gone", Revision(5), Revision(6), 2, "old", LeaseId(0)};
  response.events.push_back(event);
  const etcdserverpb::WatchResponse wire = to_proto(response);
  EXPECT_EQ(wire.events(0).type(), mvccpb::Event::DELETE);
  EXPECT_EQ(wire.compact_revision(), 30);
  EXPECT_EQ(from_proto(wire), response);
}

TEST(ProtoConvert, PutWithoutPrevKvHasNoPrevKvOnTheWire) {
  const etcdserverpb::PutResponse wire = to_proto(mvcc::PutResponse{});
  EXPECT_FALSE(wire.has_prev_kv());
  EXPECT_FALSE(from_proto(wire).prev_kv.has_value());
}

}  // namespace
}  // namespace lockstep::api
