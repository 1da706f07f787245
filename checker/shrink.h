#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "checker/history.h"
#include "checker/linearizability.h"
#include "checker/model.h"

namespace lockstep::checker {

// A whole shrink may run at most this many checks of candidate sub-histories.
inline constexpr size_t kDefaultMaxShrinkChecks = 4000;

struct ShrinkOptions {
  uint64_t steps_per_check = 200'000;  // a candidate whose check runs out counts as passing
  // Whether a read is explained by a set of writes is a search over their orders, which can
  // blow up for many appends; one that runs out leaves the read unprotected.
  uint64_t steps_per_explanation = 20'000;
  size_t max_checks = kDefaultMaxShrinkChecks;
  std::function<bool()> should_stop;  // the caller's clock, as in CheckOptions
};

struct ShrinkResult {
  std::vector<uint32_t> operations;  // History::operations indices, in history order
  // The verdict of the shrunk sub-history itself: its longest prefix and blocked operation,
  // in History::operations indices.
  PartitionVerdict verdict;
  size_t checks = 0;
  // True when no single operation can be removed without the sub-history passing (or its
  // check running out of budget): a 1-minimal failing sub-history.
  bool minimal = false;
};

// Shrinks the operations `failing` (which must not be linearizable under `model`) to a small
// sub-history that is still not linearizable: first whole clients, then halving chunks of
// operations, then single operations (delta debugging, Zeller & Hildebrandt 2002). Every
// candidate is re-checked, so the result is itself a verified violation. Removing a write
// could make the rest fail for a new, trivial reason (a read of a value nobody wrote), so a
// candidate is kept only if every read that some order of the original's writes explains is
// still explained by the candidate's writes.
ShrinkResult shrink_violation(const History& history, const Model& model,
                              std::span<const uint32_t> failing, const ShrinkOptions& options);

// The sub-history of `history` made of the operations `indices` (in that order).
History sub_history(const History& history, std::span<const uint32_t> indices);

}  // namespace lockstep::checker
