#pragma once

#include <cstdint>

#include "sim/scenario/scenario.h"

namespace lockstep::sim::scenario {

// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): instead of one fixed fault mix,
// each seed draws its own — which fault kinds are enabled at all, how many, when, on whom,
// and the network's background loss/duplication/reordering — so that some seeds hammer one
// fault kind while others combine several. The draw uses its own stream of the seed, so the
// run's other streams are unchanged. Cluster, workloads, durations and checks come from
// `base`; the result has swarm = false and is a plain scenario (it can be saved and replayed
// without the seed's draw).
Scenario draw_swarm_scenario(const Scenario& base, uint64_t seed);

}  // namespace lockstep::sim::scenario
