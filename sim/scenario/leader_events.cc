#include "sim/scenario/leader_events.h"

namespace lockstep::sim::scenario {

std::optional<NodeId> LeaderEvents::previous_leader() const {
  if (leader_of_term_.size() < 2) return std::nullopt;
  return std::prev(leader_of_term_.end(), 2)->second;
}

void LeaderEvents::on_role(NodeId member, Term term, raft::RoleKind role, NodeId) {
  if (role != raft::RoleKind::kLeader) {
    awaiting_first_commit_.erase(member);
    return;
  }
  // A soft-state change within the same leadership (the report repeats the role) is no
  // new election.
  if (!leader_of_term_.emplace(term, member).second) return;
  awaiting_first_commit_[member] = term;
  emit(FaultEvent::kLeaderElected, member, term);
}

void LeaderEvents::on_applied(NodeId member, const raft::Entry&) {
  auto awaiting = awaiting_first_commit_.find(member);
  if (awaiting == awaiting_first_commit_.end()) return;
  const Term term = awaiting->second;
  // Only while that leadership lasts: a member that crashed as leader re-applies its log at
  // its next start as a follower, which is no commit of that term.
  const node::Member* running = cluster_.member(member);
  if (running == nullptr || !running->is_leader() || running->term() != term) {
    if (running != nullptr) awaiting_first_commit_.erase(awaiting);
    return;
  }
  awaiting_first_commit_.erase(awaiting);
  emit(FaultEvent::kLeaderCommitted, member, term);
}

void LeaderEvents::emit(FaultEvent event, NodeId member, Term term) const {
  if (listener_) listener_(event, member, term);
}

}  // namespace lockstep::sim::scenario
