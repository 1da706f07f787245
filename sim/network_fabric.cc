#include "sim/network_fabric.h"

#include <algorithm>
#include <cmath>

namespace lockstep::sim {

void NetworkFabric::resize(uint32_t process_count, const PathModel& default_model) {
  std::vector<Path> grown(static_cast<size_t>(process_count) * process_count);
  for (uint32_t from = 0; from < process_count; ++from) {
    for (uint32_t to = 0; to < process_count; ++to) {
      Path& target = grown[from * process_count + to];
      if (from < process_count_ && to < process_count_) {
        target = path(from, to);
      } else {
        target.model = default_model;
      }
    }
  }
  paths_ = std::move(grown);
  process_count_ = process_count;
}

void NetworkFabric::set_default_model(const PathModel& model) {
  for (Path& each : paths_) each.model = model;
}

void NetworkFabric::heal() {
  for (Path& each : paths_) {
    each.cut = false;
    each.clogged_until = Instant();
  }
}

Duration NetworkFabric::draw_latency(const PathModel& model, Random& random) {
  const int64_t mean = model.jitter_mean.count();
  int64_t jitter = 0;
  if (mean > 0) {
    switch (model.jitter) {
      case PathModel::Jitter::kUniform:
        jitter = random.between(0, 2 * mean);
        break;
      case PathModel::Jitter::kExponential: {
        const double draw = -std::log1p(-random.unit()) * static_cast<double>(mean);
        jitter = std::min<int64_t>(static_cast<int64_t>(draw), kJitterCutoffMeans * mean);
        break;
      }
    }
  }
  return model.latency_min + Duration(jitter);
}

std::optional<Instant> NetworkFabric::plan_delivery(uint32_t from, uint32_t to, Instant now,
                                                    Random& random) {
  Path& route = path(from, to);
  if (random.chance(route.model.loss_probability)) return std::nullopt;
  Instant delivery = now + draw_latency(route.model, random);
  if (route.clogged_until > delivery) delivery = route.clogged_until;
  if (random.chance(route.model.reorder_probability)) {
    // Out of order: free of the FIFO watermark, with extra delay so later messages pass it.
    return delivery + Duration(random.between(0, route.model.reorder_delay_max.count()));
  }
  delivery = std::max(delivery, route.fifo_watermark);
  route.fifo_watermark = delivery;
  return delivery;
}

}  // namespace lockstep::sim
