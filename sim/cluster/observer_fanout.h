#pragma once

#include <vector>

#include "core/node/member_observer.h"

namespace lockstep::sim {

// Passes every member report to several observers in the order they were added: the
// cluster's SafetyMonitor first, then drivers' observers (the scenario runner's event
// triggers). A member takes one observer; this is it.
class ObserverFanout final : public node::MemberObserver {
 public:
  // The observer must outlive the cluster's members.
  void add(node::MemberObserver* observer) { observers_.push_back(observer); }

  void on_role(NodeId member, Term term, raft::RoleKind role, NodeId leader) override {
    for (node::MemberObserver* observer : observers_) observer->on_role(member, term, role, leader);
  }
  void on_persisted(NodeId member, const raft::HardState& hard_state,
                    LogIndex last_index) override {
    for (node::MemberObserver* observer : observers_) {
      observer->on_persisted(member, hard_state, last_index);
    }
  }
  void on_applied(NodeId member, const raft::Entry& entry) override {
    for (node::MemberObserver* observer : observers_) observer->on_applied(member, entry);
  }
  void on_snapshot_installed(NodeId member, const raft::SnapshotMetadata& metadata) override {
    for (node::MemberObserver* observer : observers_) {
      observer->on_snapshot_installed(member, metadata);
    }
  }

 private:
  std::vector<node::MemberObserver*> observers_;
};

}  // namespace lockstep::sim
