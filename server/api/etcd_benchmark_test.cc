// The benchmark client's workloads against the in-process fake member behind real gRPC
// sockets: every operation is sent once (with its key, whatever the number of threads driving
// the asynchronous closed loop) and counted once, as a success or as a failure with its reason.
#include "server/api/etcd_benchmark.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "server/api/api_server.h"
#include "server/api/async_closed_loop.h"
#include "server/api/fake_client_api.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {
namespace {

class EtcdBenchmarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions server_options;
    server_options.grpc_port = 0;
    server_options.http_port = -1;
    Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api_, server_options);
    ASSERT_TRUE(started.is_ok()) << started.error();
    server_ = std::move(started).value();
    options_.endpoints = {"127.0.0.1:" + std::to_string(server_->grpc_port())};
    options_.connection_count = 2;
    options_.client_count = 5;
    options_.total_operations = 60;
  }

  // The value and version the fake holds for `key`, or nullopt when it holds none.
  std::optional<std::pair<std::string, int64_t>> stored(const std::string& key) {
    auto stub = etcdserverpb::KV::NewStub(
        grpc::CreateChannel(options_.endpoints[0], grpc::InsecureChannelCredentials()));
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub->Range(&context, request, &response).ok());
    if (response.kvs_size() == 0) return std::nullopt;
    return std::make_pair(response.kvs(0).value(), response.kvs(0).version());
  }

  fake::FakeClientApi api_;
  std::unique_ptr<ApiServer> server_;
  BenchmarkOptions options_;
};

TEST_F(EtcdBenchmarkTest, LeaseKeepAliveRenewsEachClientsLeaseOnItsStream) {
  Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kLeaseKeepAlive, options_);
  ASSERT_TRUE(result.is_ok()) << result.error();
  EXPECT_EQ(result->succeeded, 60);
  EXPECT_EQ(result->failed, 0) << format_text(*result);
  EXPECT_EQ(result->latency.count, 60u);
  EXPECT_GT(result->operations_per_second, 0);
  const nlohmann::json line = nlohmann::json::parse(format_json_line(*result));
  EXPECT_EQ(line["benchmark"], "lease-keepalive");
  EXPECT_EQ(line["lease_ttl_s"], 100);
}

TEST_F(EtcdBenchmarkTest, LeaseGrantRevokeCountsRefusedRevokesAsFailures) {
  // The fake grants every lease but knows none when asked to revoke it: every operation must
  // be counted as failed, with the server's reason, and none as a success.
  Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kLeaseGrantRevoke, options_);
  ASSERT_TRUE(result.is_ok()) << result.error();
  EXPECT_EQ(result->succeeded, 0);
  EXPECT_EQ(result->failed, 60);
  ASSERT_EQ(result->error_counts.size(), 1u) << format_text(*result);
  EXPECT_NE(result->error_counts.begin()->first.find("lease not found"), std::string::npos)
      << result->error_counts.begin()->first;
}

TEST_F(EtcdBenchmarkTest, ManyClientsOnFewConnectionsShareTheTotal) {
  options_.client_count = 40;
  options_.total_operations = 200;
  options_.key_space_size = 1000;
  options_.key_size_bytes = 4;
  Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kPut, options_);
  ASSERT_TRUE(result.is_ok()) << result.error();
  EXPECT_EQ(result->succeeded, 200);
  EXPECT_EQ(result->failed, 0) << format_text(*result);
  EXPECT_EQ(result->latency.count, 200u);
}

// put, range and txn-put run on the asynchronous closed loop (async_closed_loop.h).
TEST_F(EtcdBenchmarkTest, EveryOperationIsSentOnceWithItsKeyWhateverTheThreads) {
  for (const int threads : {1, 3}) {
    BenchmarkOptions options = options_;
    options.client_count = 25;
    options.client_thread_count = threads;
    options.total_operations = 300;
    options.key_space_size = 300;
    options.key_size_bytes = 4;
    options.value_size_bytes = 16;
    options.sequential_keys = true;  // operation i writes key i: each key exactly once per run
    Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kPut, options);
    ASSERT_TRUE(result.is_ok()) << result.error();
    EXPECT_EQ(result->succeeded, 300);
    EXPECT_EQ(result->failed, 0) << format_text(*result);
    EXPECT_EQ(result->latency.count, 300u);
    EXPECT_GT(result->elapsed_seconds, 0);
  }
  // Two runs: every key written exactly twice, none outside the key space.
  for (int index = 0; index < 300; ++index) {
    const auto value = stored(benchmark_key(index, 4));
    ASSERT_TRUE(value.has_value()) << index;
    EXPECT_EQ(value->first.size(), 16u);
    EXPECT_EQ(value->second, 2) << "key " << index << " written other than once per run";
  }
  EXPECT_FALSE(stored(benchmark_key(300, 4)).has_value());
}

