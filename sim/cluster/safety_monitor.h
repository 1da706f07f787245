#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/node/member_observer.h"
#include "core/raft/invariants.h"

namespace lockstep::sim {

// Judges Raft safety from what every member reports while the simulation runs (one
// observer for the whole cluster; members of every incarnation report to it):
// - Election Safety (Raft paper Figure 3): at most one leader per term.
// - State Machine Safety: every member applies the same entry at a given index, including
//   the entries a member re-applies from its own disk after a crash (so a committed entry
//   that a crash lost or changed is caught). Delegated to core/raft's InvariantChecker.
// - Durable vote and term: a member's persisted term never goes back, and it never votes
//   for two candidates in one term, across crashes too (thesis §3.4, §3.6).
class SafetyMonitor final : public node::MemberObserver {
 public:
  // Violations beyond this many are counted but not described.
  static constexpr size_t kMaxViolationsKept = 16;

  void on_role(NodeId member, Term term, raft::RoleKind role, NodeId leader) override;
  void on_persisted(NodeId member, const raft::HardState& hard_state, LogIndex last_index) override;
  void on_applied(NodeId member, const raft::Entry& entry) override;
  void on_snapshot_installed(NodeId member, const raft::SnapshotMetadata& metadata) override;

  bool ok() const { return violation_count_ == 0; }
  const std::vector<std::string>& violations() const { return violations_; }
  uint64_t violation_count() const { return violation_count_; }
  uint64_t applied_entries() const { return applied_entries_; }
  size_t terms_with_leader() const { return leader_of_term_.size(); }
  // Highest index any member applied.
  LogIndex highest_applied() const { return highest_applied_; }

 private:
  void violation(std::string description);

  raft::InvariantChecker invariants_;
  std::map<Term, NodeId> leader_of_term_;
  std::map<NodeId, raft::HardState> persisted_;
  std::vector<std::string> violations_;
  uint64_t violation_count_ = 0;
  uint64_t applied_entries_ = 0;
  LogIndex highest_applied_;
};

}  // namespace lockstep::sim
