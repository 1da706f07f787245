#include "tests/property/cluster_case.h"

#include <algorithm>
#include <array>
#include <optional>

#include "core/base/known_bugs.h"
#include "sim/scenario/scenario_parser.h"

namespace lockstep::property {
namespace {

namespace scenario = sim::scenario;

// Workloads whose checks are exact without further knobs; config and election add
// membership churn and campaign clients, exercised by their own tests.
const std::vector<std::string> kWorkloadChoices = {"kv", "txn", "watch", "lease", "lock"};

// The faults a case draws from (each undone after its duration, all healed by the liveness
// phase) and whom they hit. Disk faults and member removal stop members for good, which
// the liveness and convergence checks would rightly report; scenarios that want them say so.
constexpr scenario::FaultAction kActions[] = {
    scenario::FaultAction::kCrash,     scenario::FaultAction::kPause,
    scenario::FaultAction::kPartition, scenario::FaultAction::kClog,
    scenario::FaultAction::kNetwork,   scenario::FaultAction::kClockJump};
// previous_leader is the deposed leader after an election; event_member (the member the
// triggering event is about) needs a trigger, and a fault without one hits the leader instead.
constexpr scenario::FaultTarget::Kind kTargets[] = {
    scenario::FaultTarget::Kind::kLeader,         scenario::FaultTarget::Kind::kFollower,
    scenario::FaultTarget::Kind::kMinority,       scenario::FaultTarget::Kind::kRandom,
    scenario::FaultTarget::Kind::kPreviousLeader, scenario::FaultTarget::Kind::kEventMember};
// Faults may fire on cluster events instead of at their time (FaultSpec::on): a fixed time
// hits the instant after an election or a leader's first commit only by luck, and those
// instants are where Raft's subtle cases live (docs/benchmarks/bugs.md, Figure 8).
constexpr scenario::FaultEvent kEvents[] = {scenario::FaultEvent::kLeaderElected,
                                            scenario::FaultEvent::kLeaderCommitted};
constexpr int kMaxFaults = 6;
constexpr int kMaxClients = 4;
// One fault in this many is drawn with an event trigger.
constexpr uint64_t kTriggeredOneIn = 3;
constexpr uint32_t kMaxOccurrence = 3;
constexpr int kMaxTriggerDelayMs = 50;
// The liveness phase: clients stop half-way through it, and what follows must be long
// enough for the lease workload's final read (retried after a lost message, 1.5 s per client
// attempt) and for a watcher that lost its stream to notice and catch up (with 4 s, 1 of 40
// watch+kv+lease cases under 1.4% loss ended with a watcher behind).
constexpr int64_t kHealMs = 6'000;
constexpr double kFaultNetworkLoss = 0.2;
// Clock jumps (Jepsen's clock nemesis, swarm mode's clock_jump): a member's timers run on its
// own clock, so a step back by the fault's duration stalls its ticker (heartbeats, elections,
// CheckQuorum, request expiry) for that long while it keeps answering messages, and a step
// forward fires the missed ticks at once. Leases do not follow a step (core/node's monotonic
// lease clock), so only Raft's and the clients' timing sees it. A step back is cut so that
// the stall ends within the safety phase when the fault is timed (swarm.cc says why).
// Raft knobs beyond the defaults, each shrinking back to etcd's default: one entry per
// AppendEntries lets a follower hold part of a leader's tail (the Raft paper's Figure 8 needs
// that); a long election timeout keeps a cut-off leader in office longer.
constexpr int kMaxElectionTimeoutTicks = 30;
// One case in this many sends one entry per AppendEntries (and every leader-churn case).
constexpr int kOneEntryAppendsOneIn = 4;
// One case in this many is a leader-churn case (add_churn_faults).
constexpr int kLeaderChurnOneIn = 3;
// One case in this many has members give up on a request after about an election timeout
// (kShortRequestTimeoutPercent of it, at least kShortRequestTimeoutMinMs; etcd's default is 1 s
// whatever the election timeout): clients then leave a cut-off leader before it steps down and,
// from the new leader, commit writes the old one may still read past. A stale-read window lasts
// at most an election timeout or so, and a client whose write hangs on the cut-off leader for
// longer sees none of it (docs/benchmarks/bugs.md: 150 ms caught with 200-300 ms election
// timeouts, 1 s with none). A watch case with a short request timeout has no clock faults:
// there, an indeterminate write that no watcher saw is assumed uncommitted while the write log
// counts as complete, and short timeouts with stalled clocks made that a false prev_kv failure
// on correct code (docs/benchmarks/bugs.md, 2026-11-22; with either alone the case passed).
constexpr int kShortRequestTimeoutOneIn = 2;
constexpr int kShortRequestTimeoutMinMs = 50;
constexpr int kShortRequestTimeoutPercentMin = 100;
constexpr int kShortRequestTimeoutPercentMax = 200;

// One network or process fault in this many also steps its target's clock back (add_faults).
constexpr int kClockStepOneIn = 2;

// An event trigger as drawn: fire delay_ms after the occurrence-th such event from the
// fault's time on.
struct DrawnTrigger {
  size_t event = 0;
  uint32_t occurrence = 1;
  int delay_ms = 0;
};

// A fault as drawn: indices and a start as a fraction of the safety phase, so that a case
// shrinks by dropping faults and lowering the numbers; a trigger shrinks away first (the fault
// then fires at its time), then toward the first event, occurrence 1 and no delay.
struct DrawnFault {
  size_t action = 0;
  size_t target = 0;
  int at_per_mille = 0;
  int duration_ms = 200;
  std::optional<DrawnTrigger> trigger;
  bool clock_forward = false;  // clock_jump only: step forward instead of back
  // A partition, clog, lossy window or pause that also steps its target's clock back.
  bool clock_step = false;
};

scenario::FaultSpec to_fault(const DrawnFault& drawn, int64_t duration_ms) {
  scenario::FaultSpec fault;
  fault.action = kActions[drawn.action];
  fault.target = scenario::FaultTarget{kTargets[drawn.target], 0};
  fault.at_ms = duration_ms * drawn.at_per_mille / 1000;
  fault.duration_ms = drawn.duration_ms;
  if (fault.action == scenario::FaultAction::kNetwork) fault.loss = kFaultNetworkLoss;
  if (fault.action == scenario::FaultAction::kClockJump) {
    // A jump is not undone: its size is the drawn duration.
    fault.offset_ms = drawn.clock_forward
                          ? drawn.duration_ms
                          : -std::min<int64_t>(drawn.duration_ms, duration_ms - fault.at_ms);
    fault.duration_ms = 0;
  }
  if (drawn.trigger) {
    fault.on = kEvents[drawn.trigger->event];
    fault.occurrence = drawn.trigger->occurrence;
    fault.delay_ms = drawn.trigger->delay_ms;
  } else if (fault.target.kind == scenario::FaultTarget::Kind::kEventMember) {
    fault.target.kind = scenario::FaultTarget::Kind::kLeader;
  }
  return fault;
}

// A drawn fault as the scenario's faults: the fault, and with `clock_step` a step back of its
// target's clock by the fault's duration at the same instant (same target and trigger): an
// incident that takes a member's network or process and its clock at once, as a suspended or
// migrated VM resumes with a stepped clock. The member's timers then stall while the fault
// lasts: a cut-off leader keeps believing it leads (CheckQuorum is a timer), a paused member
// resumes without its missed ticks. Drawn independently, a clock fault meets another fault on
// the same member at the same instant only by luck, and a leader cut off for longer than
// CheckQuorum's election timeout is the classic stale-read window (Jepsen's etcd and Consul
// analyses) that a cut alone opens for less than an election timeout.
void add_faults(const DrawnFault& drawn, int64_t duration_ms, bool clock_faults,
                std::vector<scenario::FaultSpec>& faults) {
  const scenario::FaultSpec fault = to_fault(drawn, duration_ms);
  if (!clock_faults && fault.action == scenario::FaultAction::kClockJump) return;
  faults.push_back(fault);
  if (!clock_faults || !drawn.clock_step || fault.action == scenario::FaultAction::kCrash ||
      fault.action == scenario::FaultAction::kClockJump) {
    return;
  }
  scenario::FaultSpec step = fault;
  step.action = scenario::FaultAction::kClockJump;
  step.loss.reset();
  step.duration_ms = 0;
  step.offset_ms = -std::min<int64_t>(drawn.duration_ms, duration_ms - fault.at_ms);
  faults.push_back(step);
}

// The faults of a leader-churn case: the k-th fault on an event hits the member the k-th such
// event is about, at its very instant, so each new leader in turn is cut off the
// moment it is elected or first commits (its first appends dropped in flight). A cut
// first heals every other cut: one member at a time is isolated, and the isolation moves with
// leadership (a rolling "isolate the leader" nemesis; such a case also sends one entry per
// AppendEntries, so that a leader's tail reaches followers entry by entry). Independent faults at
// drawn times line up like that only by luck (with the faults below at their drawn times, 1000
// cases caught commit-earlier-term 0 times), yet such chains are where Raft's subtle cases live:
// the paper's Figure 8 is three in a row (leader A cut at a commit, the next leader B at its
// election, A again at its next commit). The event is the drawn trigger's, else the target index's
// parity; every fault is a cut; elections are counted from the second (the first one elects a
// leader of an empty log); the faults' drawn times and durations are kept otherwise.
void add_churn_faults(const DrawnFault& drawn, std::array<uint32_t, std::size(kEvents)>& counted,
                      std::vector<scenario::FaultSpec>& faults) {
  scenario::FaultSpec fault = to_fault(drawn, 0);
  fault.action = scenario::FaultAction::kPartition;
  fault.loss.reset();
  fault.offset_ms = 0;
  fault.target = scenario::FaultTarget{scenario::FaultTarget::Kind::kEventMember, 0};
  const size_t event = drawn.trigger ? drawn.trigger->event : drawn.target % std::size(kEvents);
  fault.on = kEvents[event];
  fault.occurrence = ++counted[event] + (kEvents[event] == scenario::FaultEvent::kLeaderElected);
  fault.delay_ms = 0;
  // Fires at the same event just before the cut (faults of one event fire in file order).
  scenario::FaultSpec heal;
  heal.action = scenario::FaultAction::kHeal;
  heal.on = fault.on;
  heal.occurrence = fault.occurrence;
  faults.push_back(heal);
  faults.push_back(fault);
}

}  // namespace

Result<sim::scenario::ScenarioResult> run_cluster_case(const ClusterCase& run_case) {
  sim::scenario::RunScenarioOptions options;
  options.max_check_steps = kPropertyCheckSteps;
  return sim::scenario::run_scenario(run_case.scenario, run_case.seed, options);
}

std::string describe_case(const ClusterCase& run_case) {
  const std::string seed = std::to_string(run_case.seed);
  // With a planted bug switched on (known-bugs build), `sim hunt` is the command that can
  // switch it on again; `sim run` replays failures of the code as built.
  const std::optional<KnownBug> bug = active_known_bug();
  const std::string replay = bug ? "lockstep sim hunt --bug " + std::string(known_bug_name(*bug)) +
                                       " --scenario counterexample.json --seeds " + seed + ".." +
                                       seed
                                 : "lockstep sim run counterexample.json --seed " + seed;
  return "scenario file (save as counterexample.json), seed " + seed + ":\n" +
         sim::scenario::scenario_to_json(run_case.scenario) + "\nreplay (cli): " + replay +
         "\nreplay (exact): rerun this test with RC_PARAMS=\"reproduce=...\" as printed by "
         "RapidCheck below\n";
}

Result<sim::scenario::Scenario> printed_scenario(const std::string& printed) {
  const size_t begin = printed.find('{');
  const size_t end = printed.rfind('}');
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return Error(ErrorCode::kInvalidInput, "no scenario file in the printed case");
  }
  return sim::scenario::parse_scenario(printed.substr(begin, end - begin + 1));
}

