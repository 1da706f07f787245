#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::checker {

// etcd's watch guarantees (https://etcd.io/docs/v3.5/learning/api_guarantees/#watch-apis
// and api.md "Watch streams"), checked against the writes the store committed:
//   ordered      events are ordered by revision; an event never precedes one already seen
//   unique       an event (revision, key) is never delivered twice
//   atomic       the events of one revision arrive in one response, never split
//   reliable     no event in [start_revision, last revision the watcher was told about] is
//                missing, except that a watch canceled for compaction stops there
//   resumable    a watch restarted from last revision + 1 continues without loss or repeat
//   bookmarkable a progress notification at revision R promises every event <= R has been
//                delivered and none <= R will follow; R never goes backwards
//   prev_kv      an event's prev_kv is the key's previous version (or absent if it had none)
//   filters      NOPUT / NODELETE events are not delivered; no event outside the watched range
enum class WatchGuarantee {
  kOrdered,
  kUnique,
  kAtomic,
  kReliable,
  kResumable,
  kBookmarkable,
  kPrevKv,
  kFilters,
  kMatchesWrites,  // an event must be a write that was committed (same revision, key, value)
};
std::string_view watch_guarantee_name(WatchGuarantee guarantee);

enum class WatchEventType : uint8_t { kPut, kDelete };

// One key change committed by the store (one mvccpb.Event): a txn committing several
// changes at one revision contributes several, all with that revision.
struct CommittedChange {
  int64_t revision = 0;
  std::string key;
  WatchEventType type = WatchEventType::kPut;
  std::string value;  // put: the new value
};

// The committed writes. `complete` says the log holds every change from revision 1 up to
// its last revision (true in a simulation, or when no write was indeterminate); only then
// can a missing write be told from an unknown one, so only then are `reliable`, `atomic`
// completeness, prev_kv create_revision/version and "no such write" checked strictly.
struct WriteLog {
  std::vector<CommittedChange> changes;  // any order; sorted by the checker
  bool complete = false;
};

struct WatchKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // 0 = not recorded
  int64_t mod_revision = 0;
  int64_t version = 0;  // 0 = not recorded
};

struct WatchEvent {
  WatchEventType type = WatchEventType::kPut;
  WatchKeyValue kv;  // kv.mod_revision is the event's revision
  std::optional<WatchKeyValue> prev_kv;
};

// One WatchResponse. A response with no events and not canceled is a progress notification
// (etcd sends those with the header revision as the bookmark).
struct WatchResponse {
  int64_t header_revision = 0;
  std::vector<WatchEvent> events;
  bool canceled = false;
  int64_t compact_revision = 0;  // > 0: canceled because start_revision was compacted
};

struct WatchRecord {
  int64_t watch_id = 0;  // unique within the history, used in messages
  std::string key;
  std::string range_end;  // "" = the single key; "\0" = every key >= key
  // The first revision the watch asked for. 0 (etcd's "from now") is allowed: the check
  // then starts at the first event delivered, since "now" is not recorded.
  int64_t start_revision = 0;
  bool prev_kv = false;
  bool filter_noput = false;
  bool filter_nodelete = false;
  // Asked for periodic progress notifications (etcd progress_notify). Informative: every
  // progress notification is judged, whether periodic or answering a WatchProgressRequest.
  bool progress_notify = false;
  // The watch this one restarts (a client resuming after a broken stream), if any.
  std::optional<int64_t> resumes_watch_id;
  std::vector<WatchResponse> responses;  // in arrival order
};

struct WatchViolation {
  WatchGuarantee guarantee = WatchGuarantee::kOrdered;
  int64_t watch_id = 0;
  std::string message;
};

struct WatchCheckResult {
  std::vector<WatchViolation> violations;  // in watch order, then in delivery order
  bool ok() const { return violations.empty(); }
};

WatchCheckResult check_watches(const WriteLog& writes, const std::vector<WatchRecord>& watches);

}  // namespace lockstep::checker
