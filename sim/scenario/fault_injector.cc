#include "sim/scenario/fault_injector.h"

#include <algorithm>

#include "core/node/client_protocol.h"
#include "sim/scenario/scenario_network.h"

namespace lockstep::sim::scenario {
namespace {

std::string ids_text(const std::vector<NodeId>& ids) {
  std::string text;
  for (NodeId id : ids) text += (text.empty() ? "" : " ") + std::to_string(id.value());
  return text;
}

void shuffle(std::vector<NodeId>& ids, Random& random) {
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[random.below(i)]);
}

}  // namespace

FaultInjector::FaultInjector(Cluster& cluster, const Scenario& scenario, Instant start,
                             Instant heal_at)
    : cluster_(cluster), scenario_(scenario), start_(start), heal_at_(heal_at), events_(cluster) {
  // The injector outlives the cluster (the scenario runner declares it first), so the hooks
  // never dangle.
  cluster_.on_fail_stop([this](NodeId member) { member_failed(member); });
  cluster_.add_observer(&events_);
  events_.listen(
      [this](FaultEvent event, NodeId member, Term term) { on_event(event, member, term); });
}

void FaultInjector::schedule(const std::vector<FaultSpec>& faults) {
  World& world = cluster_.world();
  for (const FaultSpec& fault : faults) {
    if (fault.on) {
      armed_.push_back(ArmedFault{fault});
      continue;
    }
    world.schedule_at(start_ + std::chrono::milliseconds(fault.at_ms),
                      [this, fault] { fire(fault); });
  }
  world.schedule_at(heal_at_, [this] { heal_everything(); });
}

// The fault does not fire inside the member's step that reported the event: it is scheduled
// for the same instant (plus delay_ms) and runs as soon as that step yields, before any
// message sent meanwhile is delivered (so a cut at the event also drops what the member just
// sent, such as a new leader's first appends).
void FaultInjector::on_event(FaultEvent event, NodeId member, Term term) {
  World& world = cluster_.world();
  if (healed_) return;
  for (size_t i = 0; i < armed_.size(); ++i) {
    ArmedFault& armed = armed_[i];
    if (armed.fired || *armed.fault.on != event) continue;
    if (world.now() < start_ + std::chrono::milliseconds(armed.fault.at_ms)) continue;
    if (++armed.events_seen < armed.fault.occurrence) continue;
    armed.fired = true;
    const Instant at = world.now() + std::chrono::milliseconds(armed.fault.delay_ms);
    if (at >= heal_at_) continue;
    std::string detail = "on " + std::string(fault_event_name(event)) + " of member " +
                         std::to_string(member.value()) + " in term " +
                         std::to_string(term.value()) + " at " + std::to_string(now_ms()) + " ms";
    world.schedule_at(at, [this, i, member, detail = std::move(detail)] {
      if (healed_) return;
      event_member_ = member;
      trigger_detail_ = detail;
      fire(armed_[i].fault);
      event_member_.reset();
      trigger_detail_.clear();
    });
  }
}

int64_t FaultInjector::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(cluster_.world().now() - start_)
      .count();
}

std::vector<NodeId> FaultInjector::members_in(const std::vector<ProcessState>& states) const {
  std::vector<NodeId> ids;
  for (NodeId id : cluster_.member_ids()) {
    if (!removed_.contains(id) &&
        std::ranges::find(states, cluster_.world().state(id)) != states.end()) {
      ids.push_back(id);
    }
  }
  return ids;
}

// Resolves a target among the members in `wanted` state (crashed ones for restart, paused
// ones for resume, running ones otherwise). minority/majority count every member of the
// cluster, and put the leader in the group when there is one: the interesting case.
std::vector<NodeId> FaultInjector::resolve(const FaultTarget& target, ProcessState wanted) {
  return resolve(target, std::vector<ProcessState>{wanted});
}

