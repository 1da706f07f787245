#include "sim/cluster/cluster_run.h"

#include <deque>
#include <sstream>

#include "sim/cluster/cluster_checks.h"
#include "sim/cluster/liveness_probe.h"

namespace lockstep::sim {
namespace {

// How long after the faults heal the cluster gets to serve a write again.
constexpr Duration kLivenessBound = std::chrono::seconds(4);
// Extra simulated time granted for members to converge once clients stopped.
constexpr Duration kConvergenceGrace = std::chrono::seconds(5);
constexpr int64_t kHistoryIdsPerWorkload = 1000;
constexpr Duration kMinFaultDuration = std::chrono::milliseconds(200);

std::string member_name(NodeId id) {
  return "member " + std::to_string(id.value());
}

Duration fraction_of(Duration duration, double fraction) {
  return Duration(static_cast<int64_t>(static_cast<double>(duration.count()) * fraction));
}

// Schedules the fault plan on the world. Every choice comes from the nemesis stream.
class Nemesis {
 public:
  Nemesis(Cluster& cluster, const FaultPlan& plan, Instant start, Instant heal_at)
      : cluster_(cluster), plan_(plan), start_(start), heal_at_(heal_at) {}

  void schedule() {
    World& world = cluster_.world();
    Random& random = world.nemesis_random();
    auto at_random_time = [&](std::function<void(Instant)> fault) {
      const int64_t window = (heal_at_ - start_).count();
      if (window <= 0) return;
      const Instant at = start_ + Duration(static_cast<int64_t>(random.below(window)));
      world.schedule_at(at, [fault = std::move(fault), at] { fault(at); });
    };
    for (int i = 0; i < plan_.crashes; ++i) at_random_time([this](Instant at) { crash(at); });
    for (int i = 0; i < plan_.partitions; ++i) {
      at_random_time([this](Instant at) { partition(at); });
    }
    for (int i = 0; i < plan_.pauses; ++i) at_random_time([this](Instant at) { pause(at); });
    if (plan_.message_loss > 0) {
      world.schedule_at(start_, [this] {
        PathModel lossy = cluster_.config().network;
        lossy.loss_probability = plan_.message_loss;
        cluster_.world().set_default_path_model(lossy);
        log("message loss " + std::to_string(plan_.message_loss) + " on every path");
      });
    }
    world.schedule_at(heal_at_, [this] { heal_everything(); });
  }

  const std::vector<std::string>& log() const { return log_; }

 private:
  Duration fault_duration() {
    Random& random = cluster_.world().nemesis_random();
    const int64_t span = (plan_.max_fault_duration - kMinFaultDuration).count();
    return kMinFaultDuration + Duration(span > 0 ? static_cast<int64_t>(random.below(span)) : 0);
  }

  // The leader half the time (the interesting target), otherwise any running member.
  std::optional<NodeId> choose_target() {
    Random& random = cluster_.world().nemesis_random();
    std::optional<NodeId> leader = cluster_.leader();
    if (leader && random.chance(0.5)) return leader;
    std::vector<NodeId> up;
    for (NodeId id : cluster_.member_ids()) {
      if (cluster_.world().state(id) == ProcessState::kRunning) up.push_back(id);
    }
    if (up.empty()) return std::nullopt;
    return up[random.below(up.size())];
  }

  void crash(Instant at) {
    std::optional<NodeId> target = choose_target();
    if (!target) return;
    cluster_.crash(*target, CrashMode::kTorn);
    log("crash " + member_name(*target));
    const Instant restart_at = std::min(heal_at_, at + fault_duration());
    cluster_.world().schedule_at(restart_at, [this, id = *target] {
      if (cluster_.world().state(id) == ProcessState::kCrashed && cluster_.restart(id).is_ok()) {
        log("restart " + member_name(id));
      }
    });
  }

