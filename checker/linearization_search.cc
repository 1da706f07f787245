#include "checker/linearization_search.h"

#include <algorithm>
#include <tuple>

#include "checker/state_memo.h"
#include "core/base/assert.h"

namespace lockstep::checker {

namespace {

constexpr int32_t kHead = 0;
constexpr uint32_t kNoEntry = ~uint32_t{0};

// splitmix64 (Steele, Lea & Flood 2014): a fixed-seed generator for the Zobrist keys, so a
// check is deterministic.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

class LinearizationSearch::Impl {
 public:
  Impl(const History& history, std::span<const uint32_t> operations,
       std::unique_ptr<ModelInstance> model)
      : operation_count_(static_cast<uint32_t>(operations.size())),
        model_(std::move(model)),
        words_((operations.size() + 63) / 64),
        memo_(words_ == 0 ? 1 : words_) {
    build_entries(history, operations);
    bits_.assign(words_ == 0 ? 1 : words_, 0);
    uint64_t seed = 0x6c6f636b73746570ull;  // "lockstep"
    zobrist_.resize(operations.size());
    for (uint64_t& key : zobrist_) key = splitmix64(seed);
    state_ = model_->initial_state();
    entry_ = next_[kHead];
    if (determinate_remaining_ == 0) status_ = Status::kLinearizable;
  }

  Status run(uint64_t slice_steps, SearchBudget& budget);
  Status status() const { return status_; }
  std::vector<uint32_t> longest_prefix() const;
  std::optional<uint32_t> blocked_operation() const;
  uint64_t steps() const { return steps_; }
  size_t memo_entries() const { return memo_.size(); }

 private:
  struct Entry {
    uint32_t op = 0;
    uint32_t match = kNoEntry;  // a call's return entry (kNoEntry if indeterminate)
    bool is_call = false;
  };
  struct Frame {
    uint32_t call_entry;
    StateId state_before;
  };

  void build_entries(const History& history, std::span<const uint32_t> operations);
  void unlink(uint32_t entry) {
    next_[prev_[entry]] = next_[entry];
    prev_[next_[entry]] = prev_[entry];
  }
  void relink(uint32_t entry) {
    next_[prev_[entry]] = entry;
    prev_[next_[entry]] = entry;
  }
  void lift(uint32_t call_entry) {
    unlink(call_entry);
    if (entries_[call_entry].match != kNoEntry) unlink(entries_[call_entry].match);
  }
  void unlift(uint32_t call_entry) {
    // Undo in the reverse order of lift so each relink finds its neighbours as it left them.
    if (entries_[call_entry].match != kNoEntry) relink(entries_[call_entry].match);
    relink(call_entry);
  }
  bool charge_step(SearchBudget& budget);
  void record_if_longest();
  void step_once();