std::vector<NodeId> FaultInjector::resolve(const FaultTarget& target,
                                           std::vector<ProcessState> wanted) {
  Random& random = cluster_.world().nemesis_random();
  std::vector<NodeId> candidates = members_in(wanted);
  const std::optional<NodeId> leader = cluster_.leader();
  switch (target.kind) {
    case FaultTarget::Kind::kNode: {
      const NodeId id(target.node);
      if (std::ranges::find(candidates, id) == candidates.end()) return {};
      return {id};
    }
    case FaultTarget::Kind::kLeader:
      if (!leader || std::ranges::find(candidates, *leader) == candidates.end()) return {};
      return {*leader};
    case FaultTarget::Kind::kFollower: {
      std::erase_if(candidates, [&](NodeId id) { return leader && id == *leader; });
      if (candidates.empty()) return {};
      return {candidates[random.below(candidates.size())]};
    }
    case FaultTarget::Kind::kRandom:
      if (candidates.empty()) return {};
      return {candidates[random.below(candidates.size())]};
    case FaultTarget::Kind::kAll:
      return candidates;
    case FaultTarget::Kind::kPreviousLeader:
    case FaultTarget::Kind::kEventMember: {
      const std::optional<NodeId> member = target.kind == FaultTarget::Kind::kEventMember
                                               ? event_member_
                                               : events_.previous_leader();
      if (!member || std::ranges::find(candidates, *member) == candidates.end()) return {};
      return {*member};
    }
    case FaultTarget::Kind::kMinority:
    case FaultTarget::Kind::kMajority: {
      const size_t members = cluster_.member_ids().size();
      const size_t size = target.kind == FaultTarget::Kind::kMinority
                              ? std::max<size_t>(1, (members - 1) / 2)
                              : members / 2 + 1;
      shuffle(candidates, random);
      if (leader) {
        auto it = std::ranges::find(candidates, *leader);
        if (it != candidates.end()) std::iter_swap(candidates.begin(), it);
      }
      candidates.resize(std::min(size, candidates.size()));
      std::ranges::sort(candidates);
      return candidates;
    }
  }
  return {};
}

size_t FaultInjector::record(const FaultSpec& fault, const std::vector<NodeId>& targets,
                             std::string detail) {
  AppliedFault& applied = applied_.emplace_back();
  applied.start_ms = now_ms();
  applied.action = std::string(fault_action_name(fault.action));
  applied.targets = ids_text(targets);
  applied.detail =
      targets.empty() && fault.action != FaultAction::kHeal && fault.action != FaultAction::kNetwork
          ? "no member matched target " + target_name(fault.target)
          : std::move(detail);
  if (!trigger_detail_.empty()) {
    applied.detail += (applied.detail.empty() ? "" : "; ") + trigger_detail_;
  }
  return applied_.size() - 1;
}

// A fault with a duration is undone then; one without lasts until the heal phase (whose
// heal_everything undoes it), and its end is recorded there.
void FaultInjector::schedule_undo(const FaultSpec& fault, size_t record_index,
                                  std::function<void()> undo) {
  if (fault.duration_ms == 0) return;
  const Instant at =
      std::min(heal_at_, cluster_.world().now() + std::chrono::milliseconds(fault.duration_ms));
  cluster_.world().schedule_at(at, [this, record_index, undo = std::move(undo)] {
    if (applied_[record_index].end_ms >= 0) return;
    undo();
    applied_[record_index].end_ms = now_ms();
  });
}

