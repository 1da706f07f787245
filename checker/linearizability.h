#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checker/history.h"
#include "checker/model.h"
#include "core/base/error.h"

namespace lockstep::checker {

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
std::string_view verdict_name(Verdict verdict);  // "linearizable", "not linearizable", "unknown"

// The memo may not grow past this; a search that would need more answers `unknown`.
inline constexpr size_t kDefaultMaxMemoBytes = size_t{1} << 30;

struct CheckOptions {
  // Check each partition the model offers separately (P-compositionality).
  bool partition = true;
  // Total search steps over all partitions; 0 = no limit. Exhaustion answers `unknown`.
  uint64_t max_steps = 0;
  size_t max_memo_bytes = kDefaultMaxMemoBytes;
  // Polled every kStopPollSteps; true stops the search with `unknown`. This is how a time
  // budget reaches the checker: the caller (cli/) owns the clock, so checker/ never reads one.
  std::function<bool()> should_stop;
};

struct PartitionVerdict {
  std::string name;
  Verdict verdict = Verdict::kLinearizable;
  std::vector<uint32_t> operations;  // History::operations indices in this partition
  // The longest sequence of operations the search linearized (history indices, in
  // linearization order), and for a violation the operation that could not follow it: the
  // pending operation with the earliest return, which every extension had to place next.
  std::vector<uint32_t> longest_prefix;
  std::optional<uint32_t> blocked_operation;
  uint64_t steps = 0;
  size_t memo_entries = 0;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  // The partitions checked, in the model's (deterministic) order, except that a violating
  // partition is listed last. Partitions still unsearched when a violation was found (the
  // first violation decides the verdict) are left out.
  std::vector<PartitionVerdict> partitions;
  uint64_t steps = 0;
  size_t dropped_operations = 0;  // indeterminate read-only operations, which cannot matter
};

// Wing & Gong's search for a linearization ("Testing and verifying concurrent objects",
// 1993) with Lowe's memoisation of (linearized set, state) configurations (Lowe 2017), the
// algorithm Porcupine implements, with indeterminate operations handled natively: such an
// operation may take effect at any point after its invoke, or never, so it neither needs a
// place in the linearization nor bounds any other operation by a return time.
// Fails (ErrorCode::kInvalidInput) only when the model rejects a request.
Result<CheckResult> check_linearizability(const History& history, const Model& model,
                                          const CheckOptions& options = {});

}  // namespace lockstep::checker
