#include "checker/watch_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lockstep::checker {
namespace {

// Writes on a fresh store: rev 2 put a=1, rev 3 put b=1, rev 4 a txn putting a=2 and b=2,
// rev 5 delete a, rev 6 put a=3.
WriteLog five_writes() {
  WriteLog log;
  log.complete = true;
  log.changes = {
      {2, "a", WatchEventType::kPut, "1"},   {3, "b", WatchEventType::kPut, "1"},
      {4, "a", WatchEventType::kPut, "2"},   {4, "b", WatchEventType::kPut, "2"},
      {5, "a", WatchEventType::kDelete, ""}, {6, "a", WatchEventType::kPut, "3"},
  };
  return log;
}

WatchEvent put(const std::string& key, const std::string& value, int64_t revision) {
  return WatchEvent{WatchEventType::kPut, WatchKeyValue{key, value, 0, revision, 0}, {}};
}
WatchEvent del(const std::string& key, int64_t revision) {
  return WatchEvent{WatchEventType::kDelete, WatchKeyValue{key, "", 0, revision, 0}, {}};
}
WatchResponse response(std::vector<WatchEvent> events) {
  return WatchResponse{events.empty() ? 0 : events.back().kv.mod_revision, std::move(events), false,
                       0};
}
WatchResponse progress(int64_t revision) {
  return WatchResponse{revision, {}, false, 0};
}

// A prefix watch on every key from revision 2 that sees all five revisions.
WatchRecord everything_watch() {
  WatchRecord watch;
  watch.watch_id = 1;
  watch.key = "";
  watch.range_end = std::string(1, '\0');
  watch.start_revision = 2;
  watch.responses = {response({put("a", "1", 2)}), response({put("b", "1", 3)}),
                     response({put("a", "2", 4), put("b", "2", 4)}),
                     response({del("a", 5), put("a", "3", 6)}), progress(6)};
  return watch;
}

// The one guarantee a broken history must violate, with a message naming the problem.
void expect_only(const WatchCheckResult& result, WatchGuarantee guarantee,
                 const std::string& message_part) {
  ASSERT_FALSE(result.ok());
  for (const WatchViolation& violation : result.violations) {
    EXPECT_EQ(violation.guarantee, guarantee)
        << watch_guarantee_name(violation.guarantee) << ": " << violation.message;
  }
  EXPECT_NE(result.violations.front().message.find(message_part), std::string::npos)
      << result.violations.front().message;
}

TEST(WatchCheckerTest, ACorrectHistoryPasses) {
  WatchRecord single_key;
  single_key.watch_id = 2;
  single_key.key = "a";
  single_key.start_revision = 3;
  single_key.prev_kv = true;
  WatchEvent second = put("a", "2", 4);
  second.prev_kv = WatchKeyValue{"a", "1", 2, 2, 1};
  WatchEvent removal = del("a", 5);
  removal.prev_kv = WatchKeyValue{"a", "2", 2, 4, 2};
  single_key.responses = {progress(3), response({second}), response({removal}),
                          response({put("a", "3", 6)})};
  const auto result = check_watches(five_writes(), {everything_watch(), single_key});
  EXPECT_TRUE(result.ok()) << result.violations.front().message;
}

TEST(WatchCheckerTest, OrderedCatchesAnEventGoingBackInRevision) {
  WatchRecord watch = everything_watch();
  std::swap(watch.responses[0], watch.responses[1]);
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kOrdered,
              "PUT a at revision 2 delivered after an event at revision 3");
}

TEST(WatchCheckerTest, UniqueCatchesADuplicateEvent) {
  WatchRecord watch = everything_watch();
  watch.responses[1].events.insert(watch.responses[1].events.begin(), put("a", "1", 2));
  const auto result = check_watches(five_writes(), {watch});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.violations.front().guarantee, WatchGuarantee::kUnique);
  EXPECT_NE(result.violations.front().message.find("PUT a at revision 2 delivered twice"),
            std::string::npos);
}

