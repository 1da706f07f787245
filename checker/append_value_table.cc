#include "checker/append_value_table.h"

#include "core/base/assert.h"

namespace lockstep::checker {

namespace {

// An odd multiplier (the 64-bit golden ratio constant), so base^k never becomes 0 mod 2^64.
// Polynomial hashes mod 2^64 can be made to collide on purpose (Thue-Morse strings); the
// exact comparison on every hash match keeps such inputs correct, only slower.
constexpr uint64_t kBase = 0x9e3779b97f4a7c15ull;
constexpr size_t kInitialSlots = 1024;  // a power of two

uint64_t mix(uint64_t hash, uint64_t length) {
  uint64_t mixed = hash ^ (length * 0xbf58476d1ce4e5b9ull);
  mixed ^= mixed >> 31;
  mixed *= 0x94d049bb133111ebull;
  return mixed ^ (mixed >> 29);
}

}  // namespace

AppendValueTable::AppendValueTable() : slots_(kInitialSlots, kEmptySlot) {
  literals_.emplace_back();
  add(Node{});  // id 0: the empty string
}

AppendValueTable::ValueId AppendValueTable::intern(std::string_view text) {
  Node node;
  for (char c : text) {
    node.hash = node.hash * kBase + static_cast<unsigned char>(c) + 1;
    node.power *= kBase;
  }
  node.length = text.size();
  const ValueId existing = find_equal(node, text);
  if (existing != kEmptySlot) return existing;
  node.piece = static_cast<uint32_t>(literals_.size());
  literals_.emplace_back(text);
  return add(node);
}

AppendValueTable::ValueId AppendValueTable::append(ValueId base, ValueId suffix) {
  ASSERT(base < nodes_.size(), "append names an existing base value");
  ASSERT(suffix < nodes_.size(), "append names an existing suffix value");
  const Node& left = nodes_[base];
  const Node& right = nodes_[suffix];
  if (right.length == 0) return base;
  if (left.length == 0) return suffix;
  Node node;
  node.hash = left.hash * right.power + right.hash;
  node.power = left.power * right.power;
  node.length = left.length + right.length;
  node.parent = base;
  node.piece = suffix;
  const ValueId existing = find_equal(node, {});
  if (existing != kEmptySlot) return existing;
  return add(node);
}

AppendValueTable::ValueId AppendValueTable::find_equal(const Node& candidate,
                                                       std::string_view candidate_text) const {
  const size_t mask = slots_.size() - 1;
  std::string materialised;  // the candidate's text, built only if a hash matches
  bool have_text = candidate.parent == kNoParent;
  for (size_t index = mix(candidate.hash, candidate.length) & mask;; index = (index + 1) & mask) {
    const uint32_t id = slots_[index];
    if (id == kEmptySlot) return kEmptySlot;
    const Node& node = nodes_[id];
    if (node.hash != candidate.hash || node.length != candidate.length) continue;
    // The same concatenation of the same parts: equal without looking at the text.
    if (!have_text && node.parent == candidate.parent && node.piece == candidate.piece) return id;
    if (!have_text) {
      materialised = text(candidate.parent) + text(candidate.piece);
      candidate_text = materialised;
      have_text = true;
    }
    if (text(id) == candidate_text) return id;
  }
}

AppendValueTable::ValueId AppendValueTable::add(const Node& node) {
  ASSERT(nodes_.size() < kEmptySlot, "value ids fit in 32 bits");
  if ((nodes_.size() + 1) * 2 > slots_.size()) grow();
  const uint32_t id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(node);
  const size_t mask = slots_.size() - 1;
  size_t index = mix(node.hash, node.length) & mask;
  while (slots_[index] != kEmptySlot) index = (index + 1) & mask;
  slots_[index] = id;
  return id;
}

void AppendValueTable::grow() {
  slots_.assign(slots_.size() * 2, kEmptySlot);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    size_t index = mix(nodes_[id].hash, nodes_[id].length) & mask;
    while (slots_[index] != kEmptySlot) index = (index + 1) & mask;
    slots_[index] = id;
  }
}

std::string AppendValueTable::text(ValueId value) const {
  ASSERT(value < nodes_.size(), "text names an existing value");
  // An explicit stack instead of recursion: a value can be a chain of thousands of appends.
  std::string out;
  out.reserve(nodes_[value].length);
  std::vector<uint32_t> pending{value};
  while (!pending.empty()) {
    const Node& node = nodes_[pending.back()];
    pending.pop_back();
    if (node.parent == kNoParent) {
      out += literals_[node.piece];
      continue;
    }
    pending.push_back(node.piece);   // popped second: the suffix
    pending.push_back(node.parent);  // popped first: the base
  }
  return out;
}

}  // namespace lockstep::checker
