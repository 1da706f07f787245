#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/requests.h"
#include "core/node/entry_payload.h"

namespace lockstep::node {

// etcd's alarms (etcdserverpb AlarmType; the numbers are etcd's). NOSPACE is raised when the
// backend outgrows --quota-backend-bytes; while any member has it, the cluster refuses writes
// that take space (etcd's applierV3Capped) until an operator disarms it.
enum class AlarmType : uint8_t { kNone = 0, kNoSpace = 1, kCorrupt = 2 };
inline constexpr int kMaxAlarmType = 2;
// etcdserverpb AlarmRequest.AlarmAction.
enum class AlarmAction : uint8_t { kGet = 0, kActivate = 1, kDeactivate = 2 };
inline constexpr int kMaxAlarmAction = 2;

struct AlarmMember {
  NodeId member;
  AlarmType alarm = AlarmType::kNone;

  auto operator<=>(const AlarmMember&) const = default;
  bool operator==(const AlarmMember&) const = default;
};

// etcd's Maintenance.Alarm request. kGet answers from the member's applied alarms; kActivate
// and kDeactivate go through the Raft log, so every member holds the same alarms at the same
// log index (etcd's InternalRaftRequest.Alarm).
struct AlarmRequest {
  AlarmAction action = AlarmAction::kGet;
  NodeId member;  // kNoNode with kGet: every member's alarms
  AlarmType alarm = AlarmType::kNone;

  bool operator==(const AlarmRequest&) const = default;
};

struct AlarmResponse {
  mvcc::ResponseHeader header;
  std::vector<AlarmMember> alarms;  // kGet: all matching; otherwise the one changed, if any

  bool operator==(const AlarmResponse&) const = default;
};

// The replicated alarms of a cluster, in ascending order. Deterministic: a pure function of the
// applied alarm entries (and of the backend meta value it was restored from).
class AlarmSet {
 public:
  // true when the set changed.
  bool activate(AlarmMember alarm);
  bool deactivate(AlarmMember alarm);
  bool has(AlarmType alarm) const;
  // kNoNode / kNone match any member / any alarm type (etcd's Get with a zero request).
  std::vector<AlarmMember> list(NodeId member = kNoNode, AlarmType alarm = AlarmType::kNone) const;

  // The value kept in the backend's meta bucket under kAlarmsMetaKey (etcd: the `alarm`
  // bucket), so alarms survive restarts and travel in snapshots with the rest of the store.
  std::string encode() const;
  static Result<AlarmSet> decode(std::string_view bytes);

 private:
  std::set<AlarmMember> alarms_;
};

inline constexpr std::string_view kAlarmsMetaKey = "lockstep/alarms";

// An alarm change as the data of a normal Raft entry. Its first byte differs from every
// EntryPayload's, so the member tells the two apart before decoding.
inline constexpr uint8_t kAlarmEntryVersion = 0xa1;
struct AlarmEntry {
  ProposalTag tag;
  AlarmRequest request;
};
std::string encode_alarm_entry(const AlarmEntry& entry);
bool is_alarm_entry(std::string_view bytes);
Result<AlarmEntry> decode_alarm_entry(std::string_view bytes);

}  // namespace lockstep::node
