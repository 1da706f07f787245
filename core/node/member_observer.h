#pragma once

#include "core/base/ids.h"
#include "core/raft/raft.h"
#include "core/raft/types.h"

namespace lockstep::node {

// What a member reports about itself as it runs, for checkers that judge a whole cluster
// (sim/cluster: at most one leader per term, applied entries identical everywhere, nothing
// acknowledged lost across crashes). Called synchronously from the member's fibers; an
// observer must not call back into the member. The daemon passes none.
class MemberObserver {
 public:
  virtual ~MemberObserver() = default;

  // The member's Raft role, term or leader changed.
  virtual void on_role(NodeId member, Term term, raft::RoleKind role, NodeId leader) = 0;
  // Entries made durable by this member (after the fsync, before any message depends on it).
  virtual void on_persisted(NodeId member, const raft::HardState& hard_state,
                            LogIndex last_index) = 0;
  // One committed entry applied to the state machine (also replays after a restart).
  virtual void on_applied(NodeId member, const raft::Entry& entry) = 0;
  // A snapshot replaced the member's state (installed from the leader or loaded at boot).
  virtual void on_snapshot_installed(NodeId member, const raft::SnapshotMetadata& metadata) = 0;
};

}  // namespace lockstep::node