TEST(WatchCheckerTest, AtomicCatchesATxnSplitAcrossResponses) {
  WatchRecord watch = everything_watch();
  watch.responses[2] = response({put("a", "2", 4)});
  watch.responses.insert(watch.responses.begin() + 3, response({put("b", "2", 4)}));
  const auto result = check_watches(five_writes(), {watch});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.violations.front().guarantee, WatchGuarantee::kAtomic);
  EXPECT_NE(result.violations.front().message.find("holds 1 of the 2 events of revision 4"),
            std::string::npos);
}

TEST(WatchCheckerTest, ReliableCatchesAGap) {
  WatchRecord watch = everything_watch();
  watch.responses.erase(watch.responses.begin() + 1);  // revision 3 never arrives
  watch.responses.pop_back();                          // and no bookmark claims it
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kReliable,
              "PUT b at revision 3 was never delivered");
}

TEST(WatchCheckerTest, CompactionCancellationEndsTheReliabilityPromise) {
  WatchRecord watch = everything_watch();
  watch.responses = {response({put("a", "1", 2)}), WatchResponse{2, {}, true, 3}};
  EXPECT_TRUE(check_watches(five_writes(), {watch}).ok());
  watch.responses.push_back(response({put("b", "1", 3)}));
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kOrdered,
              "after the watch was canceled");
}

TEST(WatchCheckerTest, ResumableCatchesLossAcrossARestart) {
  WatchRecord first = everything_watch();
  first.responses = {response({put("a", "1", 2)}), response({put("b", "1", 3)})};
  WatchRecord resumed = everything_watch();
  resumed.watch_id = 2;
  resumed.resumes_watch_id = 1;
  resumed.start_revision = 4;
  resumed.responses = {response({put("a", "2", 4), put("b", "2", 4)}),
                       response({del("a", 5), put("a", "3", 6)})};
  EXPECT_TRUE(check_watches(five_writes(), {first, resumed}).ok());

  // The restarted watch loses revision 4 although it asked for it.
  resumed.responses.erase(resumed.responses.begin());
  expect_only(check_watches(five_writes(), {first, resumed}), WatchGuarantee::kResumable,
              "PUT a at revision 4 was never delivered");

  // Restarting past the last revision seen loses the revisions between.
  resumed.start_revision = 5;
  expect_only(check_watches(five_writes(), {first, resumed}), WatchGuarantee::kResumable,
              "resumes watch 1 at revision 5, but that watch was told about revisions up to 3");
}

// A resumed watch that was told nothing new (here only a progress notification at 2 from a
// member behind its start) passes on what the watch it resumed was told.
TEST(WatchCheckerTest, ResumingAWatchThatWasToldNothingNewKeepsItsStart) {
  WatchRecord first = everything_watch();
  first.responses = {response({put("a", "1", 2)}), response({put("b", "1", 3)})};
  WatchRecord idle = everything_watch();
  idle.watch_id = 2;
  idle.resumes_watch_id = 1;
  idle.start_revision = 4;
  idle.responses = {progress(2)};
  WatchRecord again = idle;
  again.watch_id = 3;
  again.resumes_watch_id = 2;
  again.responses = {response({put("a", "2", 4), put("b", "2", 4)})};
  EXPECT_TRUE(check_watches(five_writes(), {first, idle, again}).ok());
  again.start_revision = 5;
  again.responses = {response({del("a", 5), put("a", "3", 6)})};
  expect_only(check_watches(five_writes(), {first, idle, again}), WatchGuarantee::kResumable,
              "resumes watch 2 at revision 5, but that watch was told about revisions up to 3");
}

TEST(WatchCheckerTest, BookmarkableCatchesAProgressNotificationAheadOfEvents) {
  WatchRecord watch = everything_watch();
  // A bookmark at 4 while revision 4 is still to come: it promised 4 was delivered.
  watch.responses.insert(watch.responses.begin() + 2, progress(4));
  const auto result = check_watches(five_writes(), {watch});
  expect_only(result, WatchGuarantee::kBookmarkable,
              "PUT a at revision 4 was not delivered before the progress notification at 4");
  EXPECT_NE(result.violations.back().message.find("after a progress notification at 4"),
            std::string::npos);
}