TEST_F(EtcdBenchmarkTest, TxnPutWritesConsecutiveDistinctKeys) {
  BenchmarkOptions options = options_;
  options.client_count = 8;
  options.total_operations = 40;
  options.key_space_size = 100;
  options.key_size_bytes = 3;
  options.txn_operation_count = 4;  // the fake refuses a txn that puts one key twice
  Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kTxnPut, options);
  ASSERT_TRUE(result.is_ok()) << result.error();
  EXPECT_EQ(result->succeeded, 40);
  EXPECT_EQ(result->failed, 0) << format_text(*result);
}

TEST_F(EtcdBenchmarkTest, RangeReadsTheOneKey) {
  BenchmarkOptions options = options_;
  options.client_count = 10;
  options.total_operations = 50;
  options.key = "the-key";
  options.serializable = true;
  Result<BenchmarkResult> result = run_benchmark(BenchmarkKind::kRange, options);
  ASSERT_TRUE(result.is_ok()) << result.error();
  EXPECT_EQ(result->succeeded, 50);
  EXPECT_EQ(api_.last_range().key, "the-key");
  EXPECT_TRUE(api_.last_range().serializable);
}

// Even operations delete (the fake member refuses: "not capable"), odd ones put.
class HalfFailingCall final : public AsyncUnaryCall {
 public:
  explicit HalfFailingCall(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(etcdserverpb::KV::NewStub(channel)) {}
  void start(int64_t key_index, grpc::CompletionQueue& queue, void* tag) override {
    context_.emplace();
    if (key_index % 2 == 0) {
      delete_request_.set_key("even");
      delete_reader_ = stub_->PrepareAsyncDeleteRange(&*context_, delete_request_, &queue);
      delete_reader_->StartCall();
      delete_reader_->Finish(&delete_response_, &status_, tag);
    } else {
      put_request_.set_key("odd");
      put_reader_ = stub_->PrepareAsyncPut(&*context_, put_request_, &queue);
      put_reader_->StartCall();
      put_reader_->Finish(&put_response_, &status_, tag);
    }
  }
  grpc::Status status() const override { return status_; }

 private:
  std::unique_ptr<etcdserverpb::KV::Stub> stub_;
  std::optional<grpc::ClientContext> context_;
  grpc::Status status_;
  etcdserverpb::PutRequest put_request_;
  etcdserverpb::PutResponse put_response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_reader_;
  etcdserverpb::DeleteRangeRequest delete_request_;
  etcdserverpb::DeleteRangeResponse delete_response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::DeleteRangeResponse>>
      delete_reader_;
};

TEST_F(EtcdBenchmarkTest, FailedCallsAreCountedWithTheirReason) {
  Result<ChannelPool> pool = ChannelPool::connect(options_.endpoints, 1);
  ASSERT_TRUE(pool.is_ok()) << pool.error();
  ClosedLoopOptions options;
  options.client_count = 6;
  options.thread_count = 2;
  options.total_operations = 100;
  options.key_space_size = 100;
  options.sequential_keys = true;
  const ClosedLoopTally tally =
      run_async_closed_loop(options, *pool, [](const std::shared_ptr<grpc::Channel>& channel) {
        return std::make_unique<HalfFailingCall>(channel);
      });
  EXPECT_EQ(tally.succeeded, 50);
  EXPECT_EQ(tally.failed, 50);
  EXPECT_EQ(tally.latencies.count(), 50u);  // latencies of successful calls only
  ASSERT_EQ(tally.error_counts.size(), 1u);
  EXPECT_NE(tally.error_counts.begin()->first.find("not capable"), std::string::npos)
      << tally.error_counts.begin()->first;
}

TEST(EtcdBenchmarkOptions, LeaseTtlMustBePositive) {
  BenchmarkOptions options;
  options.lease_ttl_seconds = 0;
  EXPECT_FALSE(validate(BenchmarkKind::kLeaseKeepAlive, options).is_ok());
  EXPECT_FALSE(validate(BenchmarkKind::kLeaseGrantRevoke, options).is_ok());
  EXPECT_TRUE(validate(BenchmarkKind::kPut, options).is_ok());  // put has no lease
  options.lease_ttl_seconds = 5;
  EXPECT_TRUE(validate(BenchmarkKind::kLeaseKeepAlive, options).is_ok());
}

TEST(EtcdBenchmarkOptions, EveryKindParsesFromItsName) {
  for (const BenchmarkKind kind :
       {BenchmarkKind::kPut, BenchmarkKind::kRange, BenchmarkKind::kTxnPut,
        BenchmarkKind::kWatchLatency, BenchmarkKind::kLeaseKeepAlive,
        BenchmarkKind::kLeaseGrantRevoke}) {
    EXPECT_EQ(parse_benchmark_kind(benchmark_kind_name(kind)), kind);
  }
  EXPECT_EQ(parse_benchmark_kind("lease"), std::nullopt);
}

}  // namespace
}  // namespace lockstep::api