void FaultInjector::fire(const FaultSpec& fault) {
  World& world = cluster_.world();
  switch (fault.action) {
    case FaultAction::kCrash: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const CrashMode mode = fault.crash_mode.value_or(scenario_.disk.crash_mode);
      const size_t index = record(fault, targets, std::string(crash_mode_name(mode)));
      for (NodeId id : targets) cluster_.crash(id, mode);
      schedule_undo(fault, index, [this, targets] {
        for (NodeId id : targets) {
          if (cluster_.world().state(id) == ProcessState::kCrashed) (void)cluster_.restart(id);
        }
      });
      return;
    }
    case FaultAction::kRestart: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kCrashed);
      record(fault, targets, "");
      for (NodeId id : targets) (void)cluster_.restart(id);
      return;
    }
    case FaultAction::kPause: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const size_t index = record(fault, targets, "");
      for (NodeId id : targets) cluster_.pause(id);
      schedule_undo(fault, index, [this, targets] {
        for (NodeId id : targets) {
          if (cluster_.world().state(id) == ProcessState::kPaused) cluster_.resume(id);
        }
      });
      return;
    }
    case FaultAction::kResume: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kPaused);
      record(fault, targets, "");
      for (NodeId id : targets) cluster_.resume(id);
      return;
    }
    case FaultAction::kPartition: {
      const std::vector<NodeId> group = resolve(fault.target, ProcessState::kRunning);
      std::vector<NodeId> rest;
      for (NodeId id : cluster_.member_ids()) {
        if (std::ranges::find(group, id) == group.end()) rest.push_back(id);
      }
      const size_t index = record(fault, group, "cut off from " + ids_text(rest));
      if (!group.empty() && !rest.empty()) cluster_.partition({group, rest});
      schedule_undo(fault, index, [this] { cluster_.heal(); });
      return;
    }
    case FaultAction::kPartitionOneWay: {
      const std::vector<NodeId> from = resolve(fault.target, ProcessState::kRunning);
      std::vector<NodeId> to = resolve(*fault.to, ProcessState::kRunning);
      std::erase_if(to, [&](NodeId id) { return std::ranges::find(from, id) != from.end(); });
      const size_t index = record(fault, from, "messages to " + ids_text(to) + " dropped");
      for (NodeId source : from) {
        for (NodeId destination : to) world.partition_one_way(source, destination);
      }
      schedule_undo(fault, index, [this] { cluster_.heal(); });
      return;
    }
    case FaultAction::kHeal: {
      // The cuts end here, and so do their records (their own undo finds nothing left to do).
      for (AppliedFault& cut : applied_) {
        if (cut.end_ms < 0 && (cut.action == "partition" || cut.action == "partition_one_way")) {
          cut.end_ms = now_ms();
        }
      }
      const size_t index = record(fault, {}, "every cut and clog removed");
      applied_[index].end_ms = applied_[index].start_ms;
      cluster_.heal();
      return;
    }
    case FaultAction::kClog: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const Instant until =
          fault.duration_ms == 0
              ? heal_at_
              : std::min(heal_at_, world.now() + std::chrono::milliseconds(fault.duration_ms));
      const size_t index = record(fault, targets, "both directions");
      for (NodeId id : targets) {
        for (NodeId other : cluster_.member_ids()) {
          if (other == id) continue;
          world.clog(id, other, until);
          world.clog(other, id, until);
        }
      }
      applied_[index].end_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - start_).count();
      return;
    }
    case FaultAction::kNetwork: {
      PathModel model = path_model(scenario_.network);
      if (fault.loss) model.loss_probability = *fault.loss;
      if (fault.duplicate) model.duplicate_probability = *fault.duplicate;
      if (fault.reorder) model.reorder_probability = *fault.reorder;
      const size_t index = record(fault, {},
                                  "loss " + std::to_string(model.loss_probability) + " duplicate " +
                                      std::to_string(model.duplicate_probability) + " reorder " +
                                      std::to_string(model.reorder_probability));
      world.set_default_path_model(model);
      schedule_undo(fault, index, [this] {
        cluster_.world().set_default_path_model(path_model(scenario_.network));
      });
      return;
    }
    case FaultAction::kDiskWriteError:
    case FaultAction::kDiskFsyncError: {
      const bool writes = fault.action == FaultAction::kDiskWriteError;
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const size_t index = record(fault, targets,
                                  "probability " + std::to_string(fault.probability) + ", next " +
                                      std::to_string(fault.count));
      for (NodeId id : targets) {
        DiskFaults& faults = world.disk_faults(id);
        (writes ? faults.write_error_probability : faults.sync_error_probability) =
            fault.probability;
        (writes ? faults.fail_next_writes : faults.fail_next_syncs) = fault.count;
      }
      schedule_undo(fault, index, [this, targets] {
        for (NodeId id : targets) repair_disk_and_restart(id);
      });
      return;
    }
    case FaultAction::kDiskFull: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const size_t index = record(fault, targets, std::to_string(fault.bytes) + " bytes left");
      for (NodeId id : targets) {
        world.disk_faults(id).capacity_bytes = world.disk(id).used_bytes() + fault.bytes;
      }
      schedule_undo(fault, index, [this, targets] {
        for (NodeId id : targets) repair_disk_and_restart(id);
      });
      return;
    }
    case FaultAction::kDiskBitFlip: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      std::string flipped;
      for (NodeId id : targets) flipped += flip_bits(id);
      record(fault, targets, flipped);
      return;
    }
    case FaultAction::kDiskRepair: {
      // Any member's disk can be repaired, above all one whose process died of it.
      const std::vector<NodeId> targets = resolve(
          fault.target, {ProcessState::kRunning, ProcessState::kPaused, ProcessState::kCrashed});
      record(fault, targets, "");
      for (NodeId id : targets) repair_disk_and_restart(id);
      return;
    }
    case FaultAction::kClockOffset:
    case FaultAction::kClockJump:
    case FaultAction::kClockDrift: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const std::string detail = fault.action == FaultAction::kClockDrift
                                     ? std::to_string(fault.drift_ppm) + " ppm"
                                     : std::to_string(fault.offset_ms) + " ms";
      const size_t index = record(fault, targets, detail);
      for (NodeId id : targets) {
        if (fault.action == FaultAction::kClockOffset) {
          clock_offset_members_.insert(id);
          world.set_clock_offset(id, std::chrono::milliseconds(fault.offset_ms));
        } else if (fault.action == FaultAction::kClockJump) {
          world.jump_clock(id, std::chrono::milliseconds(fault.offset_ms));
        } else {
          (void)world.set_clock_drift_ppm(id, fault.drift_ppm);
        }
      }
      // Each undo ends only its own fault: a drift's end must not also reset the offset,
      // which would step back every jump the member's clock took meanwhile.
      if (fault.action == FaultAction::kClockOffset) {
        schedule_undo(fault, index, [this, targets] {
          for (NodeId id : targets) cluster_.world().set_clock_offset(id, Duration(0));
        });
      } else if (fault.action == FaultAction::kClockDrift) {
        schedule_undo(fault, index, [this, targets] {
          for (NodeId id : targets) (void)cluster_.world().set_clock_drift_ppm(id, 0);
        });
      }
      return;
    }
    case FaultAction::kRemoveMember: {
      const std::vector<NodeId> targets = resolve(fault.target, ProcessState::kRunning);
      const size_t index = record(fault, targets, "requested");
      for (NodeId id : targets) remove_member(id, index);
      return;
    }
    case FaultAction::kAddMember: {
      next_added_ = NodeId(std::max(next_added_.value(), cluster_.next_member_id().value()));
      const NodeId id = next_added_;
      next_added_ = NodeId(id.value() + 1);
      add_member(id, record(fault, {id}, "requested"));
      return;
    }
    case FaultAction::kPromoteMember: {
      std::optional<NodeId> learner;
      if (fault.target.kind == FaultTarget::Kind::kNode) {
        learner = NodeId(fault.target.node);
      } else if (!learners_.empty()) {
        learner = learners_.back();
      }
      if (!learner) {
        record(fault, {}, "no learner to promote");
        return;
      }
      promote_member(*learner, record(fault, {*learner}, "requested"));
      return;
    }
  }
}

