#include "reports/html_report.h"

#include <gtest/gtest.h>

#include <string>

#include "reports/report_page.h"
#include "reports/run_model.h"
#include "reports/test_run_directory.h"

namespace lockstep::reports {
namespace {

using nlohmann::json;
using testing::TemporaryDirectory;
using testing::write_failed_run;

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The embedded model, parsed back out of the page the way the page's script reads it.
json embedded_model(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"run-data\">";
  const size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  const size_t end = page.find("</script>", start);
  return json::parse(page.substr(start + open.size(), end - start - open.size()));
}

TEST(HtmlReport, WritesOneSelfContainedPageWithHeaderAndEmbeddedData) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  ASSERT_TRUE(write_html_report(directory.path()).is_ok());
  const std::string page = testing::read_file(directory.file("report.html"));
  EXPECT_NE(page.find("<dd id=\"header-scenario\">leader-crash</dd>"), std::string::npos);
  EXPECT_NE(page.find("<dd id=\"header-seed\">42</dd>"), std::string::npos);
  EXPECT_NE(page.find("class=\"verdict-fail\">fail</dd>"), std::string::npos);
  EXPECT_NE(page.find("9f3c2a1b00d4e5f6"), std::string::npos);
  EXPECT_NE(page.find("<dd id=\"header-sim-time\">1000 ms</dd>"), std::string::npos);
  // Self-contained: nothing is fetched from anywhere.
  EXPECT_EQ(page.find("src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));
  const json model = embedded_model(page);
  EXPECT_EQ(model["operations"].size(), 5u);
  EXPECT_EQ(model["members"].size(), 3u);
  EXPECT_EQ(model["faults"].size(), 3u);
  EXPECT_EQ(model["checks"][0]["name"], "linearizability");
  EXPECT_EQ(model["trace"]["events"], 2);
  EXPECT_EQ(model["scenario"]["name"], "leader-crash");
}

TEST(HtmlReport, HostileKeyCannotCloseTheScriptElement) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  ASSERT_TRUE(write_html_report(directory.path()).is_ok());
  const std::string page = testing::read_file(directory.file("report.html"));
  EXPECT_EQ(page.find(testing::kHostileKey), std::string::npos);
  EXPECT_EQ(page.find("window.injected"), page.rfind("window.injected"));
  // Exactly the page's own three script elements close: error hook, data, renderer.
  EXPECT_EQ(count_of(page, "</script>"), 3u);
  // And the key survives the round trip through the escaped JSON.
  const json model = embedded_model(page);
  EXPECT_EQ(model["operations"][1]["request"]["key"], testing::kHostileKey);
}

TEST(RunModel, ClassifiesOperationsAndFlagsTheCounterexample) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok()) << model.error();
  std::map<int64_t, json> by_id;
  for (const json& op : (*model)["operations"]) by_id[op["id"].get<int64_t>()] = op;
  EXPECT_EQ(by_id[0]["status"], "ok");
  EXPECT_EQ(by_id[1]["status"], "failed");
  EXPECT_EQ(by_id[4]["status"], "indeterminate");
  EXPECT_TRUE(by_id[4]["return_ns"].is_null());
  EXPECT_TRUE(by_id[2]["counterexample"].get<bool>());
  EXPECT_TRUE(by_id[3]["counterexample"].get<bool>());
  EXPECT_FALSE(by_id[0]["counterexample"].get<bool>());
  EXPECT_EQ((*model)["clients"], json({1, 2, 3}));
  // Operations are drawn in invoke order.
  EXPECT_EQ((*model)["operations"][3]["id"], 4);
}

TEST(RunModel, RoleChangesBecomeSegmentsAndCrashesBecomeOutages) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok()) << model.error();
  const json& member_one = (*model)["members"][0];
  EXPECT_EQ(member_one["id"], "1");
  ASSERT_EQ(member_one["segments"].size(), 4u);
  EXPECT_EQ(
      member_one["segments"][2],
      json({{"start_ns", 110'000'000}, {"end_ns", 700'000'000}, {"role", "leader"}, {"term", 2}}));
  EXPECT_EQ(member_one["segments"][3]["end_ns"], 1'000'000'000);
  ASSERT_EQ(member_one["outages"].size(), 1u);
  EXPECT_EQ(member_one["outages"][0],
            json({{"start_ns", 400'000'000}, {"end_ns", 700'000'000}, {"kind", "down"}}));
  EXPECT_EQ(member_one["marks"].size(), 2u);
  EXPECT_EQ((*model)["faults"][2]["end_ns"], nullptr);  // a clock jump has no end
  EXPECT_NE((*model)["faults"][2]["detail"].get<std::string>().find("offset_ms"),
            std::string::npos);
}

