#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/mvcc/event.h"
#include "core/mvcc/requests.h"

namespace lockstep::mvcc {

// Plain C++ mirrors of etcd's v3 Watch messages (etcdserverpb rpc.proto).

// etcd's watch ids are int64; -1 is clientv3.InvalidWatchID, used for stream-wide progress
// notifications.
using WatchId = int64_t;
inline constexpr WatchId kAutoWatchId = 0;  // "let the server choose" in a create request
inline constexpr WatchId kInvalidWatchId = -1;

enum class WatchFilter : int {
  kNoPut = 0,     // do not send put events
  kNoDelete = 1,  // do not send delete events
};

struct WatchCreateRequest {
  std::string key{};
  std::string range_end{};  // same range rules as RangeRequest
  // First revision to report (inclusive); 0 = the revision after the current one.
  Revision start_revision{};
  // Ask for periodic progress notifications while idle.
  bool progress_notify = false;
  std::vector<WatchFilter> filters{};
  bool prev_kv = false;
  // A caller-chosen id, or kAutoWatchId (0) to let the hub choose. etcd 3.4+ semantics.
  WatchId watch_id = kAutoWatchId;
  // Split responses larger than the response size limit. Never needed here: responses
  // break only at revision boundaries (see watch_hub.h), so this passes through.
  bool fragment = false;

  bool operator==(const WatchCreateRequest&) const = default;
};

struct WatchCancelRequest {
  WatchId watch_id = kAutoWatchId;

  bool operator==(const WatchCancelRequest&) const = default;
};

struct WatchProgressRequest {
  bool operator==(const WatchProgressRequest&) const = default;
};

struct WatchResponse {
  ResponseHeader header{};
  WatchId watch_id = kAutoWatchId;
  bool created = false;
  bool canceled = false;
  // Set when the watch was canceled because its start revision was compacted: the oldest
  // revision still available (etcd: the compaction revision).
  Revision compact_revision{};
  std::string cancel_reason{};
  bool fragment = false;
  std::vector<Event> events{};

  bool operator==(const WatchResponse&) const = default;
};

}  // namespace lockstep::mvcc
