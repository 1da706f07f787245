#include "checker/shrink.h"

#include <algorithm>
#include <map>

namespace lockstep::checker {

History sub_history(const History& history, std::span<const uint32_t> indices) {
  History out;
  out.source_name = history.source_name;
  out.model_hint = history.model_hint;
  out.initial_revision = history.initial_revision;
  out.operations.reserve(indices.size());
  for (uint32_t index : indices) out.operations.push_back(history.operations[index]);
  return out;
}

namespace {

class Shrinker {
 public:
  Shrinker(const History& history, const Model& model, const ShrinkOptions& options)
      : history_(history), model_(model), options_(options) {}

  bool out_of_budget() const {
    if (checks_ >= options_.max_checks) return true;
    return options_.should_stop && options_.should_stop();
  }

  Verdict verdict_of(const History& sub, uint64_t max_steps) {
    ++checks_;
    CheckOptions check;
    check.partition = false;
    check.max_steps = max_steps;
    check.should_stop = options_.should_stop;
    auto result = check_linearizability(sub, model_, check);
    return result.is_ok() ? result->verdict : Verdict::kUnknown;
  }

  // Whether the read-only operation `reader` could have observed what it did given only the
  // writes in `candidate` (all made indeterminate, so order and time barely constrain them).
  bool explainable(uint32_t reader, const std::vector<uint32_t>& candidate) {
    History sub;
    sub.initial_revision = history_.initial_revision;
    for (uint32_t index : candidate) {
      const Operation& operation = history_.operations[index];
      if (index == reader || model_.is_read_only(operation)) continue;
      sub.operations.push_back(operation);
      sub.operations.back().indeterminate = true;
      sub.operations.back().response = {};
    }
    sub.operations.push_back(history_.operations[reader]);
    return verdict_of(sub, options_.steps_per_explanation) == Verdict::kLinearizable;
  }

  void note_explainable_reads(const std::vector<uint32_t>& all) {
    for (uint32_t index : all) {
      if (out_of_budget()) return;
      if (model_.is_read_only(history_.operations[index]) && explainable(index, all)) {
        explainable_.push_back(index);
      }
    }
  }

  // Whether `candidate` is still a violation *for the same kind of reason*: removing the
  // write a read observed would make that read inexplicable and the sub-history fail
  // trivially, so every read explainable in the original must stay explainable. (A check
  // that runs out of budget counts as no.)
  bool fails(const std::vector<uint32_t>& candidate) {
    if (verdict_of(sub_history(history_, candidate), options_.steps_per_check) !=
        Verdict::kNotLinearizable) {
      return false;
    }
    const bool removed_a_write = std::any_of(current_->begin(), current_->end(), [&](uint32_t i) {
      return !model_.is_read_only(history_.operations[i]) &&
             !std::binary_search(candidate.begin(), candidate.end(), i);
    });
    if (!removed_a_write) return true;
    for (uint32_t reader : explainable_) {
      if (!std::binary_search(candidate.begin(), candidate.end(), reader)) continue;
      if (!explainable(reader, candidate)) return false;
    }
    return true;
  }

  void track(const std::vector<uint32_t>* current) { current_ = current; }

  // Tries removing each group in turn; keeps a removal when the rest still fails.
  void remove_groups(std::vector<uint32_t>& current,
                     const std::vector<std::vector<uint32_t>>& groups) {
    for (const std::vector<uint32_t>& group : groups) {
      if (out_of_budget()) return;
      std::vector<uint32_t> candidate;
      std::set_difference(current.begin(), current.end(), group.begin(), group.end(),
                          std::back_inserter(candidate));
      if (candidate.size() == current.size() || candidate.empty()) continue;
      if (fails(candidate)) current = std::move(candidate);
    }
  }

  bool remove_chunks(std::vector<uint32_t>& current, size_t chunk) {
    bool removed_any = false;
    size_t start = 0;
    while (start < current.size() && !out_of_budget()) {
      std::vector<uint32_t> candidate(current.begin(), current.begin() + start);
      const size_t end = std::min(current.size(), start + chunk);
      candidate.insert(candidate.end(), current.begin() + end, current.end());
      if (!candidate.empty() && fails(candidate)) {
        current = std::move(candidate);
        removed_any = true;
      } else {
        start += chunk;
      }
    }
    return removed_any;
  }

  size_t checks() const { return checks_; }

 private:
  const History& history_;
  const Model& model_;
  const ShrinkOptions& options_;
  size_t checks_ = 0;
  std::vector<uint32_t> explainable_;  // sorted: read-only operations explainable at first
  const std::vector<uint32_t>* current_ = nullptr;
};

}  // namespace

ShrinkResult shrink_violation(const History& history, const Model& model,
                              std::span<const uint32_t> failing, const ShrinkOptions& options) {
  std::vector<uint32_t> current(failing.begin(), failing.end());
  std::sort(current.begin(), current.end());
  Shrinker shrinker(history, model, options);
  shrinker.track(&current);
  shrinker.note_explainable_reads(current);

  // Whole clients first: a violation usually involves few of them.
  std::map<int64_t, std::vector<uint32_t>> by_client;
  for (uint32_t index : current) by_client[history.operations[index].client].push_back(index);
  std::vector<std::vector<uint32_t>> client_groups;
  for (auto& [client, group] : by_client) client_groups.push_back(std::move(group));
  shrinker.remove_groups(current, client_groups);

  for (size_t chunk = std::max<size_t>(1, current.size() / 2); chunk > 1; chunk /= 2) {
    shrinker.remove_chunks(current, chunk);
  }
  bool minimal = false;
  while (!shrinker.out_of_budget()) {
    const bool removed = shrinker.remove_chunks(current, 1);
    if (shrinker.out_of_budget()) break;  // the pass may not have tried every operation
    if (!removed) {
      minimal = true;
      break;
    }
  }

  ShrinkResult result;
  result.operations = current;
  result.checks = shrinker.checks();
  result.minimal = minimal;
  const History sub = sub_history(history, current);
  CheckOptions check;
  check.partition = false;
  check.max_steps = options.steps_per_check;
  auto verdict = check_linearizability(sub, model, check);
  if (verdict.is_ok() && !verdict->partitions.empty()) {
    result.verdict = verdict->partitions.back();
    // Map the sub-history's indices back to the original history's.
    result.verdict.operations = current;
    for (uint32_t& index : result.verdict.longest_prefix) index = current[index];
    if (result.verdict.blocked_operation) {
      result.verdict.blocked_operation = current[*result.verdict.blocked_operation];
    }
  }
  return result;
}

}  // namespace lockstep::checker