  void partition(Instant at) {
    Random& random = cluster_.world().nemesis_random();
    const std::vector<NodeId>& members = cluster_.member_ids();
    std::vector<NodeId> minority;
    std::optional<NodeId> leader = cluster_.leader();
    if (leader && random.chance(0.5)) {
      minority.push_back(*leader);
    } else {
      std::vector<NodeId> shuffled = members;
      for (size_t i = shuffled.size(); i > 1; --i) {
        std::swap(shuffled[i - 1], shuffled[random.below(i)]);
      }
      const size_t size = 1 + random.below(std::max<size_t>(1, (members.size() - 1) / 2));
      minority.assign(shuffled.begin(), shuffled.begin() + static_cast<ptrdiff_t>(size));
    }
    std::vector<NodeId> majority;
    for (NodeId id : members) {
      if (std::ranges::find(minority, id) == minority.end()) majority.push_back(id);
    }
    cluster_.partition({minority, majority});
    std::string names;
    for (NodeId id : minority) names += " " + std::to_string(id.value());
    log("partition off" + names);
    cluster_.world().schedule_at(std::min(heal_at_, at + fault_duration()), [this] {
      cluster_.heal();
      log("heal partition");
    });
  }

  void pause(Instant at) {
    std::optional<NodeId> target = choose_target();
    if (!target) return;
    cluster_.pause(*target);
    log("pause " + member_name(*target));
    cluster_.world().schedule_at(std::min(heal_at_, at + fault_duration()), [this, id = *target] {
      if (cluster_.world().state(id) == ProcessState::kPaused) {
        cluster_.resume(id);
        log("resume " + member_name(id));
      }
    });
  }

  void heal_everything() {
    cluster_.heal();
    cluster_.world().set_default_path_model(cluster_.config().network);
    for (NodeId id : cluster_.member_ids()) {
      const ProcessState state = cluster_.world().state(id);
      if (state == ProcessState::kPaused) cluster_.resume(id);
      if (state == ProcessState::kCrashed) (void)cluster_.restart(id);
    }
    log("heal everything");
  }

  void log(std::string what) {
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(cluster_.world().now().since_epoch())
            .count();
    log_.push_back(std::to_string(ms) + "ms " + what);
  }

