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
       std::unique_ptr<ModelInstance> model, OperationHints hints)
      : operation_count_(static_cast<uint32_t>(operations.size())),
        model_(std::move(model)),
        read_only_(std::move(hints.read_only)),
        previous_twin_(std::move(hints.previous_twin)),
        words_((operations.size() + 63) / 64),
        memo_(words_ == 0 ? 1 : words_) {
    ASSERT(read_only_.size() == operations.size(), "one read-only flag per operation");
    ASSERT(previous_twin_.size() == operations.size(), "one twin entry per operation");
    build_entries(history, operations);
    bits_.assign(words_ == 0 ? 1 : words_, 0);
    uint64_t seed = 0x6c6f636b73746570ull;  // "lockstep"
    zobrist_.resize(operations.size());
    for (uint64_t& key : zobrist_) key = splitmix64(seed);
    state_ = model_->initial_state();
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
  // One linearized operation, and how to resume the node it was chosen at: that node's
  // candidates are candidates_[next_candidate, node_end), still to be tried in that order.
  struct Frame {
    uint32_t call_entry;
    StateId state_before;
    uint32_t next_candidate;
    uint32_t node_end;
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
  bool try_linearize(uint32_t entry, StateId after);
  bool is_linearized(uint32_t op) const { return (bits_[op / 64] >> (op % 64)) & 1; }
  bool waits_for_twin(uint32_t op) const {
    return previous_twin_[op] != kNoTwin && !is_linearized(previous_twin_[op]);
  }
  void visit_fresh_node();
  bool every_candidate_may_take_effect(uint32_t first_return);
  void push_candidates(uint32_t first_return);
  void backtrack();
  void step_once();

  uint32_t operation_count_;
  std::unique_ptr<ModelInstance> model_;
  std::vector<uint8_t> read_only_;  // per op: it never changes the state (a read, a failed cas)
  std::vector<uint32_t> previous_twin_;  // per op: see OperationHints::previous_twin
  std::vector<uint32_t> call_entry_of_;  // per op: its call entry
  size_t words_;
  StateMemo memo_;
  std::vector<Entry> entries_;  // index 0 is the head sentinel, the last is the tail sentinel
  std::vector<uint32_t> next_;
  std::vector<uint32_t> prev_;
  std::vector<uint64_t> bits_;
  std::vector<uint64_t> zobrist_;
  std::vector<Frame> stack_;
  std::vector<uint32_t> longest_;      // local op indices
  size_t longest_agrees_ = 0;          // stack_[0, n) linearized longest_[0, n)
  std::vector<int64_t> return_order_;  // per op: position of its return entry, or max
  size_t determinate_remaining_ = 0;
  uint64_t steps_ = 0;
  size_t memo_bytes_charged_ = 0;
  Status status_ = Status::kSearching;
  // The search's position: current model state, hash of the linearized set.
  StateId state_ = 0;
  uint64_t bits_hash_ = 0;
  // True when the search just arrived at a node (a new linearized set) and has not yet
  // chosen its candidates (visit_fresh_node).
  bool fresh_node_ = true;
  // The candidate call entries of every node on the path, each node's in the order they are
  // tried; the current node's untried ones are candidates_[next_candidate_, size()).
  std::vector<uint32_t> candidates_;
  uint32_t next_candidate_ = 0;
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
  std::vector<uint32_t>& call_entry = call_entry_of_;
  call_entry.assign(operations.size(), kNoEntry);
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
  // Only the frames above the prefix the stack shares with the recorded path are copied: a
  // search that mostly extends its deepest path (every linearizable history) copied the whole
  // stack at each step, quadratic in the history's length.
  longest_.resize(longest_agrees_);
  for (size_t i = longest_agrees_; i < stack_.size(); ++i) {
    longest_.push_back(entries_[stack_[i].call_entry].op);
  }
  longest_agrees_ = stack_.size();
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

// Linearizes the operation whose call is `entry`, taking the model to `after`, unless the
// resulting configuration was explored before. True when the search moved to a new node.
bool LinearizationSearch::Impl::try_linearize(uint32_t entry, StateId after) {
  const Entry& call = entries_[entry];
  const uint32_t op = call.op;
  const uint64_t mask = uint64_t{1} << (op % 64);
  bits_[op / 64] |= mask;
  const uint64_t after_hash = bits_hash_ ^ zobrist_[op];
  if (!memo_.insert(bits_.data(), after_hash, after)) {
    bits_[op / 64] &= ~mask;
    return false;
  }
  stack_.push_back(
      Frame{entry, state_, next_candidate_, static_cast<uint32_t>(candidates_.size())});
  state_ = after;
  bits_hash_ = after_hash;
  lift(entry);
  if (call.match != kNoEntry) --determinate_remaining_;
  record_if_longest();
  next_candidate_ = static_cast<uint32_t>(candidates_.size());
  fresh_node_ = true;
  if (determinate_remaining_ == 0) status_ = Status::kLinearizable;
  return true;
}

// Arrival at a node (a new linearized set): choose what to try here and in which order.
//
// 1. Partial-order reduction for read-only operations. If a read-only candidate r is legal
// in the current state s, some linearization extends the current prefix iff one extends it
// with r first: take any extension L and move r to the front; r observes s and changes
// nothing, so every other operation sees the states it saw in L, and r's real-time
// predecessors are all linearized already (its call precedes the first pending return).
// So r is the only choice tried here, and if (prefix + r, s) was explored before, the node
// fails without trying anything else.
//
// 2. Otherwise the candidates, in the order of push_candidates, unless (3) below.
void LinearizationSearch::Impl::visit_fresh_node() {
  fresh_node_ = false;
  uint32_t entry = next_[kHead];
  for (; entries_[entry].is_call; entry = next_[entry]) {
    const uint32_t op = entries_[entry].op;
    if (!read_only_[op]) continue;
    const StateId after = model_->step(state_, op);
    if (after != state_) continue;  // illegal here (kIllegalState never equals a state)
    try_linearize(entry, after);    // on failure the node has no candidates: step_once backtracks
    return;
  }
  ASSERT(entry != entries_.size() - 1, "a determinate operation's return remains in the list");
  if (!every_candidate_may_take_effect(entry)) return;  // no candidates: step_once backtracks
  push_candidates(entry);
}

// 3. A determinate operation must take effect in this state or a later one; when the model
// rules that out for one of the calls before `first_return` (ModelInstance::
// may_still_take_effect), no extension exists and the node fails at once. Without this, a
// node where pending indeterminate writes have pushed etcd's revision past what a pending
// read reports is refuted only after every order of those writes has been tried below it
// (flapping_partitions seed 3: nine timed-out writes, unknown after 15 M steps).
bool LinearizationSearch::Impl::every_candidate_may_take_effect(uint32_t first_return) {
  for (uint32_t entry = next_[kHead]; entry != first_return; entry = next_[entry]) {
    if (entries_[entry].match == kNoEntry) continue;
    if (!model_->may_still_take_effect(state_, entries_[entry].op)) return false;
  }
  return true;
}

// The node's candidates (the calls before `first_return`), in the order they are tried.
// Only the order depends on the choices below, never the set, so verdicts cannot change;
// left out are read-only operations (illegal here, or visit_fresh_node would have taken one)
// and an indeterminate operation whose earlier twin is not linearized yet (symmetry: it would
// only repeat what its twin does).
//
// First the owner of the first pending return: it must be linearized before anything returns
// (the just-in-time idea of G. Lowe, "Testing for linearizability", Concurrency and
// Computation: Practice and Experience 29(4), 2017).
// Then the indeterminate operations, then the other determinate ones, each group newest call
// first. An indeterminate operation never returns, so no return ever forces it; tried after
// the determinate candidates it is placed only where nothing else works, at a dead end that
// is often far past the point where it took effect, and refuting that dead end means
// visiting every subset of the pending indeterminate operations at every node back to the
// point (paused_leader_gc_stall: eight timed-out puts that did take effect, 8.8 M steps and
// no answer). Tried first, a wrong early placement is refuted by the next operation that
// observes its key, close by. Newest first within each group: an operation invoked long ago
// and still pending usually took effect late, so Wing & Gong's oldest-first order tends to
// place it too early and explore a large subtree before a later read refutes it (on the
// Porcupine data this cuts the steps to a linearization 5-500x).
void LinearizationSearch::Impl::push_candidates(uint32_t first_return) {
  const uint32_t urgent = entries_[first_return].op;
  if (!read_only_[urgent]) candidates_.push_back(call_entry_of_[urgent]);
  for (const bool indeterminate : {true, false}) {
    for (uint32_t entry = prev_[first_return]; entry != kHead; entry = prev_[entry]) {
      const uint32_t op = entries_[entry].op;
      if ((entries_[entry].match == kNoEntry) != indeterminate) continue;
      if (op == urgent || read_only_[op] || waits_for_twin(op)) continue;
      candidates_.push_back(entry);
    }
  }
}

// The current node has no untried candidate left: undo the most recent choice and resume the
// candidates of the node it was made at, or report the violation when the stack runs out.
void LinearizationSearch::Impl::backtrack() {
  if (stack_.empty()) {
    status_ = Status::kNotLinearizable;
    return;
  }
  const Frame frame = stack_.back();
  stack_.pop_back();
  longest_agrees_ = std::min(longest_agrees_, stack_.size());
  const uint32_t op = entries_[frame.call_entry].op;
  bits_[op / 64] &= ~(uint64_t{1} << (op % 64));
  bits_hash_ ^= zobrist_[op];
  state_ = frame.state_before;
  unlift(frame.call_entry);
  if (entries_[frame.call_entry].match != kNoEntry) ++determinate_remaining_;
  candidates_.resize(frame.node_end);
  next_candidate_ = frame.next_candidate;
  fresh_node_ = false;
}

void LinearizationSearch::Impl::step_once() {
  if (fresh_node_) {
    visit_fresh_node();
    return;
  }
  if (next_candidate_ < candidates_.size()) {
    const uint32_t entry = candidates_[next_candidate_++];
    const StateId after = model_->step(state_, entries_[entry].op);
    if (after != kIllegalState) try_linearize(entry, after);
    return;
  }
  backtrack();
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
                                         std::unique_ptr<ModelInstance> model, OperationHints hints)
    : impl_(std::make_unique<Impl>(history, operations, std::move(model), std::move(hints))) {}
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
