#include "sim/cluster/safety_monitor.h"

namespace lockstep::sim {

void SafetyMonitor::violation(std::string description) {
  ++violation_count_;
  if (violations_.size() < kMaxViolationsKept) violations_.push_back(std::move(description));
}

void SafetyMonitor::on_role(NodeId member, Term term, raft::RoleKind role, NodeId leader) {
  if (role != raft::RoleKind::kLeader) return;
  auto [it, inserted] = leader_of_term_.emplace(term, member);
  if (!inserted && it->second != member) {
    violation("election safety: members " + std::to_string(it->second.value()) + " and " +
              std::to_string(member.value()) + " both led term " + std::to_string(term.value()));
  }
}

void SafetyMonitor::on_persisted(NodeId member, const raft::HardState& hard_state,
                                 LogIndex last_index) {
  auto [it, inserted] = persisted_.emplace(member, hard_state);
  if (inserted) return;
  const raft::HardState& before = it->second;
  if (hard_state.term < before.term) {
    violation("member " + std::to_string(member.value()) + " persisted term " +
              std::to_string(hard_state.term.value()) + " after term " +
              std::to_string(before.term.value()));
  } else if (hard_state.term == before.term && before.vote != kNoNode &&
             hard_state.vote != before.vote) {
    violation("member " + std::to_string(member.value()) + " voted for " +
              std::to_string(before.vote.value()) + " and then " +
              std::to_string(hard_state.vote.value()) + " in term " +
              std::to_string(hard_state.term.value()));
  }
  it->second = hard_state;
}

void SafetyMonitor::on_applied(NodeId member, const raft::Entry& entry) {
  ++applied_entries_;
  highest_applied_ = std::max(highest_applied_, entry.index);
  if (std::optional<std::string> problem = invariants_.record_applied(member, entry)) {
    violation("state machine safety: " + *problem);
  }
}

void SafetyMonitor::on_snapshot_installed(NodeId, const raft::SnapshotMetadata&) {}

}  // namespace lockstep::sim
