// The asynchronous closed loop behind put, range and txn-put, against the in-process fake
// member behind real gRPC sockets: every operation is sent exactly once whatever the number of
// threads, each with the key it was given, and failures are counted rather than waited on.
#include "server/api/async_closed_loop.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "server/api/api_server.h"
#include "server/api/etcd_benchmark.h"
#include "server/api/fake_client_api.h"
#include "server/api/proto/rpc.grpc.pb.h"

namespace lockstep::api {
namespace {

class AsyncClosedLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions server_options;
    server_options.grpc_port = 0;
    server_options.http_port = -1;
    Result<std::unique_ptr<ApiServer>> started = ApiServer::start(api_, server_options);
    ASSERT_TRUE(started.is_ok()) << started.error();
    server_ = std::move(started).value();
    endpoint_ = "127.0.0.1:" + std::to_string(server_->grpc_port());
  }

  // The value and version the fake holds for `key`, or nullopt when it holds none.
  std::optional<std::pair<std::string, int64_t>> stored(const std::string& key) {
    auto stub = etcdserverpb::KV::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
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
  std::string endpoint_;
};

TEST_F(AsyncClosedLoopTest, EveryOperationIsSentOnceWithItsKeyWhateverTheThreads) {
  for (const int threads : {1, 3}) {
    BenchmarkOptions options;
    options.endpoints = {endpoint_};
    options.connection_count = 2;
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

TEST_F(AsyncClosedLoopTest, TxnPutWritesConsecutiveDistinctKeys) {
  BenchmarkOptions options;
  options.endpoints = {endpoint_};
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

TEST_F(AsyncClosedLoopTest, RangeReadsTheOneKey) {
  BenchmarkOptions options;
  options.endpoints = {endpoint_};
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

TEST_F(AsyncClosedLoopTest, FailedCallsAreCountedWithTheirReason) {
  Result<ChannelPool> pool = ChannelPool::connect({endpoint_}, 1);
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

}  // namespace
}  // namespace lockstep::api
