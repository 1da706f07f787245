#include "checker/history_format.h"

#include <gtest/gtest.h>

namespace lockstep::checker {
namespace {

TEST(HistoryFormatTest, JepsenLogPairsEventsAndMarksInfoIndeterminate) {
  const std::string log =
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n"
      "INFO  jepsen.util - 2   :invoke :write  3\n"
      "INFO  jepsen.util - 0\t:ok\t:read\t3\n"
      "INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n"
      "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n"
      "INFO  jepsen.util - 7\t:invoke\t:write\t4\n";
  auto history = parse_history(log, HistoryFormat::kJepsen, "x.log");
  ASSERT_TRUE(history.is_ok()) << history.error().to_string();
  ASSERT_EQ(history->operations.size(), 4u);
  const auto& ops = history->operations;
  EXPECT_EQ(ops[0].response.value, "3");
  EXPECT_EQ(ops[0].invoke_time, 1);
  EXPECT_EQ(ops[0].return_time, 4);
  EXPECT_FALSE(ops[1].response.succeeded);  // :fail on a cas is a failed compare
  EXPECT_FALSE(ops[1].indeterminate);
  EXPECT_TRUE(ops[2].indeterminate);  // :info
  EXPECT_TRUE(ops[3].indeterminate);  // never completed
  EXPECT_EQ(history->model_hint, "cas-register");
}

TEST(HistoryFormatTest, PorcupineKvLogReadsNilGetAsEmpty) {
  const std::string log =
      "{:process 0, :type :invoke, :f :get, :key \"5\", :value nil}\n"
      "{:process 1, :type :invoke, :f :append, :key \"5\", :value \"x 1 0 y\"}\n"
      "{:process 0, :type :ok, :f :get, :key \"5\", :value \"\"}\n"
      "{:process 1, :type :ok, :f :append, :key \"5\", :value \"x 1 0 y\"}\n";
  auto history = parse_history(log, HistoryFormat::kPorcupineKv, "kv.txt");
  ASSERT_TRUE(history.is_ok()) << history.error().to_string();
  ASSERT_EQ(history->operations.size(), 2u);
  EXPECT_EQ(history->operations[0].response.value, "");
  EXPECT_EQ(history->operations[1].request.value, "x 1 0 y");
}

// Bad input names the file, the line and the problem.
TEST(HistoryFormatTest, BadInputNamesFileLineAndProblem) {
  struct Case {
    HistoryFormat format;
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {HistoryFormat::kJepsen, "INFO  jepsen.util - 0\t:ok\t:read\tnil\n",
       "h:1: process 0 completes an operation it never invoked"},
      {HistoryFormat::kJepsen, "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nhello\n",
       "h:2: expected 'INFO"},
      {HistoryFormat::kJepsen,
       "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
       "h:2: process 0 invokes a new operation while its operation from line 1 is still pending"},
      {HistoryFormat::kPorcupineKv, "{:process 0, :type :invoke, :f :frob, :key \"1\", :value nil}",
       "h:1: unknown function ':frob'"},
      {HistoryFormat::kJsonl, "{\"client\": 1}\n", "h:1: missing invoke"},
      {HistoryFormat::kJsonl, "\n\n{oops\n", "h:3: not valid JSON"},
      {HistoryFormat::kJsonl,
       "{\"client\":1,\"invoke\":5,\"return\":2,\"request\":{\"op\":\"get\",\"key\":\"a\"},"
       "\"response\":{}}",
       "h:1: return (2) is before invoke (5)"},
      {HistoryFormat::kJsonl,
       "{\"client\":1,\"invoke\":5,\"return\":6,\"request\":{\"op\":\"put\",\"key\":\"a\"},"
       "\"response\":{}}",
       "h:1: missing request.value"},
      {HistoryFormat::kJsonl,
       "{\"client\":1,\"invoke\":5,\"return\":6,\"request\":{\"op\":\"get\",\"key\":\"a\"},"
       "\"response\":{\"revision\":\"7\"}}",
       "h:1: response.revision must be an integer"},
  };
  for (const Case& c : cases) {
    auto history = parse_history(c.text, c.format, "h");
    ASSERT_FALSE(history.is_ok()) << c.text;
    EXPECT_EQ(history.error().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(history.error().detail().rfind(c.expected, 0), 0u)
        << "got: " << history.error().detail() << "\nwanted prefix: " << c.expected;
  }
}

TEST(HistoryFormatTest, JsonlRoundTripsEtcdOperations) {
  const std::string text =
      "{\"lockstep_history\":1,\"model\":\"etcd\",\"initial_revision\":4}\n"
      "{\"client\":1,\"invoke\":10,\"return\":20,\"request\":{\"op\":\"put\",\"key\":\"a\","
      "\"value\":\"x\"},\"response\":{\"revision\":5}}\n"
      "{\"client\":2,\"invoke\":11,\"request\":{\"op\":\"txn\",\"compare\":[{\"key\":\"a\","
      "\"target\":\"mod\",\"result\":\">\",\"number\":3}],\"success\":[{\"op\":\"range\","
      "\"key\":\"a\",\"range_end\":\"b\"}],\"failure\":[{\"op\":\"delete\",\"key\":\"a\"}]}}\n"
      "{\"client\":3,\"invoke\":12,\"return\":13,\"request\":{\"op\":\"get\",\"key\":\"a\"},"
      "\"response\":{\"error\":\"etcdserver: request timed out\"}}\n";
  auto history = parse_history(text, HistoryFormat::kJsonl, "h.jsonl");
  ASSERT_TRUE(history.is_ok()) << history.error().to_string();
  EXPECT_EQ(history->model_hint, "etcd");
  EXPECT_EQ(history->initial_revision, 4);
  // The definite failure (response.error) is dropped: it took no effect and saw nothing.
  ASSERT_EQ(history->operations.size(), 2u);
  EXPECT_TRUE(history->operations[1].indeterminate);
  ASSERT_EQ(history->operations[1].request.compares.size(), 1u);
  EXPECT_EQ(history->operations[1].request.compares[0].target, CompareTarget::kModRevision);

  auto again = parse_history(to_jsonl(*history, "etcd"), HistoryFormat::kJsonl, "again");
  ASSERT_TRUE(again.is_ok()) << again.error().to_string();
  ASSERT_EQ(again->operations.size(), 2u);
  EXPECT_EQ(again->initial_revision, 4);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(describe_operation(again->operations[i]), describe_operation(history->operations[i]));
    EXPECT_EQ(again->operations[i].invoke_time, history->operations[i].invoke_time);
  }
}

TEST(HistoryFormatTest, DetectsFormatFromContentThenExtension) {
  EXPECT_EQ(detect_history_format("INFO  jepsen.util - 0\t:invoke\t:read\tnil", "x"),
            HistoryFormat::kJepsen);
  EXPECT_EQ(detect_history_format("\n{:process 0}", "x"), HistoryFormat::kPorcupineKv);
  EXPECT_EQ(detect_history_format("{\"client\": 0}", "x.log"), HistoryFormat::kJsonl);
  EXPECT_EQ(detect_history_format("", "etcd_095.log"), HistoryFormat::kJepsen);
  EXPECT_EQ(detect_history_format("", "x.jsonl"), HistoryFormat::kJsonl);
  EXPECT_EQ(detect_history_format("hello", "x"), std::nullopt);
}

}  // namespace
}  // namespace lockstep::checker