  uint32_t operation_count_;
  std::unique_ptr<ModelInstance> model_;
  size_t words_;
  StateMemo memo_;
  std::vector<Entry> entries_;  // index 0 is the head sentinel, the last is the tail sentinel
  std::vector<uint32_t> next_;
  std::vector<uint32_t> prev_;
  std::vector<uint64_t> bits_;
  std::vector<uint64_t> zobrist_;
  std::vector<Frame> stack_;
  std::vector<uint32_t> longest_;      // local op indices
  std::vector<int64_t> return_order_;  // per op: position of its return entry, or max
  size_t determinate_remaining_ = 0;
  uint64_t steps_ = 0;
  size_t memo_bytes_charged_ = 0;
  Status status_ = Status::kSearching;
  // The search's position: current model state, hash of the linearized set, list entry.
  StateId state_ = 0;
  uint64_t bits_hash_ = 0;
  uint32_t entry_ = 0;
};

void LinearizationSearch::Impl::build_entries(const History& history,
                                              std::span<const uint32_t> operations) {
  // (time, is the return event, op): calls sort before returns at the same time, so an
  // operation returning at t and one invoked at t count as concurrent.
  std::vector<std::tuple<int64_t, bool, uint32_t>> events;
  events.reserve(operations.size() * 2);
  for (uint32_t op = 0; op < operations.size(); ++op) {
    const Operation& operation = history.operations[operations[op]];
    events.emplace_back(operation.invoke_time, false, op);
    if (!operation.indeterminate) {
      events.emplace_back(operation.return_time, true, op);
      ++determinate_remaining_;
    }
  }
  std::sort(events.begin(), events.end());
  entries_.assign(events.size() + 2, Entry{});
  std::vector<uint32_t> call_entry(operations.size(), kNoEntry);
  return_order_.assign(operations.size(), INT64_MAX);
  for (uint32_t i = 0; i < events.size(); ++i) {
    const auto& [time, is_return, op] = events[i];
    const uint32_t entry = i + 1;
    entries_[entry].op = op;
    entries_[entry].is_call = !is_return;
    if (is_return) {
      ASSERT(call_entry[op] != kNoEntry, "a call sorts before its return");
      entries_[call_entry[op]].match = entry;
      return_order_[op] = entry;
    } else {
      call_entry[op] = entry;
    }
  }
  const uint32_t count = static_cast<uint32_t>(entries_.size());
  next_.resize(count);
  prev_.resize(count);
  for (uint32_t entry = 0; entry < count; ++entry) {
    next_[entry] = entry + 1 < count ? entry + 1 : entry;
    prev_[entry] = entry > 0 ? entry - 1 : 0;
  }
}

bool LinearizationSearch::Impl::charge_step(SearchBudget& budget) {
  ++steps_;
  ++budget.steps_used;
  if (budget.max_steps != 0 && budget.steps_used > budget.max_steps) return false;
  if (steps_ % kStopPollSteps == 0) {
    if (budget.should_stop != nullptr && *budget.should_stop && (*budget.should_stop)()) {
      return false;
    }
    const size_t bytes = memo_.memory_bytes();
    budget.memo_bytes_in_use += bytes - memo_bytes_charged_;
    memo_bytes_charged_ = bytes;
    if (budget.max_memo_bytes != 0 && budget.memo_bytes_in_use > budget.max_memo_bytes) {
      return false;
    }
  }
  return true;
}

void LinearizationSearch::Impl::record_if_longest() {
  if (stack_.size() <= longest_.size()) return;
  longest_.clear();
  for (const Frame& frame : stack_) longest_.push_back(entries_[frame.call_entry].op);
}

std::vector<uint32_t> LinearizationSearch::Impl::longest_prefix() const {
  if (status_ != Status::kLinearizable) return longest_;
  std::vector<uint32_t> full;
  for (const Frame& frame : stack_) full.push_back(entries_[frame.call_entry].op);
  return full;
}

std::optional<uint32_t> LinearizationSearch::Impl::blocked_operation() const {
  if (status_ != Status::kNotLinearizable) return std::nullopt;
  // After the longest prefix, the first remaining return in time order belongs to the
  // operation the search could not place next.
  std::vector<bool> placed(operation_count_, false);
  for (uint32_t op : longest_) placed[op] = true;
  std::optional<uint32_t> blocked;
  for (uint32_t op = 0; op < operation_count_; ++op) {
    if (placed[op] || return_order_[op] == INT64_MAX) continue;
    if (!blocked || return_order_[op] < return_order_[*blocked]) blocked = op;
  }
  return blocked;
}

void LinearizationSearch::Impl::step_once() {
  const uint32_t tail = static_cast<uint32_t>(entries_.size() - 1);
  ASSERT(entry_ != tail, "a determinate operation's return remains in the list");
  const Entry& current = entries_[entry_];
  if (current.is_call) {
    const uint32_t op = current.op;
    const StateId after = model_->step(state_, op);
    if (after != kIllegalState) {
      const uint64_t mask = uint64_t{1} << (op % 64);
      bits_[op / 64] |= mask;
      const uint64_t after_hash = bits_hash_ ^ zobrist_[op];
      if (memo_.insert(bits_.data(), after_hash, after)) {
        stack_.push_back(Frame{entry_, state_});
        state_ = after;
        bits_hash_ = after_hash;
        lift(entry_);
        if (current.match != kNoEntry) --determinate_remaining_;
        record_if_longest();
        entry_ = next_[kHead];
        if (determinate_remaining_ == 0) status_ = Status::kLinearizable;
        return;
      }
      bits_[op / 64] &= ~mask;
    }
    entry_ = next_[entry_];
    return;
  }
  // A return: its operation must be linearized before anything later, and no candidate
  // before it worked. Undo the most recent choice and try the next candidate after it.
  if (stack_.empty()) {
    status_ = Status::kNotLinearizable;
    return;
  }
  const Frame frame = stack_.back();
  stack_.pop_back();
  const uint32_t op = entries_[frame.call_entry].op;
  bits_[op / 64] &= ~(uint64_t{1} << (op % 64));
  bits_hash_ ^= zobrist_[op];
  state_ = frame.state_before;
  unlift(frame.call_entry);
  if (entries_[frame.call_entry].match != kNoEntry) ++determinate_remaining_;
  entry_ = next_[frame.call_entry];
}

LinearizationSearch::Status LinearizationSearch::Impl::run(uint64_t slice_steps,
                                                           SearchBudget& budget) {
  for (uint64_t taken = 0; status_ == Status::kSearching; ++taken) {
    if (slice_steps != 0 && taken >= slice_steps) return status_;
    if (!charge_step(budget)) {
      budget.exhausted = true;
      status_ = Status::kOutOfBudget;
      break;
    }
    step_once();
  }
  return status_;
}

LinearizationSearch::LinearizationSearch(const History& history,
                                         std::span<const uint32_t> operations,
                                         std::unique_ptr<ModelInstance> model)
    : impl_(std::make_unique<Impl>(history, operations, std::move(model))) {}
LinearizationSearch::~LinearizationSearch() = default;
LinearizationSearch::LinearizationSearch(LinearizationSearch&&) noexcept = default;

LinearizationSearch::Status LinearizationSearch::run(uint64_t slice_steps, SearchBudget& budget) {
  return impl_->run(slice_steps, budget);
}
LinearizationSearch::Status LinearizationSearch::status() const {
  return impl_->status();
}
std::vector<uint32_t> LinearizationSearch::longest_prefix() const {
  return impl_->longest_prefix();
}
std::optional<uint32_t> LinearizationSearch::blocked_operation() const {
  return impl_->blocked_operation();
}
uint64_t LinearizationSearch::steps() const {
  return impl_->steps();
}
size_t LinearizationSearch::memo_entries() const {
  return impl_->memo_entries();
}

}  // namespace lockstep::checker
