#include "checker/linearizability.h"

#include <algorithm>
#include <map>
#include <string>

#include "checker/linearization_search.h"

namespace lockstep::checker {

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

// The first turn each partition gets; later turns double (see check_linearizability).
constexpr uint64_t kFirstSliceSteps = 4096;

Verdict combine(Verdict so_far, Verdict part) {
  // One violating partition makes the history non-linearizable whatever the others say; an
  // unchecked partition otherwise leaves the answer unknown.
  if (so_far == Verdict::kNotLinearizable || part == Verdict::kNotLinearizable) {
    return Verdict::kNotLinearizable;
  }
  if (so_far == Verdict::kUnknown || part == Verdict::kUnknown) return Verdict::kUnknown;
  return Verdict::kLinearizable;
}

std::vector<uint32_t> to_history_indices(const std::vector<uint32_t>& local,
                                         const std::vector<uint32_t>& operations) {
  std::vector<uint32_t> out;
  out.reserve(local.size());
  for (uint32_t op : local) out.push_back(operations[op]);
  return out;
}

// Appends an exact, unambiguous encoding of `request` (length-prefixed strings), so two
// requests have the same encoding iff they are identical.
void encode_request(const Request& request, std::string& out) {
  auto put_string = [&out](const std::string& text) {
    out += std::to_string(text.size());
    out += ':';
    out += text;
  };
  out += std::to_string(static_cast<int>(request.kind));
  out += '|';
  put_string(request.key);
  put_string(request.range_end);
  put_string(request.value);
  put_string(request.expected);
  out += std::to_string(request.compares.size());
  out += '[';
  for (const Compare& compare : request.compares) {
    put_string(compare.key);
    out += std::to_string(static_cast<int>(compare.target));
    out += std::to_string(static_cast<int>(compare.result));
    put_string(compare.value);
    out += std::to_string(compare.number);
    out += ';';
  }
  for (const auto* branch : {&request.success, &request.failure}) {
    out += std::to_string(branch->size());
    out += '(';
    for (const Request& inner : *branch) encode_request(inner, out);
    out += ')';
  }
}

OperationHints operation_hints(const History& history, const Model& model,
                               const std::vector<uint32_t>& operations) {
  OperationHints hints;
  hints.read_only.reserve(operations.size());
  hints.previous_twin.assign(operations.size(), kNoTwin);
  // Indeterminate operations in invoke order, so each twin chain runs from the earliest.
  std::vector<uint32_t> indeterminate;
  for (uint32_t local = 0; local < operations.size(); ++local) {
    const Operation& operation = history.operations[operations[local]];
    hints.read_only.push_back(model.is_read_only(operation) ? 1 : 0);
    if (operation.indeterminate) indeterminate.push_back(local);
  }
  std::stable_sort(indeterminate.begin(), indeterminate.end(), [&](uint32_t a, uint32_t b) {
    return history.operations[operations[a]].invoke_time <
           history.operations[operations[b]].invoke_time;
  });
  std::map<std::string, uint32_t> latest_by_request;  // encoded request -> latest twin
  std::string encoded;
  for (uint32_t local : indeterminate) {
    encoded.clear();
    encode_request(history.operations[operations[local]].request, encoded);
    auto [found, inserted] = latest_by_request.emplace(encoded, local);
    if (!inserted) {
      hints.previous_twin[local] = found->second;
      found->second = local;
    }
  }
  return hints;
}

}  // namespace

Result<CheckResult> check_linearizability(const History& history, const Model& model,
                                          const CheckOptions& options) {
  CheckResult result;
  std::vector<Partition> partitions =
      options.partition ? model.partition(history) : whole_history_partition(history);
  SearchBudget budget;
  budget.max_steps = options.max_steps;
  budget.max_memo_bytes = options.max_memo_bytes;
  budget.should_stop = options.should_stop ? &options.should_stop : nullptr;

  std::vector<LinearizationSearch> searches;
  searches.reserve(partitions.size());
  for (Partition& partition : partitions) {
    // An indeterminate read-only operation may or may not have happened and observed nothing
    // anyone saw: dropping it changes no answer and shrinks the search.
    std::erase_if(partition.operations, [&](uint32_t index) {
      const Operation& operation = history.operations[index];
      const bool drop = operation.indeterminate && model.is_read_only(operation);
      if (drop) ++result.dropped_operations;
      return drop;
    });
    auto instance = model.instantiate(history, partition.operations);
    if (!instance.is_ok()) return instance.error();
    searches.emplace_back(history, partition.operations, std::move(*instance),
                          operation_hints(history, model, partition.operations));
  }

  // Partitions take turns with doubling slices, so one hard partition cannot hide an easy
  // violation in another (the first violation decides), yet the order stays deterministic.
  std::optional<size_t> violating;
  for (uint64_t slice = kFirstSliceSteps; !violating; slice *= 2) {
    bool any_searching = false;
    for (size_t i = 0; i < searches.size() && !violating; ++i) {
      if (searches[i].status() != LinearizationSearch::Status::kSearching) continue;
      if (budget.exhausted) break;
      const auto status = searches[i].run(slice, budget);
      if (status == LinearizationSearch::Status::kNotLinearizable) violating = i;
      if (status == LinearizationSearch::Status::kSearching) any_searching = true;
    }
    if (!any_searching || budget.exhausted) break;
  }

  for (size_t i = 0; i < searches.size(); ++i) {
    const LinearizationSearch& search = searches[i];
    PartitionVerdict verdict;
    verdict.name = partitions[i].name;
    verdict.operations = partitions[i].operations;
    switch (search.status()) {
      case LinearizationSearch::Status::kLinearizable:
        verdict.verdict = Verdict::kLinearizable;
        break;
      case LinearizationSearch::Status::kNotLinearizable:
        verdict.verdict = Verdict::kNotLinearizable;
        break;
      case LinearizationSearch::Status::kSearching:
      case LinearizationSearch::Status::kOutOfBudget:
        verdict.verdict = Verdict::kUnknown;
        break;
    }
    verdict.longest_prefix = to_history_indices(search.longest_prefix(), verdict.operations);
    if (const auto blocked = search.blocked_operation()) {
      verdict.blocked_operation = verdict.operations[*blocked];
    }
    verdict.steps = search.steps();
    verdict.memo_entries = search.memo_entries();
    result.steps += search.steps();
    // Partitions left unsearched because another violated are not reported as unknown.
    if (violating && verdict.verdict == Verdict::kUnknown) continue;
    result.verdict = combine(result.verdict, verdict.verdict);
    result.partitions.push_back(std::move(verdict));
  }
  if (violating) {
    // The violating partition last, as callers expect.
    auto found = std::find_if(
        result.partitions.begin(), result.partitions.end(),
        [](const PartitionVerdict& part) { return part.verdict == Verdict::kNotLinearizable; });
    std::rotate(found, found + 1, result.partitions.end());
  }
  return result;
}

}  // namespace lockstep::checker
