// Wire compatibility of server/api/proto with the real etcd 3.4: each test starts a fresh
// single-member etcd with scripts/etcd-reference.sh on free ports, talks to it through the
// stubs generated from our .proto files, and checks etcd's documented behaviour. If a field
// number or type were wrong, etcd would drop or misread it and these answers would differ.
// The expected error messages come from core/base/error.h, so the table is checked too.
//
// etcd and etcdctl must be installed (Debian: etcd-server, etcd-client); without them every
// test fails in SetUp, on purpose.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/base/error.h"
#include "server/api/proto/rpc.grpc.pb.h"
#include "server/test_process.h"

namespace lockstep::api {
namespace {

constexpr int kRequestTimeoutSeconds = 10;

std::unique_ptr<grpc::ClientContext> context_with_deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(kRequestTimeoutSeconds));
  return context;
}

void expect_etcd_error(const grpc::Status& status, ErrorCode code) {
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(static_cast<int>(status.error_code()), static_cast<int>(error_grpc_code(code)));
  EXPECT_EQ(status.error_message(), error_message(code));
}

class EtcdCompatibility : public ::testing::Test {
 protected:
  void SetUp() override {
    char directory_template[] = "/tmp/lockstep-etcd-compat-XXXXXX";
    ASSERT_NE(mkdtemp(directory_template), nullptr);
    directory_ = directory_template;
    cluster_directory_ = directory_ + "/cluster";
    const Result<std::string> endpoint = server::start_reference_etcd(cluster_directory_);
    ASSERT_TRUE(endpoint.is_ok()) << endpoint.error();
    started_ = true;
    channel_ = grpc::CreateChannel(*endpoint, grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }

  void TearDown() override {
    if (started_) server::stop_reference_etcd(cluster_directory_);
    if (!directory_.empty()) server::run_command("rm -rf " + directory_);
  }

  etcdserverpb::PutResponse put(const std::string& key, const std::string& value,
                                bool prev_kv = false, int64_t lease = 0) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    request.set_prev_kv(prev_kv);
    request.set_lease(lease);
    etcdserverpb::PutResponse response;
    const grpc::Status status = kv_->Put(context_with_deadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status range(const etcdserverpb::RangeRequest& request,
                     etcdserverpb::RangeResponse& response) {
    return kv_->Range(context_with_deadline().get(), request, &response);
  }

  etcdserverpb::RangeResponse get(const std::string& key) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    const grpc::Status status = range(request, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::string directory_;
  std::string cluster_directory_;
  bool started_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

// "A put request increments the revision of the key-value store" (rpc.proto); prev_kv returns
// the pair as it was before the put; version counts modifications since creation.
TEST_F(EtcdCompatibility, PutBumpsRevisionAndReturnsPreviousPair) {
  const etcdserverpb::PutResponse first = put("alpha", "one");
  const int64_t created = first.header().revision();
  EXPECT_GE(created, 2);  // a fresh etcd starts at revision 1
  EXPECT_FALSE(first.has_prev_kv());

  const etcdserverpb::PutResponse second = put("alpha", "two", /*prev_kv=*/true);
  EXPECT_EQ(second.header().revision(), created + 1);
  ASSERT_TRUE(second.has_prev_kv());
  EXPECT_EQ(second.prev_kv().key(), "alpha");
  EXPECT_EQ(second.prev_kv().value(), "one");
  EXPECT_EQ(second.prev_kv().mod_revision(), created);
  EXPECT_EQ(second.prev_kv().version(), 1);

  const etcdserverpb::RangeResponse read = get("alpha");
  ASSERT_EQ(read.kvs_size(), 1);
  EXPECT_EQ(read.kvs(0).value(), "two");
  EXPECT_EQ(read.kvs(0).create_revision(), created);
  EXPECT_EQ(read.kvs(0).mod_revision(), created + 1);
  EXPECT_EQ(read.kvs(0).version(), 2);
  EXPECT_EQ(read.count(), 1);
  EXPECT_EQ(read.header().revision(), created + 1);
  EXPECT_NE(read.header().cluster_id(), 0u);
  EXPECT_NE(read.header().member_id(), 0u);
  EXPECT_GE(read.header().raft_term(), 1u);
}

// Range [key, range_end) with limit, sort, keys_only and count_only: `count` is the number of
// keys in the range whatever the limit, and `more` says the limit cut the answer short.
TEST_F(EtcdCompatibility, RangeHonoursLimitSortKeysOnlyAndCountOnly) {
  for (int index = 1; index <= 5; ++index) put("key/" + std::to_string(index), "value");
  put("other", "value");

  etcdserverpb::RangeRequest request;
  request.set_key("key/");
  request.set_range_end("key0");  // "key/" + 1: every key with the prefix
  request.set_limit(2);
  request.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  request.set_sort_target(etcdserverpb::RangeRequest::KEY);
  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(range(request, response).ok());
  ASSERT_EQ(response.kvs_size(), 2);
  EXPECT_EQ(response.kvs(0).key(), "key/5");
  EXPECT_EQ(response.kvs(1).key(), "key/4");
  EXPECT_TRUE(response.more());
  EXPECT_EQ(response.count(), 5);

  request.clear_limit();
  request.set_keys_only(true);
  ASSERT_TRUE(range(request, response).ok());
  ASSERT_EQ(response.kvs_size(), 5);
  EXPECT_TRUE(response.kvs(0).value().empty());
  EXPECT_FALSE(response.more());

  request.set_count_only(true);
  ASSERT_TRUE(range(request, response).ok());
  EXPECT_EQ(response.kvs_size(), 0);
  EXPECT_EQ(response.count(), 5);

  // range_end "\0" means every key >= key.
  etcdserverpb::RangeRequest from_key;
  from_key.set_key("key/3");
  from_key.set_range_end(std::string(1, '\0'));
  ASSERT_TRUE(range(from_key, response).ok());
  EXPECT_EQ(response.count(), 4);  // key/3, key/4, key/5, other
}

// "A delete request increments the revision of the key-value store and generates a delete
// event ... for every deleted key": one revision for the whole delete; deleting nothing does
// not bump it.
TEST_F(EtcdCompatibility, DeleteRangeCountsDeletedKeysAndReturnsThem) {
  put("doomed/a", "1");
  const int64_t before = put("doomed/b", "2").header().revision();

  etcdserverpb::DeleteRangeRequest request;
  request.set_key("doomed/");
  request.set_range_end("doomed0");
  request.set_prev_kv(true);
  etcdserverpb::DeleteRangeResponse response;
  ASSERT_TRUE(kv_->DeleteRange(context_with_deadline().get(), request, &response).ok());
  EXPECT_EQ(response.deleted(), 2);
  ASSERT_EQ(response.prev_kvs_size(), 2);
  EXPECT_EQ(response.prev_kvs(0).key(), "doomed/a");
  EXPECT_EQ(response.prev_kvs(1).value(), "2");
  EXPECT_EQ(response.header().revision(), before + 1);

  etcdserverpb::DeleteRangeResponse nothing;
  ASSERT_TRUE(kv_->DeleteRange(context_with_deadline().get(), request, &nothing).ok());
  EXPECT_EQ(nothing.deleted(), 0);
  EXPECT_EQ(nothing.header().revision(), before + 1);
  EXPECT_EQ(get("doomed/a").kvs_size(), 0);
}

// Txn: "If the comparisons succeed, then the success requests will be processed in order";
// otherwise the failure requests. A key absent has version 0, the usual create-if-absent guard.
TEST_F(EtcdCompatibility, TxnRunsTheBranchTheComparisonsChoose) {
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* absent = request.add_compare();
  absent->set_key("lock");
  absent->set_target(etcdserverpb::Compare::VERSION);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_version(0);
  etcdserverpb::PutRequest* claim = request.add_success()->mutable_request_put();
  claim->set_key("lock");
  claim->set_value("mine");
  request.add_failure()->mutable_request_range()->set_key("lock");

  etcdserverpb::TxnResponse won;
  ASSERT_TRUE(kv_->Txn(context_with_deadline().get(), request, &won).ok());
  EXPECT_TRUE(won.succeeded());
  ASSERT_EQ(won.responses_size(), 1);
  EXPECT_EQ(won.responses(0).response_case(), etcdserverpb::ResponseOp::kResponsePut);
  const int64_t claimed_at = won.header().revision();

  etcdserverpb::TxnResponse lost;
  ASSERT_TRUE(kv_->Txn(context_with_deadline().get(), request, &lost).ok());
  EXPECT_FALSE(lost.succeeded());
  ASSERT_EQ(lost.responses_size(), 1);
  ASSERT_EQ(lost.responses(0).response_case(), etcdserverpb::ResponseOp::kResponseRange);
  ASSERT_EQ(lost.responses(0).response_range().kvs_size(), 1);
  EXPECT_EQ(lost.responses(0).response_range().kvs(0).value(), "mine");
  EXPECT_EQ(lost.header().revision(), claimed_at);  // a read-only branch does not bump it

  // "It is not allowed to modify the same key several times within one txn."
  etcdserverpb::TxnRequest twice;
  for (int copy = 0; copy < 2; ++copy) {
    etcdserverpb::PutRequest* write = twice.add_success()->mutable_request_put();
    write->set_key("same");
    write->set_value(std::to_string(copy));
  }
  etcdserverpb::TxnResponse rejected;
  expect_etcd_error(kv_->Txn(context_with_deadline().get(), twice, &rejected),
                    ErrorCode::kDuplicateKey);
}

// Range at a revision below the compaction point is ErrCompacted; above the current revision
// it is ErrFutureRev; compacting again at or below the compaction point is ErrCompacted.
TEST_F(EtcdCompatibility, CompactionMakesOldRevisionsUnreadable) {
  const int64_t old_revision = put("history", "v1").header().revision();
  put("history", "v2");
  const int64_t compact_at = put("history", "v3").header().revision();

  etcdserverpb::CompactionRequest compact;
  compact.set_revision(compact_at);
  compact.set_physical(true);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(context_with_deadline().get(), compact, &compacted).ok());

  etcdserverpb::RangeRequest request;
  request.set_key("history");
  request.set_revision(old_revision);
  etcdserverpb::RangeResponse response;
  expect_etcd_error(range(request, response), ErrorCode::kCompacted);

  request.set_revision(compact_at);  // the compaction revision itself stays readable
  ASSERT_TRUE(range(request, response).ok());
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), "v3");

  request.set_revision(compact_at + 100);
  expect_etcd_error(range(request, response), ErrorCode::kFutureRevision);

  expect_etcd_error(kv_->Compact(context_with_deadline().get(), compact, &compacted),
                    ErrorCode::kCompacted);
}

TEST_F(EtcdCompatibility, EmptyKeyIsRejected) {
  etcdserverpb::PutRequest request;
  request.set_value("no key");
  etcdserverpb::PutResponse response;
  expect_etcd_error(kv_->Put(context_with_deadline().get(), request, &response),
                    ErrorCode::kEmptyKey);
}

// Keys attached to a lease are deleted when it is revoked; a put naming an unknown lease is
// ErrLeaseNotFound; TimeToLive of a revoked lease reports TTL -1.
TEST_F(EtcdCompatibility, LeaseGrantAttachAndRevoke) {
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(60);
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(lease_->LeaseGrant(context_with_deadline().get(), grant, &granted).ok());
  EXPECT_NE(granted.id(), 0);
  EXPECT_EQ(granted.ttl(), 60);
  EXPECT_TRUE(granted.error().empty());

  put("leased", "value", false, granted.id());
  ASSERT_EQ(get("leased").kvs_size(), 1);
  EXPECT_EQ(get("leased").kvs(0).lease(), granted.id());

  etcdserverpb::LeaseTimeToLiveRequest ask;
  ask.set_id(granted.id());
  ask.set_keys(true);
  etcdserverpb::LeaseTimeToLiveResponse alive;
  ASSERT_TRUE(lease_->LeaseTimeToLive(context_with_deadline().get(), ask, &alive).ok());
  EXPECT_EQ(alive.grantedttl(), 60);
  EXPECT_GT(alive.ttl(), 0);
  ASSERT_EQ(alive.keys_size(), 1);
  EXPECT_EQ(alive.keys(0), "leased");

  etcdserverpb::LeaseRevokeRequest revoke;
  revoke.set_id(granted.id());
  etcdserverpb::LeaseRevokeResponse revoked;
  ASSERT_TRUE(lease_->LeaseRevoke(context_with_deadline().get(), revoke, &revoked).ok());
  EXPECT_EQ(get("leased").kvs_size(), 0);
  ASSERT_TRUE(lease_->LeaseTimeToLive(context_with_deadline().get(), ask, &alive).ok());
  EXPECT_EQ(alive.ttl(), -1);

  etcdserverpb::PutRequest orphan;
  orphan.set_key("orphan");
  orphan.set_lease(granted.id());
  etcdserverpb::PutResponse response;
  expect_etcd_error(kv_->Put(context_with_deadline().get(), orphan, &response),
                    ErrorCode::kLeaseNotFound);
}

// A watch from a past start_revision replays history in revision order (with prev_kv when
// asked); a watch from a compacted revision is cancelled with compact_revision set.
TEST_F(EtcdCompatibility, WatchReplaysHistoryAndReportsCompaction) {
  const int64_t start = put("watched", "a").header().revision();
  put("watched", "b");
  etcdserverpb::DeleteRangeRequest remove;
  remove.set_key("watched");
  etcdserverpb::DeleteRangeResponse removed;
  ASSERT_TRUE(kv_->DeleteRange(context_with_deadline().get(), remove, &removed).ok());

  auto context = context_with_deadline();
  auto stream = watch_->Watch(context.get());
  etcdserverpb::WatchRequest create;
  create.mutable_create_request()->set_key("watched");
  create.mutable_create_request()->set_start_revision(start);
  create.mutable_create_request()->set_prev_kv(true);
  ASSERT_TRUE(stream->Write(create));
  etcdserverpb::WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  const int64_t watch_id = response.watch_id();

  std::vector<mvccpb::Event> events;
  while (events.size() < 3 && stream->Read(&response)) {
    EXPECT_EQ(response.watch_id(), watch_id);
    for (const mvccpb::Event& event : response.events()) events.push_back(event);
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), mvccpb::Event::PUT);
  EXPECT_EQ(events[0].kv().value(), "a");
  EXPECT_EQ(events[0].kv().mod_revision(), start);
  EXPECT_EQ(events[1].kv().value(), "b");
  EXPECT_EQ(events[1].prev_kv().value(), "a");
  EXPECT_EQ(events[2].type(), mvccpb::Event::DELETE);
  EXPECT_EQ(events[2].kv().mod_revision(), removed.header().revision());
  EXPECT_EQ(events[2].prev_kv().value(), "b");

  etcdserverpb::CompactionRequest compact;
  compact.set_revision(removed.header().revision());
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(context_with_deadline().get(), compact, &compacted).ok());
  etcdserverpb::WatchRequest too_old;
  too_old.mutable_create_request()->set_key("watched");
  too_old.mutable_create_request()->set_start_revision(start);
  ASSERT_TRUE(stream->Write(too_old));
  // etcd first confirms creation, then cancels the watcher naming the compaction revision.
  bool cancelled = false;
  while (!cancelled && stream->Read(&response)) {
    if (response.canceled()) {
      cancelled = true;
      EXPECT_EQ(response.compact_revision(), removed.header().revision());
    }
  }
  EXPECT_TRUE(cancelled);
  context->TryCancel();
}

}  // namespace
}  // namespace lockstep::api
