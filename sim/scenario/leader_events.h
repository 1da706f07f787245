#pragma once

#include <functional>
#include <map>
#include <optional>

#include "core/node/member_observer.h"
#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

namespace lockstep::sim::scenario {

// Turns the members' own reports into the events a fault can be triggered by (FaultSpec::on),
// at the instant they happen, in the members' deterministic order:
// - leader_elected: a member became the leader of a term (once per term);
// - leader_committed: a leader applied its first committed entry since it was elected, i.e.
//   it now knows entries committed and answers clients (in correct Raft, once an entry of
//   its own term is committed: thesis §6.4).
// It also remembers who led which term, for the `previous_leader` target. Listeners are
// called from member fibers: they must not call into members, only schedule world events.
class LeaderEvents final : public node::MemberObserver {
 public:
  using Listener = std::function<void(FaultEvent event, NodeId member, Term term)>;

  explicit LeaderEvents(const Cluster& cluster) : cluster_(cluster) {}

  void listen(Listener listener) { listener_ = std::move(listener); }

  // The leader of the latest term before the newest term that had a leader; nullopt until
  // two terms had one.
  std::optional<NodeId> previous_leader() const;

  void on_role(NodeId member, Term term, raft::RoleKind role, NodeId leader) override;
  void on_persisted(NodeId, const raft::HardState&, LogIndex) override {}
  void on_applied(NodeId member, const raft::Entry& entry) override;
  void on_snapshot_installed(NodeId, const raft::SnapshotMetadata&) override {}

 private:
  void emit(FaultEvent event, NodeId member, Term term) const;

  const Cluster& cluster_;
  Listener listener_;
  std::map<Term, NodeId> leader_of_term_;
  // Leaders elected that have not applied an entry since: member -> the term it leads.
  std::map<NodeId, Term> awaiting_first_commit_;
};

}  // namespace lockstep::sim::scenario