std::string failed_checks(const sim::scenario::ScenarioResult& result) {
  std::string failed;
  for (const sim::scenario::CheckReport& check : result.checks) {
    if (check.verdict == sim::CheckOutcome::Verdict::kPass) continue;
    if (!failed.empty()) failed += "; ";
    failed +=
        check.name + " [" + std::string(sim::verdict_name(check.verdict)) + "] " + check.detail;
  }
  return failed;
}

rc::Shrinkable<ClusterCase> numbered_case_shrinkable(uint64_t seed, uint64_t number) {
  constexpr uint64_t kSizesPerCycle = 101;  // RapidCheck's default max_size is 100
  const int size = static_cast<int>((number - 1) % kSizesPerCycle);
  return rc::gen::arbitrary<ClusterCase>()(rc::Random(rc::Random::Key{seed, number, 0, 0}), size);
}

ClusterCase numbered_case(uint64_t seed, uint64_t number) {
  return numbered_case_shrinkable(seed, number).value();
}

}  // namespace lockstep::property

namespace rc {

using lockstep::property::ClusterCase;
using lockstep::property::DrawnFault;
using lockstep::property::DrawnTrigger;

template <>
struct Arbitrary<DrawnTrigger> {
  static Gen<DrawnTrigger> arbitrary() {
    using lockstep::property::kEvents;
    using lockstep::property::kMaxOccurrence;
    using lockstep::property::kMaxTriggerDelayMs;
    // Half of the triggers fire at the event's very instant (a cut then also drops what the
    // member sent in that step, such as a new leader's first appends), the rest up to 50 ms
    // later; the draw shrinks toward -50, that is toward no delay.
    return gen::build<DrawnTrigger>(
        gen::set(&DrawnTrigger::event, gen::inRange<size_t>(0, std::size(kEvents))),
        gen::set(&DrawnTrigger::occurrence, gen::inRange<uint32_t>(1, kMaxOccurrence + 1)),
        gen::set(&DrawnTrigger::delay_ms,
                 gen::map(gen::inRange(-kMaxTriggerDelayMs, kMaxTriggerDelayMs + 1),
                          [](int drawn) { return std::max(0, drawn); })));
  }
};

namespace {

using OptionalTrigger = std::optional<DrawnTrigger>;

// A shrinkable trigger whose first shrink, at every step, is no trigger at all: the simplest
// schedule keeps its faults at fixed times unless the failure needs the event.
Shrinkable<OptionalTrigger> no_trigger_first(Shrinkable<OptionalTrigger> trigger) {
  return shrinkable::mapShrinks(std::move(trigger), [](Seq<Shrinkable<OptionalTrigger>>&& shrinks) {
    return seq::concat(seq::just(shrinkable::just(OptionalTrigger())),
                       seq::map(std::move(shrinks), &no_trigger_first));
  });
}

// One fault in kTriggeredOneIn gets a trigger, whatever the size (gen::maybe would give one to
// nearly every fault of a large case).
Gen<OptionalTrigger> sometimes_triggered() {
  return [](const Random& random, int size) {
    Random own = random;
    if (own.split().next() % lockstep::property::kTriggeredOneIn != 0) {
      return shrinkable::just(OptionalTrigger());
    }
    return no_trigger_first(
        shrinkable::map(gen::arbitrary<DrawnTrigger>()(own, size),
                        [](DrawnTrigger&& drawn) { return OptionalTrigger(std::move(drawn)); }));
  };
}

// Uniform over [min, max) at every size, shrinking toward min (see one_in below).
template <typename T>
Gen<T> full_range(T min, T max) {
  return gen::resize(kNominalSize, gen::inRange<T>(min, max));
}

// True one time in `n` at every size, shrinking to false. gen::inRange scales its range with
// the size (at size s it draws from about s% of it), so a "one case in n" knob drawn with it
// would be off in every small case: the first third of RapidCheck's sizes could never have it.
Gen<bool> one_in(int n) {
  return gen::map(gen::resize(kNominalSize, gen::inRange(0, n)),
                  [n](int drawn) { return drawn == n - 1; });
}

}  // namespace

template <>
struct Arbitrary<DrawnFault> {
  static Gen<DrawnFault> arbitrary() {
    using lockstep::property::kActions;
    using lockstep::property::kTargets;
    return gen::build<DrawnFault>(
        gen::set(&DrawnFault::action, full_range<size_t>(0, std::size(kActions))),
        gen::set(&DrawnFault::target, full_range<size_t>(0, std::size(kTargets))),
        gen::set(&DrawnFault::at_per_mille, gen::inRange(0, 1000)),
        gen::set(&DrawnFault::duration_ms, full_range(200, 2001)),
        gen::set(&DrawnFault::trigger, sometimes_triggered()),
        gen::set(&DrawnFault::clock_forward, one_in(2)),
        gen::set(&DrawnFault::clock_step, one_in(lockstep::property::kClockStepOneIn)));
  }
};

Gen<ClusterCase> Arbitrary<ClusterCase>::arbitrary() {
  namespace scenario = lockstep::sim::scenario;
  // One to three distinct workloads; shrinks toward a single one.
  auto workloads = gen::map(gen::pair(gen::elementOf(lockstep::property::kWorkloadChoices),
                                      gen::container<std::vector<std::string>>(
                                          gen::elementOf(lockstep::property::kWorkloadChoices))),
                            [](const std::pair<std::string, std::vector<std::string>>& drawn) {
                              std::vector<std::string> chosen = {drawn.first};
                              for (const std::string& more : drawn.second) {
                                if (chosen.size() == 3) break;
                                if (std::ranges::find(chosen, more) == chosen.end())
                                  chosen.push_back(more);
                              }
                              return chosen;
                            });
  // At most kMaxFaults faults. gen::resize caps the list's length only: each fault is drawn
  // at the case's own size. (Resizing the whole list, as this did before, drew every fault at
  // size 6, where RapidCheck scales each range to 6% of its width: always a crash of the
  // leader for 200-308 ms within the first 6% of the run.)
  auto faults = gen::withSize([](int size) {
    return gen::resize(
        lockstep::property::kMaxFaults,
        gen::container<std::vector<DrawnFault>>(gen::resize(size, gen::arbitrary<DrawnFault>())));
  });
  return gen::apply(
      [](uint64_t seed, int members, int election_timeout_ticks, int heartbeat_interval_ticks,
         int loss_per_mille, std::vector<std::string> workload_types, int clients,
         int64_t duration_ms, std::vector<DrawnFault> drawn_faults, bool one_entry_appends,
         bool churn, bool short_request_timeout, int request_timeout_percent) {
        ClusterCase run_case;
        run_case.seed = seed;
        scenario::Scenario& s = run_case.scenario;
        s.name = "property-counterexample";
        s.description = "A case of the RapidCheck cluster property (tests/property).";
        s.cluster.members = members;
        s.cluster.election_timeout_ticks = election_timeout_ticks;
        s.cluster.heartbeat_interval_ticks = heartbeat_interval_ticks;
        if (churn || one_entry_appends) {
          s.cluster.max_append_bytes = 1;
        }
        s.network.loss = loss_per_mille / 1000.0;
        for (std::string& type : workload_types) {
          s.workloads.push_back(scenario::WorkloadSpec{std::move(type), clients});
        }
        const bool watching = std::ranges::find(s.workloads, "watch",
                                                &scenario::WorkloadSpec::type) != s.workloads.end();
        if (short_request_timeout) {
          const int election_timeout_ms = election_timeout_ticks * s.cluster.tick_ms;
          s.cluster.request_timeout_ms =
              std::max(lockstep::property::kShortRequestTimeoutMinMs,
                       election_timeout_ms * request_timeout_percent / 100);
        }
        s.duration_ms = duration_ms;
        s.heal_ms = lockstep::property::kHealMs;
        s.liveness_bound_ms = lockstep::property::kHealMs;
        std::array<uint32_t, std::size(lockstep::property::kEvents)> counted{};
        for (const DrawnFault& drawn : drawn_faults) {
          if (churn) {
            lockstep::property::add_churn_faults(drawn, counted, s.faults);
          } else {
            lockstep::property::add_faults(drawn, duration_ms, !(watching && short_request_timeout),
                                           s.faults);
          }
        }
        std::ranges::stable_sort(s.faults, {}, &scenario::FaultSpec::at_ms);
        return run_case;
      },
      gen::inRange<uint64_t>(1, 1'000'000), gen::inRange(3, 6),
      gen::resize(kNominalSize, gen::inRange(5, lockstep::property::kMaxElectionTimeoutTicks + 1)),
      gen::inRange(1, 3), gen::inRange(0, 31), workloads,
      gen::resize(kNominalSize, gen::inRange(1, lockstep::property::kMaxClients + 1)),
      gen::inRange<int64_t>(1'000, 3'001), faults,
      one_in(lockstep::property::kOneEntryAppendsOneIn),
      one_in(lockstep::property::kLeaderChurnOneIn),
      one_in(lockstep::property::kShortRequestTimeoutOneIn),
      gen::resize(kNominalSize,
                  gen::inRange(lockstep::property::kShortRequestTimeoutPercentMin,
                               lockstep::property::kShortRequestTimeoutPercentMax + 1)));
}

}  // namespace rc
