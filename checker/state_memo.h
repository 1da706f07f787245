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
// handle and an offset into one flat arena of bitset words (no per-entry allocation).
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
  struct Slot {
    uint64_t hash = 0;
    StateId state = 0;
    uint32_t bits_offset = kEmpty;  // in words, into arena_; kEmpty for an unused slot
  };
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  static constexpr size_t kInitialSlots = 1024;  // a power of two

  static uint64_t combine(uint64_t bits_hash, StateId state);
  void grow();

  size_t words_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> arena_;
  size_t size_ = 0;
};

}  // namespace lockstep::checker
