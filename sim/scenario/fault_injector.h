#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sim/cluster/cluster.h"
#include "sim/scenario/leader_events.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_runner.h"

namespace lockstep::sim::scenario {

// Applies a scenario's fault schedule to a cluster during the safety phase and heals
// everything when it ends. Targets are resolved when a fault fires (the leader *then*), with
// every choice drawn from the world's "nemesis" stream, so a seed replays the same faults.
class FaultInjector {
 public:
  FaultInjector(Cluster& cluster, const Scenario& scenario, Instant start, Instant heal_at);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Schedules every timed fault and the final heal on the world, and arms every fault
  // triggered by an event (FaultSpec::on).
  void schedule(const std::vector<FaultSpec>& faults);

  const std::vector<AppliedFault>& applied() const { return applied_; }
  // Members a remove_member fault took out of the cluster: not restarted, not expected to
  // converge.
  const std::set<NodeId>& removed() const { return removed_; }

 private:
  // A fault waiting for its event: it fires on the `occurrence`-th one from its at_ms on.
  struct ArmedFault {
    FaultSpec fault;
    uint32_t events_seen = 0;
    bool fired = false;
  };

  void fire(const FaultSpec& fault);
  // LeaderEvents' listener (called from a member fiber): counts the event for every armed
  // fault waiting for it and schedules the ones it triggers, in the scenario's order.
  void on_event(FaultEvent event, NodeId member, Term term);
  std::vector<NodeId> resolve(const FaultTarget& target, ProcessState wanted);
  std::vector<NodeId> resolve(const FaultTarget& target, std::vector<ProcessState> wanted);
  std::vector<NodeId> members_in(const std::vector<ProcessState>& states) const;
  // Records the fault and returns its index in applied_ (to set its end time later).
  size_t record(const FaultSpec& fault, const std::vector<NodeId>& targets, std::string detail);
  void schedule_undo(const FaultSpec& fault, size_t record_index, std::function<void()> undo);
  void heal_everything();
  void repair_disk(NodeId member);
  void repair_disk_and_restart(NodeId member);
  // Cluster::on_fail_stop: in the liveness phase a member that dies is repaired and started.
  void member_failed(NodeId member);
  // Flips one durable bit in every file of the member's disk; says which.
  std::string flip_bits(NodeId member);
  void remove_member(NodeId member, size_t record_index);
  void add_member(NodeId member, size_t record_index);
  void promote_member(NodeId member, size_t record_index);
  int64_t now_ms() const;

  Cluster& cluster_;
  const Scenario& scenario_;
  Instant start_;
  Instant heal_at_;
  std::vector<AppliedFault> applied_;
  std::set<NodeId> removed_;
  NodeId next_added_;                      // the id the next add_member asks for
  std::vector<NodeId> learners_;           // added by add_member, not yet promoted, in order
  std::set<NodeId> clock_offset_members_;  // their offset returns to 0 at the heal
  bool healed_ = false;                    // the liveness phase has begun
  LeaderEvents events_;
  std::vector<ArmedFault> armed_;
  // While a triggered fault fires: the event's member (target event_member) and what to say.
  std::optional<NodeId> event_member_;
  std::string trigger_detail_;
};

}  // namespace lockstep::sim::scenario
