#include "checker/state_memo.h"

#include "core/base/assert.h"

namespace lockstep::checker {

StateMemo::StateMemo(size_t bitset_words) : words_(bitset_words), slots_(kInitialSlots) {}

uint64_t StateMemo::combine(uint64_t bits_hash, StateId state) {
  // A multiply-xorshift finaliser spreads small state handles (register values, interned ids)
  // over all bits before they meet the Zobrist hash.
  uint64_t mixed = state * 0x9e3779b97f4a7c15ull;
  mixed ^= mixed >> 29;
  mixed *= 0xbf58476d1ce4e5b9ull;
  mixed ^= mixed >> 32;
  return bits_hash ^ mixed;
}

bool StateMemo::same_bits(const Slot& slot, const uint64_t* bits) const {
  const uint64_t* stored = words_ <= kInlineWords ? slot.words : &arena_[slot.words[0]];
  for (size_t word = 0; word < words_; ++word) {
    if (stored[word] != bits[word]) return false;
  }
  return true;
}

void StateMemo::store_bits(Slot& slot, const uint64_t* bits) {
  if (words_ <= kInlineWords) {
    for (size_t word = 0; word < words_; ++word) slot.words[word] = bits[word];
    return;
  }
  slot.words[0] = arena_.size();
  arena_.insert(arena_.end(), bits, bits + words_);
}

bool StateMemo::insert(const uint64_t* bits, uint64_t bits_hash, StateId state) {
  ASSERT(state != kIllegalState, "only legal states are memoised");
  // Keep the load factor at or below 1/2 so probe sequences stay short.
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = combine(bits_hash, state);
  const size_t mask = slots_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    Slot& slot = slots_[index];
    if (slot.state == kIllegalState) {
      slot.hash = hash;
      slot.state = state;
      store_bits(slot, bits);
      ++size_;
      return true;
    }
    if (slot.hash == hash && slot.state == state && same_bits(slot, bits)) return false;
  }
}

void StateMemo::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.state == kIllegalState) continue;
    size_t index = slot.hash & mask;
    while (slots_[index].state != kIllegalState) index = (index + 1) & mask;
    slots_[index] = slot;
  }
}

}  // namespace lockstep::checker
