#include "core/mvcc/watch_hub.h"

#include <gtest/gtest.h>

#include "core/mvcc/test_harness.h"

namespace lockstep::mvcc {
namespace {

using testing::Harness;

std::vector<WatchResponse> take_all(Harness& h) {
  std::vector<WatchResponse> all;
  while (true) {
    Result<std::vector<WatchResponse>> taken = h.machine().watch_hub().take_responses(1000);
    EXPECT_TRUE(taken.is_ok());
    if (!taken.is_ok() || taken->empty()) break;
    for (WatchResponse& response : *taken) all.push_back(std::move(response));
  }
  return all;
}

// (revision, type, key) of every event, in delivery order.
std::vector<std::tuple<int64_t, EventType, std::string>> flatten(
    const std::vector<WatchResponse>& responses) {
  std::vector<std::tuple<int64_t, EventType, std::string>> events;
  for (const WatchResponse& response : responses) {
    for (const Event& event : response.events) {
      events.emplace_back(event.kv.mod_revision.value(), event.type, event.kv.key);
    }
  }
  return events;
}

TEST(WatchHubTest, WatchFromNowSeesLaterWritesInOrder) {
  Harness h;
  h.put("a", "old");
  WatchResponse created = h.machine().watch_hub().create({.key = "a"});
  EXPECT_TRUE(created.created);
  EXPECT_FALSE(created.canceled);
  EXPECT_EQ(created.watch_id, 0);  // etcd: automatic ids start at 0
  h.put("a", "1");
  h.put("b", "ignored");
  h.del("a");
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 2u);  // one response per revision for a synced watcher
  EXPECT_EQ(flatten(responses), (std::vector<std::tuple<int64_t, EventType, std::string>>{
                                    {3, EventType::kPut, "a"}, {5, EventType::kDelete, "a"}}));
  EXPECT_EQ(responses[0].header.revision, Revision(3));
  EXPECT_FALSE(responses[0].events[0].prev_kv);  // not asked for
}

TEST(WatchHubTest, PastStartRevisionReplaysHistoryFromTheBackend) {
  Harness h;
  h.put("k", "1");  // 2
  h.put("x", "1");  // 3
  h.put("k", "2");  // 4
  h.del("k");       // 5
  h.machine().watch_hub().create({.key = "k", .start_revision = Revision(3), .prev_kv = true});
  h.put("k", "3");  // 6, after the watch: the watcher is unsynced until it catches up
  auto responses = take_all(h);
  auto events = flatten(responses);
  EXPECT_EQ(
      events,
      (std::vector<std::tuple<int64_t, EventType, std::string>>{
          {4, EventType::kPut, "k"}, {5, EventType::kDelete, "k"}, {6, EventType::kPut, "k"}}));
  // prev_kv while catching up comes from a read at mod_revision - 1.
  ASSERT_TRUE(responses[0].events[0].prev_kv);
  EXPECT_EQ(responses[0].events[0].prev_kv->value, "1");
  EXPECT_EQ(responses[0].events[1].prev_kv->value, "2");
  EXPECT_FALSE(responses[0].events[2].prev_kv);  // a create has no previous version
  EXPECT_EQ(h.machine().watch_hub().unsynced_count(), 0u);
}

TEST(WatchHubTest, FutureStartRevisionWaits) {
  Harness h;
  h.machine().watch_hub().create({.key = "k", .start_revision = Revision(4)});
  h.put("k", "2");  // 2
  h.put("k", "3");  // 3
  h.put("k", "4");  // 4
  EXPECT_EQ(flatten(take_all(h)),
            (std::vector<std::tuple<int64_t, EventType, std::string>>{{4, EventType::kPut, "k"}}));
}

TEST(WatchHubTest, RangeWatchAndFilters) {
  Harness h;
  h.machine().watch_hub().create(
      {.key = "p/", .range_end = "p0", .filters = {WatchFilter::kNoDelete}});
  h.machine().watch_hub().create(
      {.key = "p/", .range_end = "p0", .filters = {WatchFilter::kNoPut}});
  h.put("p/a", "1");
  h.put("q", "1");
  h.del("p/a");
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].watch_id, 0);
  EXPECT_EQ(responses[0].events.at(0).type, EventType::kPut);
  EXPECT_EQ(responses[1].watch_id, 1);
  EXPECT_EQ(responses[1].events.at(0).type, EventType::kDelete);
}

TEST(WatchHubTest, EventsOfOneTxnStayInOneResponse) {
  Harness h;
  h.machine().watch_hub().create(
      {.key = "a", .range_end = std::string(1, '\0'), .start_revision = Revision(1)});
  TxnRequest txn;
  for (int index = 0; index < 50; ++index) {
    txn.success.push_back(put_op({.key = "k" + std::to_string(index), .value = "v"}));
  }
  h.txn(txn);
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].events.size(), 50u);
}