std::string FaultInjector::flip_bits(NodeId member) {
  World& world = cluster_.world();
  std::vector<std::string> pending = {""};
  std::string flipped;
  // Walks the member's whole namespace; each durable file gets one flipped bit.
  while (!pending.empty()) {
    const std::string directory = pending.back();
    pending.pop_back();
    Result<std::vector<std::string>> names = world.disk(member).list(directory);
    if (!names.is_ok()) continue;
    for (const std::string& name : *names) {
      const std::string path = directory.empty() ? name : directory + "/" + name;
      if (world.flip_random_bit(member, path).is_ok()) {
        flipped += " " + std::to_string(member.value()) + ":" + path;
      } else if (world.disk(member).list(path).is_ok()) {
        pending.push_back(path);
      }
    }
  }
  return flipped.empty() ? "no durable file to flip" : "flipped" + flipped;
}

void FaultInjector::repair_disk(NodeId member) {
  DiskFaults& faults = cluster_.world().disk_faults(member);
  faults.write_error_probability = 0;
  faults.sync_error_probability = 0;
  faults.fail_next_writes = 0;
  faults.fail_next_syncs = 0;
  faults.capacity_bytes = kDefaultDiskCapacityBytes;
}

// The operator's side of a disk fault: the disk works again (space freed, the device
// replaced), and a member that died of the fault (Cluster::fail_stop) is started again, as
// an operator or a supervisor such as systemd would; it recovers from what its disk kept and
// catches up from the leader. Members crashed by a crash fault keep that fault's schedule.
void FaultInjector::repair_disk_and_restart(NodeId member) {
  repair_disk(member);
  if (!removed_.contains(member) && cluster_.failed(member)) (void)cluster_.restart(member);
}

// Once the faults are healed, nothing injected is left to fail on, so a member that still
// dies of a storage error (one that hit it before the heal and whose process ended only now,
// e.g. while a fiber slept through a clock step) gets what an operator or a supervisor gives
// it: its disk repaired and a restart, after systemd's default RestartSec. Before the heal
// the fault schedule decides (a disk fault's end, a disk_repair or the heal restarts it).
void FaultInjector::member_failed(NodeId member) {
  if (!healed_) return;
  constexpr Duration kSupervisorRestartDelay = std::chrono::milliseconds(100);
  World& world = cluster_.world();
  world.schedule_at(world.now() + kSupervisorRestartDelay,
                    [this, member] { repair_disk_and_restart(member); });
}

