#include "sim/determinism_check.h"

#include <memory>

namespace lockstep::sim {

DeterminismReport check_determinism(WorldOptions options,
                                    const std::function<void(World&)>& scenario) {
  options.record_trace = true;
  DeterminismReport report;
  auto first = std::make_unique<World>(options);
  scenario(*first);
  auto second = std::make_unique<World>(options);
  scenario(*second);
  report.first_trace_hash = first->trace_hash();
  report.second_trace_hash = second->trace_hash();
  report.first_event_count = first->event_count();
  report.second_event_count = second->event_count();
  report.divergence = find_first_divergence(first->trace().records(), second->trace().records());
  report.deterministic =
      !report.divergence.has_value() && report.first_trace_hash == report.second_trace_hash;
  return report;
}

}  // namespace lockstep::sim
