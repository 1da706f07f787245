#include "sim/scenario/shrinker.h"

#include <algorithm>

#include "sim/scenario/swarm.h"

namespace lockstep::sim::scenario {
namespace {

constexpr int64_t kMinDurationMs = 100;

class Shrinker {
 public:
  Shrinker(uint64_t seed, ShrinkOptions options, ShrinkResult& result)
      : seed_(seed), options_(std::move(options)), result_(result) {}

  // True when `candidate` still fails the check (and the budget allowed running it).
  bool still_fails(const Scenario& candidate) {
    if (result_.runs >= options_.max_runs) return false;
    ++result_.runs;
    Result<ScenarioResult> run = options_.run(candidate, seed_);
    if (!run.is_ok()) return false;
    const std::vector<std::string> failed = run->failed_checks();
    return std::ranges::find(failed, result_.check) != failed.end();
  }

  bool accept(Scenario& current, const Scenario& candidate, std::string step) {
    if (candidate == current || !still_fails(candidate)) return false;
    current = candidate;
    result_.steps.push_back(std::move(step));
    return true;
  }

  bool drop_faults(Scenario& current) {
    bool progress = false;
    // Halves, then quarters, ... then single faults (ddmin's complement step).
    for (size_t chunk = std::max<size_t>(1, current.faults.size() / 2); chunk >= 1; chunk /= 2) {
      for (size_t begin = 0; begin < current.faults.size();) {
        Scenario candidate = current;
        const size_t end = std::min(begin + chunk, candidate.faults.size());
        candidate.faults.erase(candidate.faults.begin() + static_cast<ptrdiff_t>(begin),
                               candidate.faults.begin() + static_cast<ptrdiff_t>(end));
        if (accept(current, candidate,
                   "dropped faults [" + std::to_string(begin) + ", " + std::to_string(end) + ")")) {
          progress = true;
        } else {
          begin += chunk;
        }
      }
      if (chunk == 1) break;
    }
    return progress;
  }

  bool shorten(Scenario& current) {
    bool progress = false;
    while (current.duration_ms / 2 >= kMinDurationMs) {
      Scenario candidate = current;
      candidate.duration_ms /= 2;
      std::erase_if(candidate.faults,
                    [&](const FaultSpec& fault) { return fault.at_ms >= candidate.duration_ms; });
      if (!accept(current, candidate, "duration_ms " + std::to_string(candidate.duration_ms)))
        break;
      progress = true;
    }
    while (current.heal_ms / 2 >= current.liveness_bound_ms && current.heal_ms / 2 > 0) {
      Scenario candidate = current;
      candidate.heal_ms /= 2;
      if (!accept(current, candidate, "heal_ms " + std::to_string(candidate.heal_ms))) break;
      progress = true;
    }
    return progress;
  }

  bool fewer_workloads(Scenario& current) {
    bool progress = false;
    for (size_t i = current.workloads.size(); i-- > 0 && current.workloads.size() > 1;) {
      Scenario candidate = current;
      candidate.workloads.erase(candidate.workloads.begin() + static_cast<ptrdiff_t>(i));
      progress |= accept(current, candidate, "dropped workload " + current.workloads[i].type);
    }
    for (size_t i = 0; i < current.workloads.size(); ++i) {
      while (current.workloads[i].clients > 1) {
        Scenario candidate = current;
        candidate.workloads[i].clients /= 2;
        if (!accept(current, candidate,
                    current.workloads[i].type + " clients " +
                        std::to_string(candidate.workloads[i].clients))) {
          break;
        }
        progress = true;
      }
    }
    return progress;
  }

  bool fewer_members(Scenario& current) {
    bool progress = false;
    while (current.cluster.members > 1) {
      Scenario candidate = current;
      // Odd sizes keep the quorum arithmetic of the original (5 → 3 → 1).
      candidate.cluster.members = std::max(1, current.cluster.members - 2);
      const uint64_t members = static_cast<uint64_t>(candidate.cluster.members);
      std::erase_if(candidate.faults, [&](const FaultSpec& fault) {
        const bool target_gone =
            fault.target.kind == FaultTarget::Kind::kNode && fault.target.node > members;
        const bool to_gone =
            fault.to && fault.to->kind == FaultTarget::Kind::kNode && fault.to->node > members;
        return target_gone || to_gone;
      });
      if (!accept(current, candidate, "members " + std::to_string(candidate.cluster.members)))
        break;
      progress = true;
    }
    return progress;
  }

 private:
  uint64_t seed_;
  ShrinkOptions options_;
  ShrinkResult& result_;
};

}  // namespace

Result<ShrinkResult> shrink_scenario(const Scenario& scenario, uint64_t seed,
                                     ShrinkOptions options) {
  if (!options.run) {
    options.run = [](const Scenario& candidate, uint64_t candidate_seed) {
      return run_scenario(candidate, candidate_seed);
    };
  }
  ShrinkResult result;
  // A swarm scenario is shrunk as the plain scenario its seed drew.
  result.original = scenario.swarm ? draw_swarm_scenario(scenario, seed) : scenario;
  Result<ScenarioResult> first = options.run(result.original, seed);
  ++result.runs;
  if (!first.is_ok()) return first.error();
  const std::vector<std::string> failed = first->failed_checks();
  if (failed.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "seed " + std::to_string(seed) + " passes every check: nothing to shrink");
  }
  if (options.check.empty()) {
    result.check = failed.front();
  } else if (std::ranges::find(failed, options.check) == failed.end()) {
    return Error(ErrorCode::kInvalidInput,
                 "--check " + options.check + " does not fail on seed " + std::to_string(seed));
  } else {
    result.check = options.check;
  }
  Scenario current = result.original;
  Shrinker shrinker(seed, options, result);
  // To a fixed point: a reduction of one kind can enable one of another.
  bool progress = true;
  while (progress && result.runs < options.max_runs) {
    progress = false;
    progress |= shrinker.drop_faults(current);
    progress |= shrinker.shorten(current);
    progress |= shrinker.fewer_workloads(current);
    progress |= shrinker.fewer_members(current);
  }
  current.name = result.original.name + " (shrunk, seed " + std::to_string(seed) + ")";
  result.shrunk = current;
  return result;
}

}  // namespace lockstep::sim::scenario
