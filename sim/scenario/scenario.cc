#include "sim/scenario/scenario.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace lockstep::sim::scenario {
namespace {

constexpr std::array<std::pair<FaultAction, std::string_view>, 20> kActionNames = {{
    {FaultAction::kCrash, "crash"},
    {FaultAction::kRestart, "restart"},
    {FaultAction::kPause, "pause"},
    {FaultAction::kResume, "resume"},
    {FaultAction::kPartition, "partition"},
    {FaultAction::kPartitionOneWay, "partition_one_way"},
    {FaultAction::kHeal, "heal"},
    {FaultAction::kClog, "clog"},
    {FaultAction::kNetwork, "network"},
    {FaultAction::kDiskWriteError, "disk_write_error"},
    {FaultAction::kDiskFsyncError, "disk_fsync_error"},
    {FaultAction::kDiskFull, "disk_full"},
    {FaultAction::kDiskBitFlip, "disk_bit_flip"},
    {FaultAction::kDiskRepair, "disk_repair"},
    {FaultAction::kClockOffset, "clock_offset"},
    {FaultAction::kClockJump, "clock_jump"},
    {FaultAction::kClockDrift, "clock_drift"},
    {FaultAction::kRemoveMember, "remove_member"},
    {FaultAction::kAddMember, "add_member"},
    {FaultAction::kPromoteMember, "promote_member"},
}};

constexpr std::array<std::pair<FaultEvent, std::string_view>, 2> kEventNames = {{
    {FaultEvent::kLeaderElected, "leader_elected"},
    {FaultEvent::kLeaderCommitted, "leader_committed"},
}};

constexpr std::array<std::pair<FaultTarget::Kind, std::string_view>, 8> kTargetNames = {{
    {FaultTarget::Kind::kLeader, "leader"},
    {FaultTarget::Kind::kFollower, "follower"},
    {FaultTarget::Kind::kMinority, "minority"},
    {FaultTarget::Kind::kMajority, "majority"},
    {FaultTarget::Kind::kRandom, "random"},
    {FaultTarget::Kind::kAll, "all"},
    {FaultTarget::Kind::kPreviousLeader, "previous_leader"},
    {FaultTarget::Kind::kEventMember, "event_member"},
}};

}  // namespace

std::string_view fault_action_name(FaultAction action) {
  for (const auto& [value, name] : kActionNames) {
    if (value == action) return name;
  }
  return "?";
}

std::optional<FaultAction> parse_fault_action(std::string_view name) {
  for (const auto& [value, known] : kActionNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::vector<std::string_view> fault_action_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : kActionNames) names.push_back(entry.second);
  return names;
}

std::string_view fault_event_name(FaultEvent event) {
  for (const auto& [value, name] : kEventNames) {
    if (value == event) return name;
  }
  return "?";
}

std::optional<FaultEvent> parse_fault_event(std::string_view name) {
  for (const auto& [value, known] : kEventNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::vector<std::string_view> fault_event_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : kEventNames) names.push_back(entry.second);
  return names;
}

std::string target_name(const FaultTarget& target) {
  if (target.kind == FaultTarget::Kind::kNode) return "node:" + std::to_string(target.node);
  for (const auto& [value, name] : kTargetNames) {
    if (value == target.kind) return std::string(name);
  }
  return "?";
}

std::optional<FaultTarget> parse_target(std::string_view text) {
  for (const auto& [value, name] : kTargetNames) {
    if (name == text) return FaultTarget{value, 0};
  }
  constexpr std::string_view kNodePrefix = "node:";
  if (!text.starts_with(kNodePrefix)) return std::nullopt;
  const std::string_view digits = text.substr(kNodePrefix.size());
  uint64_t node = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), node);
  if (error != std::errc() || end != digits.data() + digits.size() || node == 0) {
    return std::nullopt;
  }
  return FaultTarget{FaultTarget::Kind::kNode, node};
}

std::vector<std::string_view> check_names() {
  return {kCheckLinearizability, kCheckRaftSafety, kCheckLiveness, kCheckConvergence,
          kCheckWorkloads};
}

bool Scenario::requires_check(std::string_view check) const {
  return checks.empty() || std::ranges::find(checks, check) != checks.end();
}

}  // namespace lockstep::sim::scenario
