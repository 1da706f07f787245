#include "core/node/alarm_set.h"

#include <algorithm>

#include "core/node/wire_codec.h"

namespace lockstep::node {
namespace {

AlarmType get_alarm_type(WireReader& in) {
  const uint8_t raw = in.u8();
  if (raw > kMaxAlarmType) in.fail("alarm type out of range");
  return static_cast<AlarmType>(raw > kMaxAlarmType ? 0 : raw);
}

}  // namespace

bool AlarmSet::activate(AlarmMember alarm) {
  return alarms_.insert(alarm).second;
}

bool AlarmSet::deactivate(AlarmMember alarm) {
  return alarms_.erase(alarm) > 0;
}

bool AlarmSet::has(AlarmType alarm) const {
  return std::ranges::any_of(alarms_, [&](const AlarmMember& set) { return set.alarm == alarm; });
}

std::vector<AlarmMember> AlarmSet::list(NodeId member, AlarmType alarm) const {
  std::vector<AlarmMember> matching;
  for (const AlarmMember& set : alarms_) {
    if (member != kNoNode && set.member != member) continue;
    if (alarm != AlarmType::kNone && set.alarm != alarm) continue;
    matching.push_back(set);
  }
  return matching;
}

std::string AlarmSet::encode() const {
  WireWriter out;
  out.varint(alarms_.size());
  for (const AlarmMember& alarm : alarms_) {
    out.varint(alarm.member.value());
    out.u8(static_cast<uint8_t>(alarm.alarm));
  }
  return out.take();
}

Result<AlarmSet> AlarmSet::decode(std::string_view bytes) {
  WireReader in(bytes);
  AlarmSet set;
  const uint64_t count = in.count();
  for (uint64_t i = 0; i < count && !in.failed(); ++i) {
    AlarmMember alarm;
    alarm.member = NodeId(in.varint());
    alarm.alarm = get_alarm_type(in);
    set.alarms_.insert(alarm);
  }
  RETURN_IF_ERROR(in.finish());
  return set;
}

std::string encode_alarm_entry(const AlarmEntry& entry) {
  WireWriter out;
  out.u8(kAlarmEntryVersion);
  out.varint(entry.tag.proposer.value());
  out.varint(entry.tag.proposal_id);
  out.u8(static_cast<uint8_t>(entry.request.action));
  out.varint(entry.request.member.value());
  out.u8(static_cast<uint8_t>(entry.request.alarm));
  return out.take();
}

bool is_alarm_entry(std::string_view bytes) {
  return !bytes.empty() && static_cast<uint8_t>(bytes.front()) == kAlarmEntryVersion;
}

Result<AlarmEntry> decode_alarm_entry(std::string_view bytes) {
  WireReader in(bytes);
  AlarmEntry entry;
  if (in.u8() != kAlarmEntryVersion) in.fail("not an alarm entry");
  entry.tag.proposer = NodeId(in.varint());
  entry.tag.proposal_id = in.varint();
  const uint8_t action = in.u8();
  if (action > kMaxAlarmAction) in.fail("alarm action out of range");
  entry.request.action = static_cast<AlarmAction>(action > kMaxAlarmAction ? 0 : action);
  entry.request.member = NodeId(in.varint());
  entry.request.alarm = get_alarm_type(in);
  RETURN_IF_ERROR(in.finish());
  return entry;
}

}  // namespace lockstep::node
