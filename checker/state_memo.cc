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

bool StateMemo::insert(const uint64_t* bits, uint64_t bits_hash, StateId state) {
  // Keep the load factor at or below 1/2 so probe sequences stay short.
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = combine(bits_hash, state);
  const size_t mask = slots_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    Slot& slot = slots_[index];
    if (slot.bits_offset == kEmpty) {
      ASSERT(arena_.size() + words_ < kEmpty, "memo arena offsets fit in 32 bits");
      slot.hash = hash;
      slot.state = state;
      slot.bits_offset = static_cast<uint32_t>(arena_.size());
      arena_.insert(arena_.end(), bits, bits + words_);
      ++size_;
      return true;
    }
    if (slot.hash == hash && slot.state == state &&
        std::memcmp(&arena_[slot.bits_offset], bits, words_ * sizeof(uint64_t)) == 0) {
      return false;
    }
  }
}

void StateMemo::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.bits_offset == kEmpty) continue;
    size_t index = slot.hash & mask;
    while (slots_[index].bits_offset != kEmpty) index = (index + 1) & mask;
    slots_[index] = slot;
  }
}

}  // namespace lockstep::checker
