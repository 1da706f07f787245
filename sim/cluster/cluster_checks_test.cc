// The watch and lock guarantee checks of a cluster run judge what HistoryRecorder holds:
// these feed it small hand-made records, so each check is seen to pass and to fail.
#include "sim/cluster/cluster_checks.h"

#include <gtest/gtest.h>

#include <map>

namespace lockstep::sim {
namespace {

Instant at(int64_t nanoseconds) {
  return Instant() + Duration(nanoseconds);
}

std::map<std::string, CheckOutcome> by_name(std::vector<CheckOutcome> outcomes) {
  std::map<std::string, CheckOutcome> named;
  for (CheckOutcome& outcome : outcomes) named[outcome.name] = std::move(outcome);
  return named;
}

checker::WatchEvent put_event(std::string key, std::string value, int64_t revision) {
  checker::WatchEvent event;
  event.kv = checker::WatchKeyValue{std::move(key), std::move(value), revision, revision, 1};
  return event;
}

// Writes at revisions 2 and 3 (the second one indeterminate), and one watch from revision 1
// that delivers the events in `delivered`.
HistoryRecorder watch_history(const std::vector<checker::WatchEvent>& delivered) {
  HistoryRecorder recorder(RevisionRecording::kStrict);
  recorder.record_watched_write({checker::WatchEventType::kPut, "watch/a", "w1", 2});
  recorder.record_watched_write({checker::WatchEventType::kPut, "watch/b", "w2", 0});
  checker::WatchRecord watch;
  watch.key = "watch/";
  watch.range_end = "watch0";
  watch.start_revision = 1;
  const size_t handle = recorder.begin_watch(7, at(10), watch);
  for (const checker::WatchEvent& event : delivered) {
    checker::WatchResponse response;
    response.header_revision = event.kv.mod_revision;
    response.events.push_back(event);
    recorder.watch_response(handle, at(20 + event.kv.mod_revision), response);
  }
  return recorder;
}

TEST(WatchGuaranteeChecks, EveryGuaranteeIsANamedCheckThatPasses) {
  const HistoryRecorder recorder =
      watch_history({put_event("watch/a", "w1", 2), put_event("watch/b", "w2", 3)});
  const ResolvedWriteLog writes = recorder.resolved_write_log();
  EXPECT_EQ(writes.resolved_from_events, 1u) << "the indeterminate put was seen at 3";
  EXPECT_EQ(writes.log.changes.size(), 2u);
  const auto checks = by_name(check_watch_guarantees(recorder));
  for (const char* name :
       {"watch: ordered", "watch: unique", "watch: atomic", "watch: reliable", "watch: resumable",
        "watch: bookmarkable", "watch: prev_kv", "watch: filters", "watch: matches writes"}) {
    ASSERT_TRUE(checks.contains(name)) << name;
    EXPECT_TRUE(checks.at(name).passed()) << name << ": " << checks.at(name).detail;
  }
  const std::string jsonl = guarantee_records_jsonl(recorder);
  for (const char* field : {"\"record\":\"write_log\"", "\"complete\":true", "\"record\":\"watch\"",
                            "\"watch_id\":1"}) {
    EXPECT_NE(jsonl.find(field), std::string::npos) << field << " in " << jsonl;
  }
}

TEST(WatchGuaranteeChecks, AGapFailsReliableAndARepeatFailsUnique) {
  // Revision 2 never delivered, though the watcher saw 3: a gap.
  auto checks = by_name(check_watch_guarantees(watch_history({put_event("watch/b", "w2", 3)})));
  EXPECT_FALSE(checks.at("watch: reliable").passed());
  EXPECT_TRUE(checks.at("watch: ordered").passed());
  checks = by_name(check_watch_guarantees(
      watch_history({put_event("watch/a", "w1", 2), put_event("watch/a", "w1", 2),
                     put_event("watch/b", "w2", 3)})));
  EXPECT_FALSE(checks.at("watch: unique").passed());
  checks = by_name(check_watch_guarantees(
      watch_history({put_event("watch/a", "w1", 2), put_event("watch/a", "forged", 3)})));
  EXPECT_FALSE(checks.at("watch: matches writes").passed());
}

TEST(WatchGuaranteeChecks, APutOnlyNamedByALaterPrevKvWasCommitted) {
  // An indeterminate put of watch/b committed at revision 3, which a compaction then hid from
  // the only watcher (its watch was cancelled at compact revision 4); the delete at 4 names
  // the put as its prev_kv. Taking the put as uncommitted would fail prev_kv on correct code
  // (the cluster property, seed 343464).
  HistoryRecorder recorder(RevisionRecording::kStrict);
  recorder.record_watched_write({checker::WatchEventType::kPut, "watch/a", "w1", 2});
  recorder.record_watched_write({checker::WatchEventType::kPut, "watch/b", "w2", 0});
  recorder.record_watched_write({checker::WatchEventType::kDelete, "watch/b", "", 4});
  checker::WatchRecord first;
  first.key = "watch/";
  first.range_end = "watch0";
  first.start_revision = 1;
  first.prev_kv = true;
  const size_t before = recorder.begin_watch(7, at(10), first);
  checker::WatchResponse delivered;
  delivered.header_revision = 2;
  delivered.events.push_back(put_event("watch/a", "w1", 2));
  recorder.watch_response(before, at(20), delivered);
  checker::WatchResponse cancelled;
  cancelled.header_revision = 4;
  cancelled.canceled = true;
  cancelled.compact_revision = 4;
  recorder.watch_response(before, at(30), cancelled);
  checker::WatchRecord second = first;
  second.start_revision = 4;
  const size_t after = recorder.begin_watch(7, at(40), second);
  checker::WatchEvent deleted;
  deleted.type = checker::WatchEventType::kDelete;
  deleted.kv = checker::WatchKeyValue{"watch/b", "", 0, 4, 0};
  deleted.prev_kv = checker::WatchKeyValue{"watch/b", "w2", 3, 3, 1};
  checker::WatchResponse deletion;
  deletion.header_revision = 4;
  deletion.events.push_back(deleted);
  recorder.watch_response(after, at(50), deletion);

  const ResolvedWriteLog writes = recorder.resolved_write_log();
  EXPECT_EQ(writes.resolved_from_events, 1u) << "settled by the delete's prev_kv";
  EXPECT_EQ(writes.assumed_not_committed, 0u);
  const auto checks = by_name(check_watch_guarantees(recorder));
  for (const auto& [name, outcome] : checks)
    EXPECT_TRUE(outcome.passed()) << name << ": " << outcome.detail;
}

TEST(LockGuaranteeChecks, OverlappingHoldsAndStaleFencedWritesFail) {
  HistoryRecorder recorder(RevisionRecording::kValuesOnly);
  EXPECT_TRUE(check_lock_guarantees(recorder).empty()) << "no lock workload, no lock checks";
  checker::LockHold first{1, "lock/", 0, 10, 5, 100, std::nullopt};
  checker::LockHold second{2, "lock/", 20, 110, 8, 200, std::nullopt};
  recorder.record_lock_hold(first);
  recorder.record_lock_hold(second);
  recorder.record_fenced_write({1, "lock/", 50, 60, 5, true, false});
  auto checks = by_name(check_lock_guarantees(recorder));
  EXPECT_TRUE(checks.at("lock: mutual exclusion").passed())
      << checks.at("lock: mutual exclusion").detail;
  EXPECT_TRUE(checks.at("lock: fencing").passed());
  // The first holder writes again after the second acquired, and the resource took it.
  recorder.record_fenced_write({1, "lock/", 150, 160, 5, true, false});
  checks = by_name(check_lock_guarantees(recorder));
  EXPECT_FALSE(checks.at("lock: fencing").passed());
  // A third client acquires while the second still believes it holds the lock.
  recorder.record_lock_hold(checker::LockHold{3, "lock/", 120, 150, 9, 300, std::nullopt});
  checks = by_name(check_lock_guarantees(recorder));
  EXPECT_FALSE(checks.at("lock: mutual exclusion").passed());
}

}  // namespace
}  // namespace lockstep::sim
