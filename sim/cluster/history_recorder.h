#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checker/history.h"
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
  uint64_t completed_ = 0;
  uint64_t indeterminate_ = 0;
  uint64_t failed_ = 0;
};

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
