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
// concatenation, copying a store): the search revisits the same pair many times.
class TransitionCache {
 public:
  explicit TransitionCache(uint32_t operation_count) : operation_count_(operation_count) {}
  const uint64_t* find(uint64_t state, uint32_t op) const {
    const auto found = next_.find(state * operation_count_ + op);
    return found == next_.end() ? nullptr : &found->second;
  }
  void insert(uint64_t state, uint32_t op, uint64_t next) {
    next_.emplace(state * operation_count_ + op, next);
  }

 private:
  uint64_t operation_count_;
  std::unordered_map<uint64_t, uint64_t> next_;
};

}  // namespace lockstep::checker
