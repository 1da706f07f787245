#pragma once

#include <string>

#include "checker/history.h"
#include "checker/linearizability.h"
#include "checker/shrink.h"

namespace lockstep::checker {

// At most this many operations are drawn per view; a larger partition is drawn around the
// failure point (the operations nearest the blocked operation in time).
inline constexpr size_t kMaxDrawnOperations = 1500;

// One self-contained HTML page (inline CSS and JS, no network): the verdict, then per-client
// lanes of operations over time for the violating partition (or the first partition when
// there is none), operations in the longest linearizable prefix numbered in linearization
// order, the operation that could not be linearized highlighted, and the shrunk failing
// sub-history when one is given. Clicking an operation shows its details.
std::string render_history_html(const History& history, const CheckResult& result,
                                const ShrinkResult* shrunk);

}  // namespace lockstep::checker
