#pragma once

#include <cstdint>
#include <string_view>

namespace lockstep {

// A deterministic PRNG (xoshiro256**, Blackman & Vigna 2018) seeded through splitmix64.
// One seed per run; `stream(name)` derives an independent generator for a named purpose
// (scheduler, network, disk, workload, faults), so that adding a draw in one place does not
// reshuffle the draws elsewhere (DESIGN.md: Random).
class Random {
 public:
  explicit Random(uint64_t seed);

  // An independent generator named `name`, derived from this generator's seed only (not from
  // how many numbers it has drawn), so streams are stable under unrelated code changes.
  Random stream(std::string_view name) const;

  uint64_t seed() const { return seed_; }

  uint64_t next_u64();
  // Uniform in [0, bound); bound must be positive. Unbiased (Lemire's method).
  uint64_t below(uint64_t bound);
  // Uniform in [low, high], inclusive.
  int64_t between(int64_t low, int64_t high);
  // Uniform in [0, 1).
  double unit();
  // True with the given probability (0 ⇒ never, 1 ⇒ always).
  bool chance(double probability);

 private:
  uint64_t seed_;
  uint64_t state_[4];
};

// 64-bit FNV-1a, for deriving seeds and names; stable across platforms and builds.
uint64_t fnv1a_64(std::string_view bytes, uint64_t basis = 0xcbf29ce484222325ull);
uint64_t splitmix64(uint64_t& state);

}  // namespace lockstep
