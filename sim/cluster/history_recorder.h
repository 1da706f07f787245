#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checker/history.h"
#include "checker/lock_checker.h"
#include "checker/watch_checker.h"
#include "core/base/time.h"
#include "core/mvcc/requests.h"
#include "core/mvcc/watch_requests.h"

namespace lockstep::sim {

// One watch event as a client saw it, for the watch checks.
struct RecordedWatchEvent {
  int64_t client = 0;
  int64_t watch = 0;  // the client's own number for the watch (stable across re-creation)
  int64_t time_ns = 0;
  mvcc::EventType type = mvcc::EventType::kPut;
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
};

// One watch as its client saw it: the request, every stream response in arrival order, and
// when each arrived (world nanoseconds). For checker::check_watches.
struct RecordedWatch {
  int64_t client = 0;
  int64_t created_ns = 0;
  checker::WatchRecord watch;
  std::vector<int64_t> response_times_ns;  // one per watch.responses entry
};

// A write into a watched range as its writer saw it: revision 0 when the outcome is unknown
// (indeterminate; it may or may not have been committed).
struct WatchedWrite {
  checker::WatchEventType type = checker::WatchEventType::kPut;
  std::string key;
  std::string value;  // puts: unique per write, so a delivered event names its write
  int64_t revision = 0;
};

// The watched writes as checker::WriteLog, plus how the unknown ones were settled.
struct ResolvedWriteLog {
  checker::WriteLog log;
  uint64_t resolved_from_events = 0;   // indeterminate writes some watcher saw committed
  uint64_t assumed_not_committed = 0;  // indeterminate writes nobody ever saw
};

// How revisions are recorded. kStrict records every header and key revision, so the etcd
// model checks the revision arithmetic too; that is only sound when the checked operations
// are the only writers of the store. kValuesOnly leaves revisions unreported (the checker
// then judges values), for runs where leases expire or other workloads write unseen.
enum class RevisionRecording : uint8_t { kStrict, kValuesOnly };

// Records client operations as the checker's history (docs/HISTORY_FORMAT.md): invoke and
// return in virtual nanoseconds of the world clock, the request, and the response or
// `indeterminate`. Operations that failed definitely (the member refused them before they
// reached the log) are dropped, as Jepsen drops :fail operations: they did nothing.
class HistoryRecorder {
 public:
  explicit HistoryRecorder(RevisionRecording recording) : recording_(recording) {}

  // Starts an operation; returns its handle.
  size_t invoke(int64_t client, Instant at, checker::Request request);
  void complete(size_t handle, Instant at, checker::Response response);
  void indeterminate(size_t handle, Instant at);
  void fail(size_t handle);

  void record_watch_event(RecordedWatchEvent event) { watch_events_.push_back(std::move(event)); }

  // ---- watch and lock histories (checker/watch_checker.h, checker/lock_checker.h) ----
  // Starts a watch record; its watch_id is assigned here (1, 2, ... in creation order).
  size_t begin_watch(int64_t client, Instant at, checker::WatchRecord watch);
  void watch_response(size_t watch, Instant at, checker::WatchResponse response);
  int64_t watch_id(size_t watch) const { return watches_.at(watch).watch.watch_id; }
  void record_watched_write(WatchedWrite write) { watched_writes_.push_back(std::move(write)); }
  // A successful acquire; the handle lets the client record the release or the lease loss.
  size_t record_lock_hold(checker::LockHold hold);
  checker::LockHold& lock_hold(size_t handle) { return lock_holds_.at(handle); }
  void record_fenced_write(checker::FencedWrite write) {
    fenced_writes_.push_back(std::move(write));
  }

  const std::vector<RecordedWatch>& watches() const { return watches_; }
  const std::vector<WatchedWrite>& watched_writes() const { return watched_writes_; }
  const std::vector<checker::LockHold>& lock_holds() const { return lock_holds_; }
  const std::vector<checker::FencedWrite>& fenced_writes() const { return fenced_writes_; }
  // The watched writes as the watch checker's WriteLog. In a simulation every write into a
  // watched range comes from the recorded writers, so the log is complete once each
  // indeterminate write is settled: a write some watcher saw (puts carry unique values, and
  // are also seen as a later event's prev_kv; a delete is matched by key) was committed at
  // the revision it was seen at; one nobody saw is taken as not committed. The second rule is the
  // log's one assumption: a committed write that every watcher missed is only caught through its
  // acknowledged neighbours.
  ResolvedWriteLog resolved_write_log() const;

  // The finished history (dropped operations removed, in invoke order).
  checker::History history() const;
  const std::vector<RecordedWatchEvent>& watch_events() const { return watch_events_; }
  RevisionRecording recording() const { return recording_; }

  uint64_t completed_count() const { return completed_; }
  uint64_t indeterminate_count() const { return indeterminate_; }
  uint64_t failed_count() const { return failed_; }

 private:
  struct Slot {
    checker::Operation operation;
    bool open = true;
    bool dropped = false;
  };

  RevisionRecording recording_;
  std::vector<Slot> slots_;
  std::vector<RecordedWatchEvent> watch_events_;
  std::vector<RecordedWatch> watches_;
  std::vector<WatchedWrite> watched_writes_;
  std::vector<checker::LockHold> lock_holds_;
  std::vector<checker::FencedWrite> fenced_writes_;
  uint64_t completed_ = 0;
  uint64_t indeterminate_ = 0;
  uint64_t failed_ = 0;
};

// The watch and lock records as history.jsonl lines (docs/HISTORY_FORMAT.md, "Watch and
// lock records"): one {"record": "write_log"} line, then "committed", "watch", "lock_hold"
// and "fenced_write" lines. Empty when the run recorded none.
std::string guarantee_records_jsonl(const HistoryRecorder& recorder);

// Conversions between the store's request/response types and the checker's (which are
// written independently of the store, so the judge does not share the store's code).
checker::Request to_checker_request(const mvcc::RangeRequest& request);
checker::Request to_checker_request(const mvcc::PutRequest& request);
checker::Request to_checker_request(const mvcc::DeleteRangeRequest& request);
checker::Request to_checker_request(const mvcc::TxnRequest& request);

checker::Response to_checker_response(const mvcc::RangeResponse& response,
                                      RevisionRecording recording);
checker::Response to_checker_response(const mvcc::PutResponse& response,
                                      RevisionRecording recording);
checker::Response to_checker_response(const mvcc::DeleteRangeResponse& response,
                                      RevisionRecording recording);
checker::Response to_checker_response(const mvcc::TxnResponse& response,
                                      RevisionRecording recording);

}  // namespace lockstep::sim
