#pragma once

#include "sim/path_model.h"
#include "sim/scenario/scenario.h"

namespace lockstep::sim::scenario {

// The world's path model for a scenario's network section.
inline PathModel path_model(const NetworkSpec& network) {
  PathModel model;
  model.latency_min = std::chrono::microseconds(network.latency_min_us);
  model.jitter_mean = std::chrono::microseconds(network.jitter_mean_us);
  model.loss_probability = network.loss;
  model.duplicate_probability = network.duplicate;
  model.reorder_probability = network.reorder;
  model.reorder_delay_max = std::chrono::microseconds(network.reorder_delay_max_us);
  return model;
}

}  // namespace lockstep::sim::scenario