TEST(WatchHubTest, CompactedStartRevisionCancelsWithCompactRevision) {
  Harness h;
  h.put("k", "1");  // 2
  h.put("k", "2");  // 3
  h.put("k", "3");  // 4
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(3)});
  WatchResponse created =
      h.machine().watch_hub().create({.key = "k", .start_revision = Revision(2)});
  EXPECT_TRUE(created.created);
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(responses[0].canceled);
  EXPECT_EQ(responses[0].compact_revision, Revision(3));
  EXPECT_FALSE(h.machine().watch_hub().exists(created.watch_id));
  // From the compaction revision itself the history is still there (etcd: minRev < compactRev).
  h.machine().watch_hub().create({.key = "k", .start_revision = Revision(3)});
  // Revision 3's put survived as the newest version at or below 3; revision 4 follows.
  EXPECT_EQ(flatten(take_all(h)), (std::vector<std::tuple<int64_t, EventType, std::string>>{
                                      {3, EventType::kPut, "k"}, {4, EventType::kPut, "k"}}));
}

// etcd-io/etcd#18089: a watcher canceled with compact_revision R resumes at R; when R is a
// delete, that delete must still be delivered (the store used to drop the tombstone at R).
TEST(WatchHubTest, WatchFromACompactionRevisionThatIsADeleteSeesTheDelete) {
  Harness h;
  h.put("k", "2");  // 2
  h.put("k", "3");  // 3
  h.del("k");       // 4
  h.put("k", "5");  // 5
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(4)});
  h.machine().watch_hub().create({.key = "k", .start_revision = Revision(4), .prev_kv = true});
  auto responses = take_all(h);
  EXPECT_EQ(flatten(responses), (std::vector<std::tuple<int64_t, EventType, std::string>>{
                                    {4, EventType::kDelete, "k"}, {5, EventType::kPut, "k"}}));
  // The delete's previous version (at 3) was compacted: left out, as etcd does.
  ASSERT_FALSE(responses.empty());
  EXPECT_FALSE(responses[0].events[0].prev_kv);
}

// The same after a restart: the tombstone is the key's oldest surviving record, and the
// index rebuilt at boot must keep it (etcd-io/etcd#19179: lost after a restart).
TEST(WatchHubTest, WatchFromACompactedDeleteSurvivesARestart) {
  Harness h;
  h.put("k", "2");  // 2
  h.del("k");       // 3
  h.put("j", "4");  // 4
  h.apply_ok<CompactionResponse>(CompactionRequest{.revision = Revision(3)});
  h.reboot();
  h.machine().watch_hub().create({.key = "j", .range_end = "l", .start_revision = Revision(3)});
  EXPECT_EQ(flatten(take_all(h)), (std::vector<std::tuple<int64_t, EventType, std::string>>{
                                      {3, EventType::kDelete, "k"}, {4, EventType::kPut, "j"}}));
}

TEST(WatchHubTest, ProgressRequestReportsCurrentRevisionToSyncedWatchers) {
  Harness h;
  WatchResponse watch = h.machine().watch_hub().create({.key = "k"});
  h.put("other", "1");
  h.machine().watch_hub().request_progress();
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].watch_id, watch.watch_id);
  EXPECT_TRUE(responses[0].events.empty());
  EXPECT_EQ(responses[0].header.revision, Revision(2));
}

// A client's WatchProgressRequest while its watcher still catches up from the backend: the
// notification waits until every event up to its revision is queued ahead of it (etcd 3.4
// answered at once, before those events: etcd-io/etcd#15220).
TEST(WatchHubTest, ProgressRequestForACatchingUpWatcherComesAfterItsEvents) {
  Harness h;
  h.put("k", "1");  // 2
  h.put("x", "1");  // 3
  h.put("k", "2");  // 4
  WatchResponse watch = h.machine().watch_hub().create({.key = "k", .start_revision = Revision(2)});
  EXPECT_EQ(h.machine().watch_hub().unsynced_count(), 1u);
  EXPECT_TRUE(h.machine().watch_hub().request_progress(watch.watch_id));
  EXPECT_FALSE(h.machine().watch_hub().request_progress(watch.watch_id + 1));
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(flatten({responses[0]}), (std::vector<std::tuple<int64_t, EventType, std::string>>{
                                         {2, EventType::kPut, "k"}, {4, EventType::kPut, "k"}}));
  EXPECT_TRUE(responses[1].events.empty());
  EXPECT_EQ(responses[1].header.revision, Revision(4));
  // Synced now: the next request is answered at once, at the current revision.
  h.put("x", "2");  // 5
  EXPECT_TRUE(h.machine().watch_hub().request_progress(watch.watch_id));
  responses = take_all(h);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].header.revision, Revision(5));
}