// The timeline as the scenario runner writes it: crashes as a "down" state, faults whose
// end is -1 (until the heal), times counted from the run's start while history.jsonl keeps
// the world clock, and the counterexample under "counterexample_operations".
TEST(RunModel, ReadsStateOutagesOpenFaultsAndTheHistoryOrigin) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  testing::write_file(directory.file("timeline.json"),
                      json{{"members", {1, 2}},
                           {"origin_ns", 5'000'000},
                           {"heal_at_ms", 800},
                           {"end_ms", 1000},
                           {"roles",
                            {{{"t_ms", 0}, {"member", 1}, {"state", "leader"}, {"term", 2}},
                             {{"t_ms", 300}, {"member", 1}, {"state", "down"}, {"term", 2}},
                             {{"t_ms", 600}, {"member", 1}, {"state", "follower"}, {"term", 3}},
                             {{"t_ms", 0}, {"member", 2}, {"state", "follower"}, {"term", 2}},
                             {{"t_ms", 500}, {"member", 2}, {"state", "paused"}, {"term", 2}}}},
                           {"faults",
                            {{{"start_ms", 300},
                              {"end_ms", -1},
                              {"action", "crash"},
                              {"targets", "1"},
                              {"detail", "torn"}}}}}
                          .dump());
  testing::write_file(
      directory.file("checks.json"),
      json::array(
          {{{"name", "linearizability"}, {"verdict", "fail"}, {"counterexample_operations", {0}}}})
          .dump());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok()) << model.error();
  const json& member_one = (*model)["members"][0];
  ASSERT_EQ(member_one["segments"].size(), 2u);  // leader, follower; "down" is an outage
  EXPECT_EQ(member_one["outages"][0],
            json({{"start_ns", 300'000'000}, {"end_ns", 600'000'000}, {"kind", "down"}}));
  EXPECT_EQ(member_one["marks"][0]["kind"], "crash");
  EXPECT_EQ(member_one["marks"][1]["kind"], "restart");
  const json& member_two = (*model)["members"][1];
  EXPECT_EQ(member_two["outages"][0]["kind"], "paused");
  ASSERT_EQ(member_two["marks"].size(), 1u);  // paused until the end: no resume mark
  EXPECT_EQ((*model)["faults"][0]["end_ns"], nullptr);
  EXPECT_EQ((*model)["faults"][0]["kind"], "crash");
  EXPECT_EQ((*model)["faults"][0]["detail"], "detail: torn, targets: 1");
  EXPECT_EQ((*model)["heal_at_ns"], 800'000'000);
  EXPECT_EQ((*model)["operations"][0]["invoke_ns"], 5'000'000);  // 10 ms on the world clock
  EXPECT_TRUE((*model)["operations"][0]["counterexample"].get<bool>());
  EXPECT_EQ((*model)["probes"][1]["hits"], 0);
}

TEST(RunModel, MissingOriginIsNoted) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  auto timeline = json::parse(testing::read_file(directory.file("timeline.json")));
  timeline.erase("origin_ns");
  testing::write_file(directory.file("timeline.json"), timeline.dump());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok()) << model.error();
  ASSERT_EQ((*model)["notes"].size(), 1u);
  EXPECT_NE((*model)["notes"][0].get<std::string>().find("no origin_ns"), std::string::npos);
  EXPECT_EQ((*model)["operations"][0]["invoke_ns"], 10'000'000);
}

