#include "core/node/client_protocol.h"

#include <gtest/gtest.h>

#include "core/base/random.h"
#include "core/node/request_codec.h"

namespace lockstep::node {
namespace {

// Partial designated initializers trip GCC's -Wmissing-field-initializers, so samples are
// built field by field through this helper.
template <typename T, typename Fill>
T make(Fill&& fill) {
  T value{};
  fill(value);
  return value;
}

mvcc::TxnRequest sample_txn() {
  mvcc::TxnRequest txn;
  txn.compare.push_back(make<mvcc::Compare>([](auto& compare) {
    compare.key = "lock/owner";
    compare.target = mvcc::CompareTarget::kCreate;
    compare.result = mvcc::CompareResult::kEqual;
  }));
  txn.success.push_back(mvcc::put_op(make<mvcc::PutRequest>([](auto& put) {
    put.key = "lock/owner";
    put.value = "client-7";
    put.lease = LeaseId(42);
  })));
  mvcc::TxnRequest nested;
  nested.success.push_back(mvcc::delete_op(make<mvcc::DeleteRangeRequest>([](auto& del) {
    del.key = "a";
    del.range_end = "b";
    del.prev_kv = true;
  })));
  txn.failure.push_back(mvcc::range_op(make<mvcc::RangeRequest>([](auto& range) {
    range.key = "lock/owner";
    range.revision = Revision(-1);
  })));
  txn.failure.push_back(mvcc::txn_op(nested));
  return txn;
}

mvcc::KeyValue sample_key_value() {
  return make<mvcc::KeyValue>([](auto& kv) {
    kv.key = "k";
    kv.create_revision = Revision(3);
    kv.mod_revision = Revision(9);
    kv.version = 4;
    kv.value = std::string("v\0x", 3);
    kv.lease = LeaseId(-5);
  });
}

ClientResponse sample_response() {
  mvcc::TxnResponse txn;
  txn.header.cluster_id = 77;
  txn.header.member_id = NodeId(2);
  txn.header.revision = Revision(9);
  txn.header.raft_term = Term(4);
  mvcc::RangeResponse range;
  range.kvs.push_back(sample_key_value());
  range.count = 1;
  range.more = true;
  txn.responses.push_back(mvcc::ResponseOp{range});
  mvcc::TxnResponse inner;
  mvcc::DeleteRangeResponse deleted;
  deleted.deleted = 2;
  inner.responses.push_back(mvcc::ResponseOp{deleted});
  txn.responses.push_back(mvcc::ResponseOp{mvcc::Boxed<mvcc::TxnResponse>(inner)});
  ClientResponse response;
  response.request_id = 12;
  response.body = ClientResponseBody{txn};
  return response;
}

template <typename T>
T round_trip(const T& value) {
  Result<Frame> decoded = decode_frame(encode_frame(value));
  EXPECT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_TRUE(std::holds_alternative<T>(*decoded));
  return std::get<T>(*decoded);
}

std::vector<ClientRequestBody> one_request_of_each_kind() {
  return {
      make<mvcc::RangeRequest>([](auto& range) {
        range.key = "a";
        range.range_end = std::string("\0", 1);
        range.limit = 10;
        range.sort_order = mvcc::SortOrder::kDescend;
        range.sort_target = mvcc::SortTarget::kMod;
        range.serializable = true;
      }),
      make<mvcc::PutRequest>([](auto& put) {
        put.key = "a";
        put.value = "b";
        put.prev_kv = true;
        put.ignore_lease = true;
      }),
      make<mvcc::DeleteRangeRequest>([](auto& del) {
        del.key = "a";
        del.range_end = "z";
      }),
      sample_txn(),
      mvcc::CompactionRequest{Revision(100), true},
      mvcc::LeaseGrantRequest{5, LeaseId(7)},
      mvcc::LeaseRevokeRequest{LeaseId(7)},
      mvcc::LeaseKeepAliveRequest{LeaseId(7)},
      mvcc::LeaseTimeToLiveRequest{LeaseId(7), true},
      make<mvcc::WatchCreateRequest>([](auto& watch) {
        watch.key = "cfg/";
        watch.range_end = "cfg0";
        watch.start_revision = Revision(3);
        watch.filters = {mvcc::WatchFilter::kNoDelete};
        watch.prev_kv = true;
        watch.watch_id = 4;
      }),
      mvcc::WatchCancelRequest{4},
      make<MemberAddRequest>([](auto& add) {
        add.id = NodeId(6);
        add.is_learner = true;
      }),
      MemberRemoveRequest{NodeId(6)},
      MemberPromoteRequest{NodeId(6)},
      MemberListRequest{true},
      StatusRequest{},
      AlarmRequest{AlarmAction::kDeactivate, NodeId(6), AlarmType::kNoSpace},
      mvcc::WatchProgressRequest{},
      MemberUpdateRequest{NodeId(6), R"({"peerURLs":["http://10.0.0.6:2380"]})"},
  };
}

TEST(ClientProtocolTest, RequestsOfEveryKindRoundTrip) {
  const std::vector<ClientRequestBody> bodies = one_request_of_each_kind();
  ASSERT_EQ(bodies.size(), std::variant_size_v<ClientRequestBody>);
  for (size_t i = 0; i < bodies.size(); ++i) {
    ClientRequest request{1000 + i, bodies[i]};
    ClientRequest decoded = round_trip(request);
    EXPECT_EQ(decoded.request_id, request.request_id);
    EXPECT_TRUE(decoded.body == request.body) << request_name(request.body);
  }
}

TEST(ClientProtocolTest, ResponsesAndErrorsRoundTrip) {
  ClientResponse response = sample_response();
  ClientResponse decoded = round_trip(response);
  EXPECT_EQ(decoded.request_id, 12u);
  ASSERT_TRUE(decoded.body.has_value());
  EXPECT_TRUE(*decoded.body == *response.body);

  ClientResponse failure;
  failure.request_id = 13;
  failure.error = ErrorCode::kNotLeader;
  failure.error_detail = "leader is 3";
  failure.leader_hint = NodeId(3);
  ClientResponse decoded_failure = round_trip(failure);
  EXPECT_EQ(decoded_failure.error, ErrorCode::kNotLeader);
  EXPECT_EQ(decoded_failure.error_detail, "leader is 3");
  EXPECT_EQ(decoded_failure.leader_hint, NodeId(3));
  EXPECT_FALSE(decoded_failure.body.has_value());
}

TEST(ClientProtocolTest, WatchStreamAndRaftFramesRoundTrip) {
  WatchStreamMessage message;
  message.response.watch_id = 3;
  mvcc::Event event;
  event.type = mvcc::EventType::kDelete;
  event.kv = sample_key_value();
  event.prev_kv = sample_key_value();
  message.response.events.push_back(event);
  EXPECT_EQ(round_trip(message).response, message.response);

  RaftFrame raft{std::string("\x01\x02\x00\xff", 4)};
  EXPECT_EQ(round_trip(raft).message_bytes, raft.message_bytes);
}

TEST(ClientProtocolTest, OnlyReadsAreReadOnly) {
  for (const ClientRequestBody& body : one_request_of_each_kind()) {
    const std::string_view name = request_name(body);
    const bool expected_read_only =
        name == "range" || name == "lease_ttl" || name == "member_list" || name == "status";
    EXPECT_EQ(is_read_only(body), expected_read_only) << name;
  }
}

// "Bad input gets a clear error": every strict prefix of a valid frame is malformed and must
// be refused with kInvalidInput, never read past its end.
TEST(ClientProtocolTest, EveryTruncationIsRejected) {
  const std::string bytes = encode_frame(sample_response());
  for (size_t length = 0; length < bytes.size(); ++length) {
    Result<Frame> decoded = decode_frame(std::string_view(bytes).substr(0, length));
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << length << " bytes decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidInput);
  }
}

TEST(ClientProtocolTest, TrailingBytesWrongVersionAndUnknownKindAreRejected) {
  const std::string bytes = encode_frame(ClientRequest{1, StatusRequest{}});
  EXPECT_TRUE(decode_frame(bytes).is_ok());
  EXPECT_EQ(decode_frame(bytes + "x").code(), ErrorCode::kInvalidInput);
  std::string wrong_version = bytes;
  wrong_version[1] = 9;
  EXPECT_EQ(decode_frame(wrong_version).code(), ErrorCode::kInvalidInput);
  std::string wrong_kind = bytes;
  wrong_kind[2] = 77;
  EXPECT_EQ(decode_frame(wrong_kind).code(), ErrorCode::kInvalidInput);
  std::string wrong_magic = bytes;
  wrong_magic[0] = 'X';
  EXPECT_EQ(decode_frame(wrong_magic).code(), ErrorCode::kInvalidInput);
}

TEST(ClientProtocolTest, HugeLengthPrefixIsRejectedWithoutAllocating) {
  // A put (alternative 1) whose key claims ~2^62 bytes: the reader compares against what is
  // left instead of allocating.
  std::string bytes = {static_cast<char>(kFrameMagic), static_cast<char>(kProtocolVersion),
                       static_cast<char>(FrameKind::kClientRequest), 1, 1};
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(0xff));
  bytes.push_back(0x3f);
  EXPECT_EQ(decode_frame(bytes).code(), ErrorCode::kInvalidInput);
}

TEST(ClientProtocolTest, NestingDeeperThanTheLimitIsRejected) {
  mvcc::TxnRequest txn;
  for (int depth = 0; depth < kMaxTxnNestingDepth + 2; ++depth) {
    mvcc::TxnRequest outer;
    outer.success.push_back(mvcc::txn_op(txn));
    txn = outer;
  }
  Result<Frame> decoded = decode_frame(encode_frame(ClientRequest{1, txn}));
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidInput);
}

// Random corruption of valid frames: decoding either fails cleanly or yields some frame; it
// never crashes (a deterministic, seeded stand-in for a fuzz test).
TEST(ClientProtocolTest, RandomCorruptionNeverCrashes) {
  Random random(20261121);
  const std::string valid = encode_frame(sample_response());
  int rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = valid;
    const int flips = 1 + static_cast<int>(random.below(4));
    for (int i = 0; i < flips; ++i) {
      bytes[random.below(bytes.size())] = static_cast<char>(random.below(256));
    }
    if (!decode_frame(bytes).is_ok()) ++rejected;
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace lockstep::node