  Cluster& cluster_;
  FaultPlan plan_;
  Instant start_;
  Instant heal_at_;
  std::vector<std::string> log_;
};

}  // namespace

bool RunResult::passed() const {
  return std::ranges::all_of(checks, [](const CheckOutcome& check) { return check.passed(); });
}

std::string RunResult::summary() const {
  std::ostringstream out;
  out << "seed " << seed << "\n"
      << "sim_time_ms "
      << std::chrono::duration_cast<std::chrono::milliseconds>(simulated_time).count() << "\n"
      << "events " << events << "\n"
      << "trace_hash " << std::hex << trace_hash << std::dec << "\n"
      << "operations ok " << operations_ok << ", failed " << operations_failed << ", indeterminate "
      << operations_indeterminate << "\n"
      << "watch events " << watch_events << "\n"
      << "raft entries applied " << raft_entries_applied << ", terms with a leader " << leader_terms
      << "\n"
      << "messages delivered " << messages_delivered << ", dropped " << messages_dropped << "\n";
  for (const std::string& fault : faults_injected) out << "fault " << fault << "\n";
  for (const std::string& exit : member_exits) out << "exit " << exit << "\n";
  for (const CheckOutcome& check : checks) {
    out << "check " << verdict_name(check.verdict) << ": " << check.name;
    if (!check.detail.empty()) out << " — " << check.detail;
    out << "\n";
  }
  out << "verdict " << (passed() ? "PASS" : "FAIL") << "\n";
  return out.str();
}

Result<RunResult> run_workloads(const RunOptions& options) {
  std::vector<std::unique_ptr<Workload>> workloads;
  for (const std::string& name : options.workloads) {
    std::unique_ptr<Workload> workload = make_workload(name);
    if (!workload) return Error(ErrorCode::kInvalidInput, "unknown workload '" + name + "'");
    workloads.push_back(std::move(workload));
  }
  if (options.cluster.member_count < 1) {
    return Error(ErrorCode::kInvalidInput, "a cluster needs at least one member");
  }
  const bool strict = std::ranges::all_of(
      workloads, [](const auto& workload) { return workload->records_every_write(); });
  HistoryRecorder recorder(strict ? RevisionRecording::kStrict : RevisionRecording::kValuesOnly);
  // Declared before the cluster so that they outlive every client fiber that uses them.
  std::deque<WorkloadEnvironment> environments;
  Cluster cluster(options.cluster);
  RETURN_IF_ERROR(cluster.boot());

  const Instant start = cluster.world().now();
  const Instant stop_at = start + options.duration;
  const Instant end_at = stop_at + options.settle;
  for (size_t i = 0; i < workloads.size(); ++i) {
    WorkloadEnvironment& environment = environments.emplace_back(
        WorkloadEnvironment{cluster, recorder, stop_at, end_at, options.clients_per_workload,
                            ClientOptions{}, static_cast<int64_t>(i) * kHistoryIdsPerWorkload});
    workloads[i]->start(environment);
  }

  // Liveness: once the faults heal, a write must succeed within kLivenessBound.
  const Instant heal_at = start + fraction_of(options.duration, options.faults.window_end_fraction);
  WorkloadEnvironment& probe_environment = environments.emplace_back(
      WorkloadEnvironment{cluster, recorder, stop_at, end_at, 1, ClientOptions{},
                          static_cast<int64_t>(workloads.size()) * kHistoryIdsPerWorkload});
  start_liveness_probe(probe_environment, heal_at, kLivenessBound);

  Nemesis nemesis(cluster, options.faults,
                  start + fraction_of(options.duration, options.faults.window_start_fraction),
                  heal_at);
  nemesis.schedule();
  cluster.world().run_until(end_at);

  RunResult result;
  result.seed = options.cluster.seed;
  result.checks.push_back(check_convergence(cluster, {}, kConvergenceGrace));
  result.history = recorder.history();
  result.checks.push_back(check_liveness(first_write_acknowledged_after(result.history, heal_at),
                                         heal_at, kLivenessBound));
  result.checks.push_back(check_raft_safety(cluster));
  result.checks.push_back(
      check_linearizability(result.history, {options.max_check_steps, options.checker_should_stop})
          .outcome);
  for (size_t i = 0; i < workloads.size(); ++i) {
    for (CheckOutcome& outcome : workloads[i]->check(environments[i])) {
      result.checks.push_back(std::move(outcome));
    }
  }
  for (CheckOutcome& outcome : check_watch_guarantees(recorder)) {
    result.checks.push_back(std::move(outcome));
  }
  for (CheckOutcome& outcome : check_lock_guarantees(recorder)) {
    result.checks.push_back(std::move(outcome));
  }
  result.guarantee_records = guarantee_records_jsonl(recorder);

  for (const TraceRecord& record : cluster.world().trace().records()) {
    if (record.kind == TraceKind::kUser) result.member_trace.push_back(record.to_string());
  }
  result.trace_hash = cluster.world().trace_hash();
  result.events = cluster.world().event_count();
  result.simulated_time = cluster.world().now() - start;
  result.operations_ok = recorder.completed_count();
  result.operations_failed = recorder.failed_count();
  result.operations_indeterminate = recorder.indeterminate_count();
  result.watch_events = recorder.watch_events().size();
  result.raft_entries_applied = cluster.safety().applied_entries();
  result.leader_terms = cluster.safety().terms_with_leader();
  result.messages_delivered = cluster.world().messages_delivered();
  result.messages_dropped = cluster.world().messages_dropped();
  result.faults_injected = nemesis.log();
  result.member_exits = cluster.member_exits();
  return result;
}

}  // namespace lockstep::sim