// A single-key watch told of progress through revisions that only touched other keys: the
// bookmarks promise nothing was missed, and nothing was.
TEST(WatchCheckerTest, BookmarkablePassesForNotificationsBetweenEvents) {
  WatchRecord watch;
  watch.watch_id = 1;
  watch.key = "b";
  watch.start_revision = 2;
  watch.progress_notify = true;
  watch.responses = {progress(2), response({put("b", "1", 3)}), progress(3),
                     response({put("b", "2", 4)}), progress(6)};
  const WatchCheckResult result = check_watches(five_writes(), {watch});
  EXPECT_TRUE(result.ok()) << result.violations.front().message;
}

// The same watch, but the notification at 5 overtook the event at 4: the event arrived
// after a bookmark that covered it, and the bookmark promised an event not yet delivered.
TEST(WatchCheckerTest, BookmarkableCatchesAnEventOvertakenByANotification) {
  WatchRecord watch;
  watch.watch_id = 1;
  watch.key = "b";
  watch.start_revision = 2;
  watch.responses = {response({put("b", "1", 3)}), progress(5), response({put("b", "2", 4)})};
  const auto result = check_watches(five_writes(), {watch});
  expect_only(result, WatchGuarantee::kBookmarkable,
              "PUT b at revision 4 was not delivered before the progress notification at 5");
  ASSERT_EQ(result.violations.size(), 2u);
  EXPECT_NE(result.violations[1].message.find("PUT b at revision 4 delivered after a progress "
                                              "notification at 5"),
            std::string::npos)
      << result.violations[1].message;
}

TEST(WatchCheckerTest, BookmarkableCatchesANotificationGoingBackwards) {
  WatchRecord watch = everything_watch();
  watch.responses.push_back(progress(5));
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kBookmarkable,
              "progress notification at revision 5 after one at revision 6 (went backwards)");
}

TEST(WatchCheckerTest, PrevKvMustBeTheKeysPreviousVersion) {
  WatchRecord watch;
  watch.watch_id = 3;
  watch.key = "a";
  watch.start_revision = 4;
  watch.prev_kv = true;
  WatchEvent event = put("a", "2", 4);
  event.prev_kv = WatchKeyValue{"a", "0", 2, 2, 1};  // revision 2 wrote "1", not "0"
  watch.responses = {response({event})};
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kPrevKv,
              "prev_kv \"0\" at revision 2 is not what was written there");

  // After the delete at 5 the key had no previous version for the put at 6.
  watch.start_revision = 6;
  WatchEvent recreated = put("a", "3", 6);
  recreated.prev_kv = WatchKeyValue{"a", "2", 2, 4, 2};
  watch.responses = {response({recreated})};
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kPrevKv,
              "given, but the key did not exist before");
}

TEST(WatchCheckerTest, FiltersCatchAPutDeliveredToANoPutWatch) {
  WatchRecord watch;
  watch.watch_id = 4;
  watch.key = "a";
  watch.start_revision = 2;
  watch.filter_noput = true;
  watch.responses = {response({del("a", 5)})};
  EXPECT_TRUE(check_watches(five_writes(), {watch}).ok());
  watch.responses.push_back(response({put("a", "3", 6)}));
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kFilters,
              "PUT a at revision 6 delivered despite the NOPUT filter");
}

TEST(WatchCheckerTest, AnEventMustBeACommittedWrite) {
  WatchRecord watch = everything_watch();
  watch.responses[0] = response({put("a", "wrong", 2)});
  expect_only(check_watches(five_writes(), {watch}), WatchGuarantee::kMatchesWrites,
              "carries value \"wrong\", the write put \"1\"");
}

}  // namespace
}  // namespace lockstep::checker