TEST(WatchHubTest, IdleProgressOnlyForWatchersThatAskedAndGotNothing) {
  Harness h;
  h.machine().watch_hub().create({.key = "a", .progress_notify = true});
  h.machine().watch_hub().create({.key = "b", .progress_notify = true});
  h.machine().watch_hub().create({.key = "c"});
  h.put("a", "1");
  take_all(h);
  h.machine().watch_hub().notify_idle_progress();
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].watch_id, 1);  // "b" was idle; "a" got events; "c" did not ask
}

TEST(WatchHubTest, CancelAndDuplicateIds) {
  Harness h;
  WatchResponse first = h.machine().watch_hub().create({.key = "k", .watch_id = 7});
  EXPECT_EQ(first.watch_id, 7);
  WatchResponse duplicate = h.machine().watch_hub().create({.key = "k", .watch_id = 7});
  EXPECT_TRUE(duplicate.created);
  EXPECT_TRUE(duplicate.canceled);
  EXPECT_FALSE(duplicate.cancel_reason.empty());
  auto canceled = h.machine().watch_hub().cancel(7);
  ASSERT_TRUE(canceled);
  EXPECT_TRUE(canceled->canceled);
  EXPECT_FALSE(h.machine().watch_hub().cancel(7));
  h.put("k", "v");
  EXPECT_TRUE(take_all(h).empty());
}

TEST(WatchHubTest, SlowWatcherFallsBackToTheBackendAndLosesNothing) {
  Harness h;
  h.machine().watch_hub().create({.key = "k"});
  const size_t writes = WatchHub::kMaxQueuedEventsPerWatcher + 100;
  for (size_t index = 0; index < writes; ++index) h.put("k", std::to_string(index));
  // Nobody drained: the watcher was demoted instead of buffering without bound.
  EXPECT_EQ(h.machine().watch_hub().unsynced_count(), 1u);
  auto events = flatten(take_all(h));
  ASSERT_EQ(events.size(), writes);
  for (size_t index = 0; index < writes; ++index) {
    EXPECT_EQ(std::get<0>(events[index]), static_cast<int64_t>(index) + 2);
  }
  EXPECT_EQ(h.machine().watch_hub().unsynced_count(), 0u);
}

TEST(WatchHubTest, CatchUpResponsesRespectTheRevisionBatchLimit) {
  Harness h;
  const size_t writes = WatchHub::kMaxRevisionsPerResponse + 10;
  for (size_t index = 0; index < writes; ++index) h.put("k", "v");
  h.machine().watch_hub().create({.key = "k", .start_revision = Revision(2)});
  auto responses = take_all(h);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].events.size(), WatchHub::kMaxRevisionsPerResponse);
  // The header revision never runs ahead of the delivered events.
  EXPECT_EQ(responses[0].header.revision,
            Revision(static_cast<int64_t>(WatchHub::kMaxRevisionsPerResponse) + 1));
  EXPECT_EQ(responses[1].header.revision, h.machine().current_revision());
}

TEST(WatchHubTest, ManyWatchersOnOneKeyEachGetEveryEventUntilCanceled) {
  Harness h;
  for (int index = 0; index < 3; ++index) h.machine().watch_hub().create({.key = "k"});
  h.machine().watch_hub().create({.key = "j", .range_end = "l"});
  h.put("k", "1");
  ASSERT_TRUE(h.machine().watch_hub().cancel(1));
  h.put("k", "2");
  std::map<WatchId, int> events_per_watch;
  for (const WatchResponse& response : take_all(h)) {
    events_per_watch[response.watch_id] += static_cast<int>(response.events.size());
  }
  // Watch 1 was canceled before its queue was drained: what it had not delivered goes with
  // it, as a canceled etcd watch stops receiving.
  EXPECT_EQ(events_per_watch, (std::map<WatchId, int>{{0, 2}, {2, 2}, {3, 2}}));
}

TEST(WatchHubTest, SnapshotInstallMakesWatchersCatchUp) {
  Harness leader;
  leader.put("k", "1");
  leader.put("k", "2");
  Harness follower;
  follower.machine().watch_hub().create({.key = "k"});
  ASSERT_TRUE(follower.machine().install_snapshot(*leader.machine().snapshot()).is_ok());
  EXPECT_EQ(flatten(take_all(follower)),
            (std::vector<std::tuple<int64_t, EventType, std::string>>{{2, EventType::kPut, "k"},
                                                                      {3, EventType::kPut, "k"}}));
}

}  // namespace
}  // namespace lockstep::mvcc
