#include "reports/index_report.h"

#include <gtest/gtest.h>

#include "reports/test_run_directory.h"

namespace lockstep::reports {
namespace {

using nlohmann::json;

TEST(IndexReport, ListsFailuresFirstWithLinksAndTheProbesNeverHit) {
  testing::TemporaryDirectory directory;
  testing::write_file(directory.file("index.json"),
                      json{{"runs",
                            {{{"scenario", "kv-basic"},
                              {"seed", 1},
                              {"verdict", "pass"},
                              {"trace_hash", "aaaa"},
                              {"sim_time_ms", 15000},
                              {"directory", "seed-1"}},
                             {{"scenario", "kv-basic"},
                              {"seed", 2},
                              {"verdict", "fail"},
                              {"trace_hash", "bbbb"},
                              {"failed_checks", {"linearizability", "liveness"}},
                              {"replay", "lockstep sim run kv.json --seed 2"},
                              {"sim_time_ms", 9000},
                              {"directory", "seed-2"}},
                             {{"scenario", "<b>bold</b>"},
                              {"seed", 3},
                              {"verdict", "pass"},
                              {"trace_hash", "cccc"},
                              {"sim_time_ms", 1},
                              {"directory", "javascript:alert(1)"}}}},
                           {"probes_never_hit", {"raft.snapshot_during_election", "wal.torn_tail"}}}
                          .dump());
  ASSERT_TRUE(write_html_index(directory.path()).is_ok());
  const std::string page = testing::read_file(directory.file("index.html"));
  const size_t failed = page.find("bbbb");
  const size_t passed = page.find("aaaa");
  ASSERT_NE(failed, std::string::npos);
  ASSERT_NE(passed, std::string::npos);
  EXPECT_LT(failed, passed);
  EXPECT_NE(page.find("<a href=\"seed-2/report.html\">"), std::string::npos);
  EXPECT_NE(page.find("3 runs, 1 failed"), std::string::npos);
  EXPECT_NE(page.find(">linearizability, liveness<"), std::string::npos);
  EXPECT_NE(page.find(">lockstep sim run kv.json --seed 2<"), std::string::npos);
  EXPECT_NE(page.find("<li>wal.torn_tail</li>"), std::string::npos);
  EXPECT_NE(page.find("Coverage probes never hit (2)"), std::string::npos);
  EXPECT_EQ(page.find("<b>bold"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;bold"), std::string::npos);
  EXPECT_EQ(page.find("href=\"javascript:"), std::string::npos);
}

TEST(IndexReport, AcceptsABareArrayOfRuns) {
  testing::TemporaryDirectory directory;
  testing::write_file(directory.file("index.json"),
                      json::array({{{"scenario", "s"}, {"seed", 9}, {"verdict", "fail"}}}).dump());
  ASSERT_TRUE(write_html_index(directory.path()).is_ok());
  const std::string page = testing::read_file(directory.file("index.html"));
  EXPECT_NE(page.find("1 runs, 1 failed"), std::string::npos);
  EXPECT_NE(page.find("no report written"), std::string::npos);
}

TEST(IndexReport, BadInputNamesTheFile) {
  testing::TemporaryDirectory directory;
  Status missing = write_html_index(directory.path());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.to_string().find(directory.file("index.json") + ": missing"),
            std::string::npos);
  testing::write_file(directory.file("index.json"), "{\"runs\": 3}");
  Status not_array = write_html_index(directory.path());
  ASSERT_FALSE(not_array.is_ok());
  EXPECT_NE(not_array.to_string().find("'runs' must be an array"), std::string::npos);
  testing::write_file(directory.file("index.json"), "{\"runs\": [1]}");
  Status not_object = write_html_index(directory.path());
  ASSERT_FALSE(not_object.is_ok());
  EXPECT_NE(not_object.to_string().find("runs[0]: expected a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::reports
