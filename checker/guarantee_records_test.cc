// The watch and lock records of a jsonl history (docs/HISTORY_FORMAT.md) parse into the
// checkers' structs, and the hand-made files under testdata/ pass or fail as intended.
#include "checker/guarantee_records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "checker/history_format.h"

namespace lockstep::checker {
namespace {

const std::string kTestData = CHECKER_TESTDATA_DIR;

std::string read_file(const std::string& name) {
  std::ifstream in(kTestData + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

GuaranteeRecords records_of(const std::string& name) {
  auto parsed = parse_guarantee_records(read_file(name), name);
  EXPECT_TRUE(parsed.is_ok()) << parsed.error().to_string();
  return parsed.is_ok() ? *parsed : GuaranteeRecords{};
}

TEST(GuaranteeRecordsTest, ParsesEveryFieldOfAWatchRecord) {
  const GuaranteeRecords records = records_of("watch_ok.jsonl");
  ASSERT_TRUE(records.has_write_log);
  EXPECT_TRUE(records.write_log.complete);
  ASSERT_EQ(records.write_log.changes.size(), 3u);
  EXPECT_EQ(records.write_log.changes[2].type, WatchEventType::kDelete);
  ASSERT_EQ(records.watches.size(), 1u);
  const WatchRecord& watch = records.watches[0];
  EXPECT_EQ(watch.watch_id, 1);
  EXPECT_EQ(watch.range_end, "watch0");
  EXPECT_TRUE(watch.prev_kv);
  ASSERT_EQ(watch.responses.size(), 3u);
  const WatchEvent& removal = watch.responses[2].events.at(0);
  EXPECT_EQ(removal.type, WatchEventType::kDelete);
  EXPECT_EQ(removal.kv.mod_revision, 4);
  ASSERT_TRUE(removal.prev_kv.has_value());
  EXPECT_EQ(removal.prev_kv->create_revision, 2);
  EXPECT_TRUE(records.lock_holds.empty());
}

TEST(GuaranteeRecordsTest, AFaithfulWatchPassesAndADuplicatedLateEventFails) {
  const GuaranteeRecords good = records_of("watch_ok.jsonl");
  const WatchCheckResult ok = check_watches(good.write_log, good.watches);
  EXPECT_TRUE(ok.ok()) << ok.violations.front().message;

  const GuaranteeRecords bad = records_of("watch_reordered.jsonl");
  const WatchCheckResult result = check_watches(bad.write_log, bad.watches);
  ASSERT_FALSE(result.ok());
  bool ordered = false;
  for (const WatchViolation& violation : result.violations) {
    ordered = ordered || violation.guarantee == WatchGuarantee::kOrdered;
  }
  EXPECT_TRUE(ordered) << result.violations.front().message;
}

// Hand-written histories with progress notifications (responses with no events): one
// whose bookmarks each come after every event they cover, and one whose bookmark at 4
// overtook the event at 4.
TEST(GuaranteeRecordsTest, BookmarksAfterTheirEventsPassAndAnEarlyBookmarkFails) {
  const GuaranteeRecords good = records_of("watch_bookmark_ok.jsonl");
  ASSERT_EQ(good.watches.size(), 1u);
  EXPECT_TRUE(good.watches[0].progress_notify);
  ASSERT_EQ(good.watches[0].responses.size(), 5u);
  EXPECT_TRUE(good.watches[0].responses[1].events.empty());
  const WatchCheckResult ok = check_watches(good.write_log, good.watches);
  EXPECT_TRUE(ok.ok()) << ok.violations.front().message;

  const GuaranteeRecords bad = records_of("watch_bookmark_early.jsonl");
  const WatchCheckResult result = check_watches(bad.write_log, bad.watches);
  ASSERT_EQ(result.violations.size(), 2u);
  for (const WatchViolation& violation : result.violations) {
    EXPECT_EQ(violation.guarantee, WatchGuarantee::kBookmarkable) << violation.message;
  }
  EXPECT_EQ(result.violations[0].message,
            "watch 1: PUT watch/b at revision 4 was not delivered before the progress "
            "notification at 4");
  EXPECT_EQ(result.violations[1].message,
            "watch 1: PUT watch/b at revision 4 delivered after a progress notification at 4");
}

TEST(GuaranteeRecordsTest, SuccessiveLockHoldersPassAndOverlappingOnesFail) {
  const GuaranteeRecords good = records_of("lock_ok.jsonl");
  ASSERT_EQ(good.lock_holds.size(), 2u);
  ASSERT_EQ(good.fenced_writes.size(), 3u);
  EXPECT_EQ(good.lock_holds[0].release_invoke, 400);
  EXPECT_FALSE(good.lock_holds[0].lease_lost_time.has_value());
  EXPECT_FALSE(good.fenced_writes[2].accepted);
  const LockCheckResult ok = check_locks(good.lock_holds, good.fenced_writes);
  EXPECT_TRUE(ok.ok()) << ok.violations.front().message;

  const GuaranteeRecords bad = records_of("lock_overlap.jsonl");
  const LockCheckResult result = check_locks(bad.lock_holds, bad.fenced_writes);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.violations.front().guarantee, LockGuarantee::kMutualExclusion);
}

TEST(GuaranteeRecordsTest, BadInputNamesTheLineAndTheField) {
  auto parsed = parse_guarantee_records(read_file("lock_bad_field.jsonl"), "bad.jsonl");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.error().to_string().find("bad.jsonl:2: fencing_revision must be an integer"),
            std::string::npos)
      << parsed.error().to_string();

  const std::string nested =
      R"({"record":"watch","watch_id":1,"key":"a","responses":[{"header_revision":2,)"
      R"("events":[{"type":"PUT","kv":{"key":"a","mod_revision":"2"}}]}]})";
  auto watch = parse_guarantee_records("\n" + nested + "\n", "w.jsonl");
  ASSERT_FALSE(watch.is_ok());
  EXPECT_NE(watch.error().to_string().find(
                "w.jsonl:2: responses[0].events[0].kv.mod_revision must be an integer"),
            std::string::npos)
      << watch.error().to_string();

  auto missing = parse_guarantee_records(R"({"record":"lock_hold","client":1,"lock":"l"})", "m");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.error().to_string().find("m:1: missing field acquire_invoke"),
            std::string::npos)
      << missing.error().to_string();

  auto unknown = parse_guarantee_records(R"({"record":"lease"})", "u");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.error().to_string().find("u:1: record 'lease' is not one of"),
            std::string::npos);
}

TEST(GuaranteeRecordsTest, TheOperationParserSkipsRecordsButRejectsUnknownKinds) {
  auto history = parse_history(read_file("watch_ok.jsonl"), HistoryFormat::kJsonl, "w");
  ASSERT_TRUE(history.is_ok()) << history.error().to_string();
  EXPECT_EQ(history->operations.size(), 3u);
  auto typo = parse_history("{\"record\":\"wach\"}\n", HistoryFormat::kJsonl, "t");
  ASSERT_FALSE(typo.is_ok());
  EXPECT_NE(typo.error().to_string().find("t:1: record must be one of"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::checker