// etcd's MemberRemove, issued by a client process like an operator would. The member counts
// as removed only when the cluster acknowledged the change.
void FaultInjector::remove_member(NodeId member, size_t record_index) {
  cluster_.add_client("remove-member-" + std::to_string(member.value()), ClientOptions{},
                      [this, member, record_index](ClusterClient& client) {
                        node::MemberRemoveRequest request;
                        request.id = member;
                        const CallResult result = client.call(request);
                        if (result.ok()) {
                          removed_.insert(member);
                          applied_[record_index].detail = "acknowledged";
                        } else {
                          applied_[record_index].detail = std::string("not acknowledged: ") +
                                                          std::string(error_name(result.error));
                        }
                      });
}

// Retries a membership request until the cluster answers it or the safety phase ends, as an
// operator's script would; `done` reports whether an error still means success (the change
// was applied by an earlier attempt whose answer was lost).
namespace {

constexpr Duration kMembershipRetryPause = std::chrono::milliseconds(100);

template <typename Request>
CallResult call_until_answered(ClusterClient& client, const Request& request, Instant give_up,
                               ErrorCode already_done) {
  while (true) {
    CallResult result = client.call(request);
    if (result.ok() || result.error == already_done) return result;
    if (client.runtime().now() >= give_up) return result;
    client.runtime().sleep_for(kMembershipRetryPause);
  }
}

}  // namespace

// etcd's runtime reconfiguration, step one (etcd docs, "Add a new member as learner"):
// MemberAdd as a learner, then start the new member's process. A learner receives the log but
// does not vote, so adding it cannot cost the cluster its quorum while it catches up.
void FaultInjector::add_member(NodeId member, size_t record_index) {
  cluster_.add_client("add-member-" + std::to_string(member.value()), ClientOptions{},
                      [this, member, record_index](ClusterClient& client) {
                        node::MemberAddRequest request;
                        request.id = member;
                        request.is_learner = true;
                        const CallResult result = call_until_answered(client, request, heal_at_,
                                                                      ErrorCode::kMemberExists);
                        if (!result.ok() && result.error != ErrorCode::kMemberExists) {
                          applied_[record_index].detail = std::string("not acknowledged: ") +
                                                          std::string(error_name(result.error));
                          return;
                        }
                        applied_[record_index].detail = "learner added";
                        learners_.push_back(member);
                        // Processes are added by the driver, not from a client's fiber.
                        World& world = cluster_.world();
                        world.schedule_at(world.now(), [this, member, record_index] {
                          const Status started = cluster_.start_joining_member(member);
                          if (!started.is_ok())
                            applied_[record_index].detail += "; " + started.to_string();
                        });
                      });
}

// Step two: MemberPromote. etcd refuses it until the learner's log has caught up with the
// leader's (kLearnerNotReady), so the request is retried until then.
void FaultInjector::promote_member(NodeId member, size_t record_index) {
  cluster_.add_client("promote-member-" + std::to_string(member.value()), ClientOptions{},
                      [this, member, record_index](ClusterClient& client) {
                        node::MemberPromoteRequest request;
                        request.id = member;
                        const CallResult result = call_until_answered(client, request, heal_at_,
                                                                      ErrorCode::kMemberNotLearner);
                        // Not a learner any more: an earlier attempt promoted it.
                        if (result.ok() || result.error == ErrorCode::kMemberNotLearner) {
                          applied_[record_index].detail = "promoted to voter";
                          std::erase(learners_, member);
                        } else {
                          applied_[record_index].detail = std::string("not acknowledged: ") +
                                                          std::string(error_name(result.error));
                        }
                      });
}

void FaultInjector::heal_everything() {
  World& world = cluster_.world();
  healed_ = true;
  cluster_.heal();
  world.set_default_path_model(path_model(scenario_.network));
  for (NodeId id : cluster_.member_ids()) {
    repair_disk(id);
    // Offsets and drift end; a jump stays (a stepped clock is not stepped back).
    if (clock_offset_members_.contains(id)) world.set_clock_offset(id, Duration(0));
    (void)world.set_clock_drift_ppm(id, 0);
    if (removed_.contains(id)) continue;
    const ProcessState state = world.state(id);
    if (state == ProcessState::kPaused) cluster_.resume(id);
    if (state == ProcessState::kCrashed) (void)cluster_.restart(id);
  }
  const int64_t now = now_ms();
  for (AppliedFault& fault : applied_) {
    if (fault.end_ms < 0) fault.end_ms = now;
  }
  AppliedFault& heal = applied_.emplace_back();
  heal.start_ms = now;
  heal.end_ms = now;
  heal.action = "heal_everything";
  heal.detail = "liveness phase begins";
}

}  // namespace lockstep::sim::scenario
