#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "checker/history.h"
#include "checker/model.h"

namespace lockstep::checker {

// How many search steps pass between two polls of the stop predicate and the memo size.
inline constexpr uint64_t kStopPollSteps = 4096;

// What one search may spend; shared by the partitions of one check so the total is bounded.
struct SearchBudget {
  uint64_t max_steps = 0;  // 0 = unlimited
  uint64_t steps_used = 0;
  size_t max_memo_bytes = 0;  // 0 = unlimited
  const std::function<bool()>* should_stop = nullptr;
  size_t memo_bytes_in_use = 0;  // summed over the searches sharing this budget
  bool exhausted = false;
};

// What the search may assume about the operations of its partition (local indices 0..n-1),
// to prune choices that cannot matter. Both are exact reductions: verdicts never change.
struct OperationHints {
  // Per op: with its recorded response it never changes the state (Model::is_read_only);
  // such an operation is linearized greedily when legal.
  std::vector<uint8_t> read_only;
  // Per op: for an indeterminate operation, the latest-invoked earlier indeterminate
  // operation with an identical request (its twin), or kNoTwin. Twins are interchangeable,
  // so the search uses them in invoke order: an op is tried only once its twin is linearized.
  std::vector<uint32_t> previous_twin;
};
inline constexpr uint32_t kNoTwin = ~uint32_t{0};

// The depth-first search of Wing & Gong with Lowe's memo, over one partition. Operations are
// events in a doubly linked list ordered by time (calls before returns at equal times, so
// touching intervals overlap); linearizing an operation unlinks its call and return (dancing
// links, Knuth), so the candidates at each point are exactly the calls that precede the first
// remaining return. Which candidate is tried first is chosen to find linearizations early
// (legal reads greedily, then the owner of the first return, then indeterminate operations,
// then the rest, newest call first; see visit_fresh_node and push_candidates in the .cc).
// An explicit stack replaces recursion so deep histories cannot overflow.
// The search can pause and resume, so several partitions can take turns deterministically
// and the first violation found ends the whole check (Porcupine races partitions on threads
// for the same effect; here a round-robin keeps it reproducible).
class LinearizationSearch {
 public:
  enum class Status { kSearching, kLinearizable, kNotLinearizable, kOutOfBudget };

  LinearizationSearch(const History& history, std::span<const uint32_t> operations,
                      std::unique_ptr<ModelInstance> model, OperationHints hints);
  ~LinearizationSearch();
  LinearizationSearch(LinearizationSearch&&) noexcept;

  // Searches for at most `slice_steps` more steps (0 = until done), charging `budget`.
  Status run(uint64_t slice_steps, SearchBudget& budget);
  Status status() const;

  // Local operation indices (0..n-1 of the searched span): the longest linearization found
  // (the full one when linearizable) and, for a violation, the operation that could not be
  // placed after it (the pending operation with the earliest return).
  std::vector<uint32_t> longest_prefix() const;
  std::optional<uint32_t> blocked_operation() const;
  uint64_t steps() const;
  size_t memo_entries() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lockstep::checker