TEST(RunModel, LargeHistoryIsCappedWithANoteAndKeepsTheCounterexample) {
  TemporaryDirectory directory;
  write_failed_run(directory.path(), static_cast<int>(kMaxDrawnOperations) + 500);
  // Make the last operation part of the counterexample: it lies beyond the cap.
  const int64_t last_id = static_cast<int64_t>(kMaxDrawnOperations) + 504;
  testing::write_file(
      directory.file("checks.json"),
      json::array(
          {{{"name", "linearizability"}, {"verdict", "fail"}, {"counterexample", {last_id}}}})
          .dump());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok()) << model.error();
  EXPECT_EQ((*model)["operations"].size(), kMaxDrawnOperations);
  EXPECT_EQ((*model)["operations_total"], kMaxDrawnOperations + 505);
  EXPECT_EQ((*model)["operations"].back()["id"], last_id);
  EXPECT_TRUE((*model)["operations"].back()["counterexample"].get<bool>());
  ASSERT_EQ((*model)["notes"].size(), 1u);
  EXPECT_NE((*model)["notes"][0].get<std::string>().find("drew 20000 of 20505 operations"),
            std::string::npos);
}

void expect_error(const std::string& directory, ErrorCode code, const std::string& fragment) {
  const Status status = write_html_report(directory);
  ASSERT_FALSE(status.is_ok()) << "expected an error mentioning " << fragment;
  EXPECT_EQ(status.code(), code);
  EXPECT_NE(status.to_string().find(fragment), std::string::npos) << status.to_string();
  EXPECT_FALSE(std::filesystem::exists(directory + "/report.html"));
}

TEST(HtmlReport, MissingFilesAreNamed) {
  for (const char* name : {"summary.json", "history.jsonl", "timeline.json", "checks.json"}) {
    TemporaryDirectory directory;
    write_failed_run(directory.path());
    std::filesystem::remove(directory.file(name));
    expect_error(directory.path(), ErrorCode::kFileNotFound, directory.file(name) + ": missing");
  }
  expect_error("/nonexistent/lockstep-run", ErrorCode::kFileNotFound, "not a directory");
}

TEST(HtmlReport, MalformedFilesNameTheFileLineAndProblem) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  testing::write_file(directory.file("summary.json"), "{\"verdict\": \"pass\",");
  expect_error(directory.path(), ErrorCode::kInvalidInput,
               directory.file("summary.json") + ": malformed JSON");

  write_failed_run(directory.path());
  testing::write_file(directory.file("summary.json"), "{\"scenario\": \"x\"}");
  expect_error(directory.path(), ErrorCode::kInvalidInput, "field 'verdict'");

  write_failed_run(directory.path());
  testing::write_file(directory.file("history.jsonl"),
                      "{\"client\":1,\"invoke\":1,\"return\":2,\"request\":{}}\n{\"client\":\n");
  expect_error(directory.path(), ErrorCode::kInvalidInput,
               directory.file("history.jsonl") + ":2: malformed JSON");

  write_failed_run(directory.path());
  testing::write_file(directory.file("history.jsonl"), "{\"client\":\"one\",\"invoke\":1}\n");
  expect_error(directory.path(), ErrorCode::kInvalidInput,
               "operation 0: field 'client' must be an integer");

  write_failed_run(directory.path());
  testing::write_file(directory.file("timeline.json"),
                      "{\"roles\": [{\"member\": 1, \"t_ms\": \"soon\"}]}");
  expect_error(directory.path(), ErrorCode::kInvalidInput,
               "roles[0]: field 't_ms' must be a number");

  write_failed_run(directory.path());
  testing::write_file(directory.file("checks.json"), "[{\"verdict\": \"pass\"}]");
  expect_error(directory.path(), ErrorCode::kInvalidInput, "check 0: field 'name'");

  write_failed_run(directory.path());
  testing::write_file(directory.file("trace.jsonl"), "[1,2]\n");
  expect_error(directory.path(), ErrorCode::kInvalidInput,
               directory.file("trace.jsonl") + ":1: expected a JSON object");
}

TEST(ReportPage, PageCarriesTheErrorHookBeforeTheRendererAndTheMarkerId) {
  TemporaryDirectory directory;
  write_failed_run(directory.path());
  auto model = build_run_model(directory.path());
  ASSERT_TRUE(model.is_ok());
  const std::string page = render_report_page(*model);
  const size_t hook = page.find("window.onerror");
  const size_t renderer = page.find("JSON.parse(document.getElementById('run-data')");
  ASSERT_NE(hook, std::string::npos);
  ASSERT_NE(renderer, std::string::npos);
  EXPECT_LT(hook, renderer);
  EXPECT_NE(page.find(kRenderedMarkerId), std::string::npos);
  EXPECT_NE(page.find(kScriptErrorClass), std::string::npos);
}

}  // namespace
}  // namespace lockstep::reports
