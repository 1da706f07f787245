#include "sim/cluster/cluster_checks.h"

#include <limits>
#include <map>
#include <memory>
#include <string>

#include "checker/linearizability.h"
#include "checker/model.h"

namespace lockstep::sim {
namespace {

// Violations listed in a check's detail; the rest are counted.
constexpr size_t kMaxViolationsDescribed = 3;

int64_t to_ms(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// One outcome per guarantee, in the checker's order: pass with `pass_detail`, or fail with
// the first violations of that guarantee.
template <typename Guarantee, typename Violation>
std::vector<CheckOutcome> outcomes_by_guarantee(std::string_view prefix,
                                                const std::vector<Guarantee>& guarantees,
                                                std::string_view (*guarantee_name)(Guarantee),
                                                const std::vector<Violation>& violations,
                                                const std::string& pass_detail) {
  std::vector<CheckOutcome> outcomes;
  for (Guarantee guarantee : guarantees) {
    CheckOutcome outcome;
    outcome.name = std::string(prefix) + ": " + std::string(guarantee_name(guarantee));
    size_t count = 0;
    for (const Violation& violation : violations) {
      if (violation.guarantee != guarantee) continue;
      if (count++ < kMaxViolationsDescribed) {
        outcome.detail += (outcome.detail.empty() ? "" : "; ") + violation.message;
      }
    }
    if (count == 0) {
      outcome.detail = pass_detail;
    } else {
      outcome.verdict = CheckOutcome::Verdict::kFail;
      if (count > kMaxViolationsDescribed) {
        outcome.detail += "; " + std::to_string(count - kMaxViolationsDescribed) + " more";
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace

LinearizabilityOutcome check_linearizability(const checker::History& history,
                                             const LinearizabilityCheckOptions& options) {
  LinearizabilityOutcome result;
  CheckOutcome& outcome = result.outcome;
  outcome.name = "linearizability";
  std::unique_ptr<checker::Model> model = checker::make_model("etcd");
  ASSERT(model != nullptr, "the checker provides the etcd model");
  checker::CheckOptions check_options;
  check_options.max_steps = options.max_steps;
  check_options.should_stop = options.should_stop;
  Result<checker::CheckResult> checked =
      checker::check_linearizability(history, *model, check_options);
  if (!checked.is_ok()) {
    outcome.verdict = CheckOutcome::Verdict::kFail;
    outcome.detail = "the checker refused the history: " + checked.error().to_string();
    return result;
  }
  outcome.detail = std::to_string(history.operations.size()) + " operations, " +
                   std::to_string(checked->steps) + " search steps";
  if (checked->verdict == checker::Verdict::kUnknown) {
    outcome.verdict = CheckOutcome::Verdict::kUnknown;
    outcome.detail += "; search budget exhausted";
  } else if (checked->verdict == checker::Verdict::kNotLinearizable) {
    outcome.verdict = CheckOutcome::Verdict::kFail;
    const checker::PartitionVerdict& bad = checked->partitions.back();
    outcome.detail += "; partition " + bad.name;
    std::vector<uint32_t>& counterexample = result.counterexample_operations;
    if (bad.blocked_operation) {
      outcome.detail += "; cannot linearize: " +
                        checker::describe_operation(history.operations[*bad.blocked_operation]);
      counterexample.push_back(*bad.blocked_operation);
    }
    for (uint32_t index : bad.longest_prefix) {
      if (counterexample.size() >= kMaxCounterexampleOperations) break;
      counterexample.push_back(index);
    }
  }
  return result;
}

CheckOutcome check_raft_safety(Cluster& cluster) {
  CheckOutcome outcome;
  outcome.name = "raft_safety";
  SafetyMonitor& safety = cluster.safety();
  outcome.verdict = safety.ok() ? CheckOutcome::Verdict::kPass : CheckOutcome::Verdict::kFail;
  outcome.detail = std::to_string(safety.applied_entries()) + " applies checked, " +
                   std::to_string(safety.terms_with_leader()) + " terms with a leader";
  for (const std::string& violation : safety.violations()) outcome.detail += "; " + violation;
  return outcome;
}

CheckOutcome check_convergence(Cluster& cluster, const std::set<NodeId>& removed, Duration grace) {
  CheckOutcome outcome;
  outcome.name = "convergence";
  auto converged = [&] {
    std::optional<Revision> revision;
    for (NodeId id : cluster.member_ids()) {
      if (removed.contains(id)) continue;
      const node::Member* member = cluster.member(id);
      if (member == nullptr) return false;
      if (revision && member->current_revision() != *revision) return false;
      revision = member->current_revision();
    }
    return true;
  };
  World& world = cluster.world();
  const bool done = world.run_until(converged, world.now() + grace);
  std::string revisions;
  for (NodeId id : cluster.member_ids()) {
    const node::Member* member = cluster.member(id);
    revisions += " " + std::to_string(id.value()) + ":" +
                 (removed.contains(id) ? "removed"
                  : member             ? std::to_string(member->current_revision().value())
                                       : "down");
  }
  outcome.verdict = done ? CheckOutcome::Verdict::kPass : CheckOutcome::Verdict::kFail;
  outcome.detail = "revisions" + revisions;
  return outcome;
}

CheckOutcome check_liveness(std::optional<Instant> live_again, Instant heal_at, Duration bound) {
  CheckOutcome outcome;
  outcome.name = "liveness";
  const std::string bound_ms = std::to_string(to_ms(bound));
  if (live_again && *live_again - heal_at <= bound) {
    outcome.detail = "a write succeeded " + std::to_string(to_ms(*live_again - heal_at)) +
                     " ms after the faults healed (bound " + bound_ms + " ms)";
  } else {
    outcome.verdict = CheckOutcome::Verdict::kFail;
    outcome.detail =
        "no write succeeded within " + bound_ms + " ms of healing" +
        (live_again ? " (first one after " + std::to_string(to_ms(*live_again - heal_at)) + " ms)"
                    : "");
  }
  return outcome;
}

std::vector<CheckOutcome> check_watch_guarantees(const HistoryRecorder& recorder) {
  if (recorder.watches().empty() && recorder.watched_writes().empty()) return {};
  const ResolvedWriteLog writes = recorder.resolved_write_log();
  std::vector<checker::WatchRecord> watches;
  size_t responses = 0;
  size_t events = 0;
  size_t with_prev_kv = 0;
  size_t progress_notifications = 0;
  size_t resumed = 0;
  for (const RecordedWatch& recorded : recorder.watches()) {
    watches.push_back(recorded.watch);
    if (recorded.watch.resumes_watch_id) ++resumed;
    for (const checker::WatchResponse& response : recorded.watch.responses) {
      ++responses;
      events += response.events.size();
      if (response.events.empty() && !response.canceled) ++progress_notifications;
      for (const checker::WatchEvent& event : response.events) {
        if (event.prev_kv) ++with_prev_kv;
      }
    }
  }
  const checker::WatchCheckResult result = checker::check_watches(writes.log, watches);
  const std::string detail =
      std::to_string(watches.size()) + " watches (" + std::to_string(resumed) + " resumed), " +
      std::to_string(events) + " events in " + std::to_string(responses) + " responses, " +
      std::to_string(with_prev_kv) + " with prev_kv, " + std::to_string(progress_notifications) +
      " progress notifications; " + std::to_string(writes.log.changes.size()) +
      " committed writes (" + std::to_string(writes.resolved_from_events) +
      " indeterminate ones seen delivered, " + std::to_string(writes.assumed_not_committed) +
      " never seen)";
  return outcomes_by_guarantee<checker::WatchGuarantee, checker::WatchViolation>(
      "watch",
      {checker::WatchGuarantee::kOrdered, checker::WatchGuarantee::kUnique,
       checker::WatchGuarantee::kAtomic, checker::WatchGuarantee::kReliable,
       checker::WatchGuarantee::kResumable, checker::WatchGuarantee::kBookmarkable,
       checker::WatchGuarantee::kPrevKv, checker::WatchGuarantee::kFilters,
       checker::WatchGuarantee::kMatchesWrites},
      &checker::watch_guarantee_name, result.violations, detail);
}

std::vector<CheckOutcome> check_lock_guarantees(const HistoryRecorder& recorder) {
  if (recorder.lock_holds().empty() && recorder.fenced_writes().empty()) return {};
  const checker::LockCheckResult result =
      checker::check_locks(recorder.lock_holds(), recorder.fenced_writes());
  size_t accepted = 0;
  size_t lost = 0;
  for (const checker::FencedWrite& write : recorder.fenced_writes()) accepted += write.accepted;
  // Holds whose lease ran out (or was learned lost) before the client released them.
  for (const checker::LockHold& hold : recorder.lock_holds()) {
    lost +=
        hold.lease_lost_time &&
        *hold.lease_lost_time < hold.release_invoke.value_or(std::numeric_limits<int64_t>::max());
  }
  const std::string detail = std::to_string(recorder.lock_holds().size()) + " holds (" +
                             std::to_string(lost) + " ended by a lost lease), " +
                             std::to_string(recorder.fenced_writes().size()) + " fenced writes (" +
                             std::to_string(accepted) + " accepted)";
  return outcomes_by_guarantee<checker::LockGuarantee, checker::LockViolation>(
      "lock",
      {checker::LockGuarantee::kMutualExclusion, checker::LockGuarantee::kGrantOrder,
       checker::LockGuarantee::kFencing},
      &checker::lock_guarantee_name, result.violations, detail);
}

}  // namespace lockstep::sim
