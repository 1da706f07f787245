// The gRPC services end to end over a real loopback connection, against a small in-memory
// ClientApi whose completions run on another thread (as the member's will): requests reach
// the member in core/mvcc types, answers and errors come back as etcd would send them.
#include "server/api/grpc_services.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "server/api/fake_client_api.h"

namespace lockstep::api {
namespace {

constexpr int kTimeoutSeconds = 10;

using fake::FakeClientApi;
using fake::kKnownLease;

std::unique_ptr<grpc::ClientContext> context_with_deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(kTimeoutSeconds));
  return context;
}

class GrpcServices : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(kv_service_.grpc_service());
    builder.RegisterService(lease_service_.grpc_service());
    builder.RegisterService(watch_service_.grpc_service());
    calls_ = std::make_unique<CallQueue>(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    kv_service_.serve(*calls_);
    lease_service_.serve(*calls_);
    watch_service_.serve(*calls_);
    calls_->start();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (calls_) calls_->stop();
  }

  etcdserverpb::PutResponse put(const std::string& key, const std::string& value,
                                bool prev_kv = false) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    request.set_prev_kv(prev_kv);
    etcdserverpb::PutResponse response;
    const grpc::Status status = kv_->Put(context_with_deadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  FakeClientApi api_;
  KvService kv_service_{api_};
  LeaseService lease_service_{api_};
  WatchService watch_service_{api_};
  std::unique_ptr<CallQueue> calls_;  // destroyed after the server
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

TEST_F(GrpcServices, PutAndRangeCarryEveryFieldAcrossTheWire) {
  const std::string binary_value("\0\x01\xff", 3);
  EXPECT_EQ(put("k", "first").header().revision(), 2);
  const etcdserverpb::PutResponse second = put("k", binary_value, /*prev_kv=*/true);
  EXPECT_EQ(second.header().revision(), 3);
  ASSERT_TRUE(second.has_prev_kv());
  EXPECT_EQ(second.prev_kv().value(), "first");

  etcdserverpb::RangeRequest request;
  request.set_key("k");
  request.set_serializable(true);
  request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  request.set_max_mod_revision(99);
  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(kv_->Range(context_with_deadline().get(), request, &response).ok());
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), binary_value);
  EXPECT_EQ(response.kvs(0).version(), 2);
  EXPECT_EQ(response.kvs(0).create_revision(), 2);
  EXPECT_EQ(response.kvs(0).mod_revision(), 3);
  EXPECT_EQ(response.header().member_id(), 7u);

  const mvcc::RangeRequest seen = api_.last_range();
  EXPECT_TRUE(seen.serializable);
  EXPECT_EQ(seen.sort_order, mvcc::SortOrder::kAscend);
  EXPECT_EQ(seen.max_mod_revision, Revision(99));
}

TEST_F(GrpcServices, MemberErrorsBecomeEtcdStatusCodesAndMessages) {
  put("k", "v");
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(2);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(context_with_deadline().get(), compact, &compacted).ok());

  etcdserverpb::RangeRequest old;
  old.set_key("k");
  old.set_revision(1);
  etcdserverpb::RangeResponse response;
  const grpc::Status status = kv_->Range(context_with_deadline().get(), old, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision has been compacted");

  etcdserverpb::TxnRequest twice;
  for (int copy = 0; copy < 2; ++copy) {
    twice.add_success()->mutable_request_put()->set_key("same");
  }
  etcdserverpb::TxnResponse txn_response;
  const grpc::Status duplicate = kv_->Txn(context_with_deadline().get(), twice, &txn_response);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(duplicate.error_message(), "etcdserver: duplicate key given in txn request");
}

TEST_F(GrpcServices, MalformedRequestsAreRefusedBeforeReachingTheMember) {
  etcdserverpb::RangeRequest request;
  request.set_key("k");
  request.set_sort_target(static_cast<etcdserverpb::RangeRequest::SortTarget>(42));
  etcdserverpb::RangeResponse response;
  const grpc::Status status = kv_->Range(context_with_deadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(api_.last_range().key.empty());  // the member never saw it
}

TEST_F(GrpcServices, TxnResponsesComeBackInOrder) {
  etcdserverpb::TxnRequest request;
  request.add_success()->mutable_request_put()->set_key("a");
  request.add_success()->mutable_request_put()->set_key("b");
  etcdserverpb::TxnResponse response;
  ASSERT_TRUE(kv_->Txn(context_with_deadline().get(), request, &response).ok());
  EXPECT_TRUE(response.succeeded());
  ASSERT_EQ(response.responses_size(), 2);
  EXPECT_EQ(response.responses(0).response_put().header().revision(), 2);
  EXPECT_EQ(response.responses(1).response_put().header().revision(), 3);
  EXPECT_EQ(response.header().revision(), 3);
}

TEST_F(GrpcServices, WatchStreamDeliversCreationEventsAndCancellation) {
  auto context = context_with_deadline();
  auto stream = watch_->Watch(context.get());
  etcdserverpb::WatchRequest create;
  create.mutable_create_request()->set_key("watched");
  ASSERT_TRUE(stream->Write(create));
  etcdserverpb::WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  const int64_t watch_id = response.watch_id();

  put("watched", "one");
  put("unwatched", "x");
  put("watched", "two");
  for (const std::string expected : {"one", "two"}) {
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.watch_id(), watch_id);
    ASSERT_EQ(response.events_size(), 1);
    EXPECT_EQ(response.events(0).type(), mvccpb::Event::PUT);
    EXPECT_EQ(response.events(0).kv().value(), expected);
  }

  // A create the member cannot accept is refused on the stream, which stays usable.
  etcdserverpb::WatchRequest bad;
  bad.mutable_create_request()->set_key("watched");
  bad.mutable_create_request()->add_filters(
      static_cast<etcdserverpb::WatchCreateRequest::FilterType>(9));
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), -1);
  EXPECT_FALSE(response.cancel_reason().empty());

  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(watch_id);
  ASSERT_TRUE(stream->Write(cancel));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), watch_id);

  // Closing the client side ends the stream and releases the member's session.
  ASSERT_TRUE(stream->WritesDone());
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(api_.wait_for_no_sessions());
}

// etcd answers a keep-alive of an unknown lease with TTL 0 rather than an error.
TEST_F(GrpcServices, LeaseKeepAliveAnswersEveryRequestOnTheStream) {
  auto context = context_with_deadline();
  auto stream = lease_->LeaseKeepAlive(context.get());
  etcdserverpb::LeaseKeepAliveRequest known;
  known.set_id(kKnownLease.value());
  etcdserverpb::LeaseKeepAliveResponse response;
  ASSERT_TRUE(stream->Write(known));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.id(), kKnownLease.value());
  EXPECT_EQ(response.ttl(), 30);

  etcdserverpb::LeaseKeepAliveRequest unknown;
  unknown.set_id(5);
  ASSERT_TRUE(stream->Write(unknown));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.id(), 5);
  EXPECT_EQ(response.ttl(), 0);
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());

  etcdserverpb::LeaseRevokeRequest revoke;
  revoke.set_id(5);
  etcdserverpb::LeaseRevokeResponse revoked;
  const grpc::Status status = lease_->LeaseRevoke(context_with_deadline().get(), revoke, &revoked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

}  // namespace
}  // namespace lockstep::api
