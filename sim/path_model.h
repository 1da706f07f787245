#pragma once

#include <cstdint>

#include "core/base/time.h"

namespace lockstep::sim {

// How messages travel on one directed (source, destination) path.
//
// Latency is latency_min plus a jitter drawn from `jitter` with mean jitter_mean. Without
// reordering a path is FIFO, like one TCP connection: a message never overtakes an earlier
// one on the same path (its delivery waits for the previous delivery time). With probability
// reorder_probability a message leaves the FIFO order and gets an extra uniform delay in
// [0, reorder_delay_max], so later messages may overtake it.
struct PathModel {
  enum class Jitter : uint8_t { kUniform, kExponential };

  Duration latency_min = std::chrono::microseconds(500);
  Duration jitter_mean = std::chrono::microseconds(500);
  Jitter jitter = Jitter::kExponential;
  double loss_probability = 0;
  double duplicate_probability = 0;
  double reorder_probability = 0;
  Duration reorder_delay_max = std::chrono::milliseconds(5);
};

// Exponential jitter is cut off at this many means, so one unlucky draw cannot park a message
// for simulated hours (a real connection would have timed out and reconnected).
inline constexpr int64_t kJitterCutoffMeans = 20;

}  // namespace lockstep::sim
