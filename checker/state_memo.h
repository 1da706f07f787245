#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "checker/model.h"

namespace lockstep::checker {

// The memo of Lowe's search ("Testing for linearizability", 2017, §4): the set of
// (linearized-operations bitset, model state) configurations already explored. Reaching one
// again means its whole subtree was already searched, so the search backtracks. This is the
// hot path, so it is an open-addressing table whose slots hold the combined hash, the state
// handle and the bitset: inline when it fits two words (histories of up to 128 operations
// per partition, so a probe touches one cache line), else as an offset into one flat arena
// of bitset words. No per-entry allocation either way.
class StateMemo {
 public:
  explicit StateMemo(size_t bitset_words);

  // Inserts (bits, state) unless present; true when it was new. `bits_hash` is the caller's
  // incrementally maintained hash of `bits` (Zobrist: the xor of per-operation keys).
  bool insert(const uint64_t* bits, uint64_t bits_hash, StateId state);

  size_t size() const { return size_; }
  size_t memory_bytes() const {
    return slots_.size() * sizeof(Slot) + arena_.size() * sizeof(uint64_t);
  }

 private:
  static constexpr size_t kInlineWords = 2;
  struct Slot {
    uint64_t hash = 0;
    StateId state = kIllegalState;  // kIllegalState marks an unused slot (never memoised)
    // The bitset when words_ <= kInlineWords; else words[0] is its offset into arena_.
    uint64_t words[kInlineWords] = {0, 0};
  };
  static constexpr size_t kInitialSlots = 1024;  // a power of two

  static uint64_t combine(uint64_t bits_hash, StateId state);
  bool same_bits(const Slot& slot, const uint64_t* bits) const;
  void store_bits(Slot& slot, const uint64_t* bits);
  void grow();

  size_t words_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> arena_;
  size_t size_ = 0;
};

}  // namespace lockstep::checker
