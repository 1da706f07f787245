#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/base/assert.h"

namespace lockstep::checker {

// Hash-consing: each distinct value gets a dense id, so equal values have equal ids and the
// search compares and hashes ids instead of values. The map is only looked up, never
// iterated, so its order cannot leak into any output.
template <typename Value, typename Hash = std::hash<Value>>
class Interner {
 public:
  uint32_t intern(Value value) {
    const auto found = ids_.find(value);
    if (found != ids_.end()) return found->second;
    ASSERT(values_.size() < UINT32_MAX, "interned values fit 32-bit ids");
    const uint32_t id = static_cast<uint32_t>(values_.size());
    values_.push_back(value);
    ids_.emplace(std::move(value), id);
    return id;
  }
  const Value& value(uint32_t id) const {
    ASSERT(id < values_.size(), "an interned id names an interned value");
    return values_[id];
  }
  size_t size() const { return values_.size(); }

 private:
  std::unordered_map<Value, uint32_t, Hash> ids_;
  std::vector<Value> values_;
};

// Memoised transitions (state, operation) -> state for models whose step is costly (string
// concatenation, copying a store): the search revisits the same pair many times. A flat
// open-addressing table (linear probing, load <= 1/2): a node-based map spent most of its
// time allocating, freeing and chasing pointers on this hot path.
class TransitionCache {
 public:
  explicit TransitionCache(uint32_t operation_count)
      : operation_count_(operation_count), slots_(kInitialSlots) {}
  const uint64_t* find(uint64_t state, uint32_t op) const {
    const uint64_t key = key_of(state, op);
    const size_t mask = slots_.size() - 1;
    for (size_t index = spread(key) & mask;; index = (index + 1) & mask) {
      const Slot& slot = slots_[index];
      if (slot.key == key) return &slot.next;
      if (slot.key == kEmptyKey) return nullptr;
    }
  }
  void insert(uint64_t state, uint32_t op, uint64_t next) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(Slot{key_of(state, op), next});
  }

 private:
  struct Slot {
    uint64_t key = kEmptyKey;
    uint64_t next = 0;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  static constexpr size_t kInitialSlots = 1024;  // a power of two

  uint64_t key_of(uint64_t state, uint32_t op) const {
    // Ids below 2^32 times fewer than 2^32 operations stay below kEmptyKey.
    ASSERT(state <= UINT32_MAX, "transition cache states are 32-bit interned ids");
    return state * operation_count_ + op;
  }
  static uint64_t spread(uint64_t key) {
    key *= 0x9e3779b97f4a7c15ull;  // Fibonacci hashing: the high bits mix every input bit
    return key ^ (key >> 32);
  }
  void place(const Slot& slot) {
    const size_t mask = slots_.size() - 1;
    size_t index = spread(slot.key) & mask;
    while (slots_[index].key != kEmptyKey && slots_[index].key != slot.key) {
      index = (index + 1) & mask;
    }
    if (slots_[index].key == kEmptyKey) ++size_;
    slots_[index] = slot;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmptyKey) place(slot);
    }
  }

  uint64_t operation_count_;
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace lockstep::checker
