// The benchmark client's workloads against the in-process fake member behind real gRPC
// sockets: every operation is counted once, as a success or as a failure with its reason.
#include "server/api/etcd_benchmark.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/api_server.h"
#include "server/api/fake_client_api.h"

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
