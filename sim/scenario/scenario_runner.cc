#include "sim/scenario/scenario_runner.h"

#include <deque>
#include <memory>

#include "sim/cluster/cluster_checks.h"
#include "sim/cluster/history_recorder.h"
#include "sim/cluster/liveness_probe.h"
#include "sim/scenario/fault_injector.h"
#include "sim/scenario/scenario_network.h"
#include "sim/scenario/swarm.h"

namespace lockstep::sim::scenario {
namespace {

// History ids are spaced per workload so they never collide (as sim/cluster does).
constexpr int64_t kHistoryIdsPerWorkload = 1000;
// Extra virtual time members get to converge after the liveness phase.
constexpr Duration kConvergenceGrace = std::chrono::seconds(5);
// How often the timeline samples member roles and terms.
constexpr Duration kTimelineSampleInterval = std::chrono::milliseconds(10);

int64_t to_ms(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

ClusterConfig cluster_config(const Scenario& scenario, uint64_t seed, bool record_trace) {
  ClusterConfig config;
  config.seed = seed;
  config.member_count = scenario.cluster.members;
  node::MemberConfig& member = config.member;
  member.tick_interval = std::chrono::milliseconds(scenario.cluster.tick_ms);
  member.election_timeout_ticks = scenario.cluster.election_timeout_ticks;
  member.heartbeat_interval_ticks = scenario.cluster.heartbeat_interval_ticks;
  member.snapshot_count = scenario.cluster.snapshot_count;
  member.snapshot_catch_up_entries = scenario.cluster.snapshot_catch_up_entries;
  member.request_timeout = std::chrono::milliseconds(scenario.cluster.request_timeout_ms);
  member.max_append_bytes = scenario.cluster.max_append_bytes;
  config.backend = scenario.cluster.backend;
  config.network = path_model(scenario.network);
  config.record_trace = record_trace;
  config.buggify = scenario.buggify;
  return config;
}

// Samples every member's state and term; records only changes.
class TimelineRecorder {
 public:
  TimelineRecorder(Cluster& cluster, Instant start, Instant end)
      : cluster_(cluster), start_(start), end_(end) {}

  void schedule(Instant at) {
    cluster_.world().schedule_at(at, [this, at] {
      sample();
      if (at + kTimelineSampleInterval <= end_) schedule(at + kTimelineSampleInterval);
    });
  }

  std::vector<TimelineEvent> take() { return std::move(events_); }

 private:
  void sample() {
    for (NodeId id : cluster_.member_ids()) {
      std::string what;
      uint64_t term = 0;
      switch (cluster_.world().state(id)) {
        case ProcessState::kCrashed:
          what = "down";
          break;
        case ProcessState::kPaused:
          what = "paused";
          break;
        default: {
          const node::Member* member = cluster_.member(id);
          if (member == nullptr) {
            what = "stopped";
          } else {
            what = member->is_leader() ? "leader" : "follower";
            term = member->term().value();
          }
        }
      }
      auto& last = last_[id];
      if (last.first == what && last.second == term) continue;
      last = {what, term};
      events_.push_back(
          TimelineEvent{to_ms(cluster_.world().now() - start_), id.value(), what, term});
    }
  }

  Cluster& cluster_;
  Instant start_;
  Instant end_;
  std::map<NodeId, std::pair<std::string, uint64_t>> last_;
  std::vector<TimelineEvent> events_;
};

CheckReport to_report(CheckOutcome outcome, std::vector<uint32_t> counterexample = {}) {
  return CheckReport{std::move(outcome.name), outcome.verdict, std::move(outcome.detail),
                     std::move(counterexample)};
}

}  // namespace

bool ScenarioResult::passed() const {
  return std::ranges::all_of(checks, [](const CheckReport& check) {
    return check.verdict == CheckOutcome::Verdict::kPass;
  });
}

std::vector<std::string> ScenarioResult::failed_checks() const {
  std::vector<std::string> names;
  for (const CheckReport& check : checks) {
    if (check.verdict != CheckOutcome::Verdict::kPass) names.push_back(check.name);
  }
  return names;
}

std::vector<NodeId> scenario_member_ids(const Scenario& scenario) {
  std::vector<NodeId> ids;
  for (int i = 1; i <= scenario.cluster.members; ++i) ids.push_back(NodeId(i));
  return ids;
}

Result<ScenarioResult> run_scenario(const Scenario& input, uint64_t seed,
                                    const RunScenarioOptions& options) {
  const Scenario scenario = input.swarm ? draw_swarm_scenario(input, seed) : input;
  std::vector<std::unique_ptr<Workload>> workloads;
  for (const WorkloadSpec& spec : scenario.workloads) {
    std::unique_ptr<Workload> workload = make_workload(spec.type);
    if (!workload) return Error(ErrorCode::kInvalidInput, "unknown workload '" + spec.type + "'");
    workloads.push_back(std::move(workload));
  }
  const bool strict = std::ranges::all_of(
      workloads, [](const auto& workload) { return workload->records_every_write(); });
  HistoryRecorder recorder(strict ? RevisionRecording::kStrict : RevisionRecording::kValuesOnly);
  // Declared before the cluster so that they outlive every client fiber that uses them.
  std::deque<WorkloadEnvironment> environments;
  // Also before the cluster: remove-member clients and timeline callbacks reference them.
  std::optional<FaultInjector> injector;
  std::optional<TimelineRecorder> timeline;
  Cluster cluster(cluster_config(scenario, seed, options.record_trace));
  RETURN_IF_ERROR(cluster.boot());

  const Instant start = cluster.world().now();
  const Instant heal_at = start + std::chrono::milliseconds(scenario.duration_ms);
  const Instant end_at = heal_at + std::chrono::milliseconds(scenario.heal_ms);
  // Clients keep working through half of the liveness phase, then wind down so that the
  // workloads' own checks see a quiet cluster.
  const Instant stop_at = heal_at + std::chrono::milliseconds(scenario.heal_ms / 2);
  ClientOptions client_options;
  client_options.attempt_timeout = std::chrono::milliseconds(scenario.cluster.request_timeout_ms) +
                                   std::chrono::milliseconds(500);
  client_options.operation_timeout = client_options.attempt_timeout * 2;
  for (size_t i = 0; i < workloads.size(); ++i) {
    WorkloadEnvironment& environment = environments.emplace_back(
        WorkloadEnvironment{cluster, recorder, stop_at, end_at, scenario.workloads[i].clients,
                            client_options, static_cast<int64_t>(i) * kHistoryIdsPerWorkload});
    workloads[i]->start(environment);
  }

  // Liveness: from the heal on, a write must succeed within liveness_bound_ms
  // (sim/cluster/liveness_probe.h).
  const Duration liveness_bound = std::chrono::milliseconds(scenario.liveness_bound_ms);
  WorkloadEnvironment& probe_environment = environments.emplace_back(
      WorkloadEnvironment{cluster, recorder, stop_at, end_at, 1, client_options,
                          static_cast<int64_t>(workloads.size()) * kHistoryIdsPerWorkload});
  start_liveness_probe(probe_environment, heal_at, liveness_bound);

  injector.emplace(cluster, scenario, start, heal_at);
  injector->schedule(scenario.faults);
  timeline.emplace(cluster, start, end_at);
  timeline->schedule(start);
  cluster.world().run_until(end_at);

  ScenarioResult result;
  result.scenario = scenario;
  result.seed = seed;
  if (scenario.requires_check(kCheckConvergence)) {
    result.checks.push_back(
        to_report(check_convergence(cluster, injector->removed(), kConvergenceGrace)));
  }
  if (scenario.requires_check(kCheckLiveness)) {
    result.checks.push_back(to_report(check_liveness(
        first_write_acknowledged_after(recorder.history(), heal_at), heal_at, liveness_bound)));
  }
  if (scenario.requires_check(kCheckRaftSafety))
    result.checks.push_back(to_report(check_raft_safety(cluster)));
  if (options.on_simulation_end) options.on_simulation_end();
  result.history = recorder.history();
  if (scenario.requires_check(kCheckLinearizability)) {
    LinearizabilityOutcome linearizability = check_linearizability(
        result.history, {options.max_check_steps, options.checker_should_stop});
    result.checks.push_back(to_report(std::move(linearizability.outcome),
                                      std::move(linearizability.counterexample_operations)));
  }
  if (scenario.requires_check(kCheckWorkloads)) {
    for (size_t i = 0; i < workloads.size(); ++i) {
      for (CheckOutcome& outcome : workloads[i]->check(environments[i])) {
        // Named after the workload, unless the check already is ("watch: no gaps, ...").
        const std::string prefix = scenario.workloads[i].type + ": ";
        if (!outcome.name.starts_with(prefix)) outcome.name = prefix + outcome.name;
        result.checks.push_back(to_report(std::move(outcome)));
      }
    }
    // The guarantee checkers judge what the watch and lock/election workloads recorded.
    for (CheckOutcome& outcome : check_watch_guarantees(recorder)) {
      result.checks.push_back(to_report(std::move(outcome)));
    }
    for (CheckOutcome& outcome : check_lock_guarantees(recorder)) {
      result.checks.push_back(to_report(std::move(outcome)));
    }
  }
  result.guarantee_records = guarantee_records_jsonl(recorder);

  World& world = cluster.world();
  result.trace_hash = world.trace_hash();
  result.events = world.event_count();
  result.sim_time_ms = to_ms(world.now() - start);
  result.origin_ns = start.nanoseconds();
  result.operations_ok = recorder.completed_count();
  result.operations_failed = recorder.failed_count();
  result.operations_indeterminate = recorder.indeterminate_count();
  result.client_requests = cluster.client_requests();
  result.messages_delivered = world.messages_delivered();
  result.messages_dropped = world.messages_dropped();
  result.faults = injector->applied();
  result.timeline = timeline->take();
  result.member_exits = cluster.member_exits();
  result.probes = world.probes_hit();
  if (options.record_trace) result.trace = world.trace().records();
  return result;
}

}  // namespace lockstep::sim::scenario
