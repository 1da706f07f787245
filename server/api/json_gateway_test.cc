// The JSON gateway against the in-memory ClientApi. Expected bodies are what etcd 3.4.23's
// gateway answers for the same requests (captured with curl against scripts/etcd-reference.sh):
// base64 bytes, 64-bit integers as strings, .proto field names, zero values omitted, and
// {"error","message","code"} errors with grpc-gateway's HTTP status.
#include "server/api/json_gateway.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "server/api/fake_client_api.h"

namespace lockstep::api {
namespace {

class JsonGatewayTest : public ::testing::Test {
 protected:
  HttpResponse call(std::string_view method, std::string_view path, std::string_view body) {
    std::promise<HttpResponse> answered;
    std::future<HttpResponse> answer = answered.get_future();
    gateway_.handle(method, path, body, [&answered](HttpResponse response) {
      answered.set_value(std::move(response));
    });
    EXPECT_EQ(answer.wait_for(std::chrono::seconds(fake::kFakeWaitSeconds)),
              std::future_status::ready);
    return answer.get();
  }
  nlohmann::json post(std::string_view path, std::string_view body, int expected_status = 200) {
    const HttpResponse response = call("POST", path, body);
    EXPECT_EQ(response.status, expected_status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return nlohmann::json::parse(response.body);
  }

  fake::FakeClientApi api_;
  JsonGateway gateway_{api_, JsonGatewayOptions{}};
};

TEST_F(JsonGatewayTest, PutAndRangeUseBase64BytesAndStringIntegers) {
  // "Zm9v" = "foo", "YmFy" = "bar".
  const nlohmann::json put = post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  EXPECT_EQ(put["header"]["revision"], "2");

  const nlohmann::json range = post("/v3/kv/range", R"({"key":"Zm9v"})");
  ASSERT_EQ(range["kvs"].size(), 1u);
  EXPECT_EQ(range["kvs"][0]["key"], "Zm9v");
  EXPECT_EQ(range["kvs"][0]["value"], "YmFy");
  EXPECT_EQ(range["kvs"][0]["create_revision"], "2");
  EXPECT_EQ(range["kvs"][0]["mod_revision"], "2");
  EXPECT_EQ(range["kvs"][0]["version"], "1");
  EXPECT_EQ(range["count"], "1");
  EXPECT_FALSE(range["kvs"][0].contains("lease"));  // zero values are omitted, as etcd does
  EXPECT_FALSE(range.contains("more"));
}

TEST_F(JsonGatewayTest, IntegersAreAcceptedAsStringsOrNumbersAndUnknownFieldsIgnored) {
  post("/v3/kv/range", R"({"key":"Zm9v","revision":"2","limit":7,"bogus":1})");
  EXPECT_EQ(api_.last_range().revision, Revision(2));
  EXPECT_EQ(api_.last_range().limit, 7);
  post("/v3/kv/range", R"({"key":"Zm9v","revision":3,"sort_order":"DESCEND"})");
  EXPECT_EQ(api_.last_range().revision, Revision(3));
  EXPECT_EQ(api_.last_range().sort_order, mvcc::SortOrder::kDescend);
  EXPECT_EQ(api_.last_range().key, "foo");
}

// etcd: {"error":"etcdserver: mvcc: required revision has been compacted","message":"...",
// "code":11} with HTTP 400.
TEST_F(JsonGatewayTest, MemberErrorsUseGrpcGatewaysErrorBody) {
  post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  post("/v3/kv/compaction", R"({"revision":"2"})");
  const nlohmann::json error = post("/v3/kv/range", R"({"key":"Zm9v","revision":1})", 400);
  EXPECT_EQ(error["error"], "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(error["message"], error["error"]);
  EXPECT_EQ(error["code"], 11);
}

TEST_F(JsonGatewayTest, MalformedJsonIsInvalidArgument) {
  const nlohmann::json error = post("/v3/kv/range", R"({"key":)", 400);
  EXPECT_EQ(error["code"], 3);
  EXPECT_FALSE(error["error"].get<std::string>().empty());
  EXPECT_TRUE(api_.last_range().key.empty());  // never reached the member
}

TEST_F(JsonGatewayTest, TxnWithEnumNamesAndNestedOps) {
  const nlohmann::json txn = post("/v3/kv/txn", R"({
      "compare":[{"key":"Zm9v","target":"VERSION","version":"0"}],
      "success":[{"request_put":{"key":"Zm9v","value":"YmFy"}}]})");
  EXPECT_EQ(txn["succeeded"], true);
  ASSERT_EQ(txn["responses"].size(), 1u);
  EXPECT_TRUE(txn["responses"][0].contains("response_put"));
}

TEST_F(JsonGatewayTest, LeaseRoutesIncludingEtcdsAliases) {
  const nlohmann::json grant = post("/v3/lease/grant", R"({"TTL":30})");
  EXPECT_EQ(grant["ID"], std::to_string(fake::kKnownLease.value()));
  EXPECT_EQ(grant["TTL"], "30");
  // etcd 3.4 also serves /v3/kv/lease/revoke and the /v3beta prefix.
  EXPECT_EQ(post("/v3/kv/lease/revoke", R"({"ID":"5"})", 404)["code"], 5);
  EXPECT_EQ(post("/v3beta/lease/revoke", R"({"ID":"5"})", 404)["error"],
            "etcdserver: requested lease not found");
}

TEST_F(JsonGatewayTest, MethodsPathsAndStreamingEndpoints) {
  EXPECT_EQ(call("GET", "/v3/kv/range", "").status, 405);
  EXPECT_EQ(call("POST", "/v3/nothing", "{}").status, 404);
  EXPECT_EQ(call("GET", "/nothing", "").status, 404);
  EXPECT_EQ(post("/v3/watch", "{}", 501)["code"], 12);
}

TEST_F(JsonGatewayTest, HealthVersionAndMetrics) {
  const HttpResponse health = call("GET", "/health", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"health":"true"})");
  EXPECT_EQ(call("GET", "/version", "").body, R"({"etcdserver":"3.4.23","etcdcluster":"3.4.0"})");

  post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  post("/v3/kv/put", R"({"value":"YmFy"})");  // the fake accepts it; counted as OK
  post("/v3/lease/revoke", R"({"ID":"5"})", 404);
  const std::string metrics = call("GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("lockstep_gateway_requests_total{path=\"/v3/kv/put\",code=\"OK\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(
                "lockstep_gateway_requests_total{path=\"/v3/lease/revoke\",code=\"NOT_FOUND\"} 1"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace lockstep::api
