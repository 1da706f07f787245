#include "sim/scenario/swarm.h"

#include <algorithm>

#include "core/base/random.h"

namespace lockstep::sim::scenario {
namespace {

// Faults a swarm may draw, with how they are parametrised. Bit flips and member removal are
// left out: they make a member stop for good, which the liveness/convergence checks of a
// generic scenario would then (rightly) report; scenarios that want them say so. Every
// fault drawn ends by the heal at the latest (a duration, or heal_everything), and a member
// that dies of a disk fault is repaired and restarted (FaultInjector), so the liveness phase
// always starts from a cluster that can regain its quorum.
constexpr FaultAction kSwarmActions[] = {
    FaultAction::kCrash,           FaultAction::kPause,          FaultAction::kPartition,
    FaultAction::kPartitionOneWay, FaultAction::kClog,           FaultAction::kNetwork,
    FaultAction::kDiskWriteError,  FaultAction::kDiskFsyncError, FaultAction::kDiskFull,
    FaultAction::kClockJump,       FaultAction::kClockDrift,
};
constexpr FaultTarget::Kind kSwarmTargets[] = {
    FaultTarget::Kind::kLeader, FaultTarget::Kind::kFollower, FaultTarget::Kind::kMinority,
    FaultTarget::Kind::kRandom};
constexpr int kMaxSwarmFaults = 12;
constexpr int64_t kMaxSwarmFaultDurationMs = 3000;
// How often a swarm run replicates one entry per AppendEntries instead of batches: batches
// carry a new leader's no-op with the earlier-term entries before it, which hides the
// Figure 8 interleavings of the Raft paper (§5.4.2) from cluster-level runs.
constexpr double kOneEntryAppendProbability = 0.25;
// How often a drawn fault fires on a cluster event (a leader elected, a leader's first
// commit) instead of at its time, which then only arms it: faults at fixed times hit the
// instant after an election only by luck (docs/benchmarks/bugs.md, Figure 8).
constexpr double kEventTriggerProbability = 0.25;
constexpr FaultEvent kSwarmEvents[] = {FaultEvent::kLeaderElected, FaultEvent::kLeaderCommitted};

// Keys the fault to an event; a fault meant for the leader then hits the event's member, the
// leader just elected or just committing.
void draw_trigger(FaultSpec& fault, Random& random) {
  fault.on = kSwarmEvents[random.below(std::size(kSwarmEvents))];
  fault.delay_ms = random.chance(0.5) ? 0 : static_cast<int64_t>(random.below(50));
  if (fault.target.kind == FaultTarget::Kind::kLeader) {
    fault.target = FaultTarget{FaultTarget::Kind::kEventMember, 0};
  }
}

FaultSpec draw_fault(FaultAction action, const Scenario& base, Random& random) {
  FaultSpec fault;
  fault.action = action;
  fault.at_ms = static_cast<int64_t>(random.below(static_cast<uint64_t>(base.duration_ms)));
  fault.target = FaultTarget{kSwarmTargets[random.below(std::size(kSwarmTargets))], 0};
  fault.duration_ms = 100 + static_cast<int64_t>(random.below(kMaxSwarmFaultDurationMs));
  switch (action) {
    case FaultAction::kCrash: {
      constexpr CrashMode kModes[] = {CrashMode::kDropAll, CrashMode::kKeepAll, CrashMode::kTorn,
                                      CrashMode::kRandom};
      fault.crash_mode = kModes[random.below(std::size(kModes))];
      break;
    }
    case FaultAction::kPartitionOneWay:
      fault.target = FaultTarget{FaultTarget::Kind::kLeader, 0};
      fault.to = FaultTarget{FaultTarget::Kind::kMinority, 0};
      break;
    case FaultAction::kNetwork:
      fault.loss = static_cast<double>(random.below(30)) / 100.0;
      fault.duplicate = static_cast<double>(random.below(20)) / 100.0;
      fault.reorder = static_cast<double>(random.below(30)) / 100.0;
      break;
    case FaultAction::kDiskWriteError:
    case FaultAction::kDiskFsyncError:
      fault.count = 1 + static_cast<uint32_t>(random.below(3));
      break;
    case FaultAction::kDiskFull:
      fault.bytes = random.below(64 * 1024);
      break;
    case FaultAction::kClockJump:
      fault.offset_ms = static_cast<int64_t>(random.below(20'000)) - 10'000;
      // A member's timers run on its clock, so a step back of N ms stalls its ticker for N ms:
      // no campaigns, and (check_quorum's lease) no votes for others. Stepping back at most
      // the time left before the heal keeps every stall inside the safety phase: a few
      // members stepped back near its end could otherwise hold the cluster without a quorum
      // through the whole liveness phase, which no operator action would fix.
      fault.offset_ms = std::max(fault.offset_ms, fault.at_ms - base.duration_ms);
      break;
    case FaultAction::kClockDrift:
      fault.drift_ppm = static_cast<int64_t>(random.below(200'000)) - 100'000;
      break;
    default:
      break;
  }
  return fault;
}

}  // namespace

Scenario draw_swarm_scenario(const Scenario& base, uint64_t seed) {
  Random random = Random(seed).stream("swarm");
  Scenario scenario = base;
  scenario.swarm = false;
  scenario.name = base.name + " (swarm seed " + std::to_string(seed) + ")";
  // Each fault kind is in this seed's mix with probability ½ (at least one is).
  std::vector<FaultAction> enabled;
  for (FaultAction action : kSwarmActions) {
    if (random.chance(0.5)) enabled.push_back(action);
  }
  if (enabled.empty()) enabled.push_back(kSwarmActions[random.below(std::size(kSwarmActions))]);
  scenario.network.loss = random.chance(0.3) ? static_cast<double>(random.below(5)) / 100.0 : 0;
  scenario.network.duplicate =
      random.chance(0.3) ? static_cast<double>(random.below(5)) / 100.0 : 0;
  scenario.network.reorder = random.chance(0.3) ? static_cast<double>(random.below(20)) / 100.0 : 0;
  const int count = 1 + static_cast<int>(random.below(kMaxSwarmFaults));
  scenario.faults.clear();
  for (int i = 0; i < count; ++i) {
    scenario.faults.push_back(draw_fault(enabled[random.below(enabled.size())], base, random));
  }
  std::ranges::stable_sort(scenario.faults, {}, &FaultSpec::at_ms);
  // Drawn last, so the faults drawn for a seed stay what they were before this knob.
  if (random.chance(kOneEntryAppendProbability)) scenario.cluster.max_append_bytes = 1;
  // Also last, for the same reason.
  for (FaultSpec& fault : scenario.faults) {
    if (random.chance(kEventTriggerProbability)) draw_trigger(fault, random);
  }
  return scenario;
}

}  // namespace lockstep::sim::scenario
