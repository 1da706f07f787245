#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::checker {

// The values of Porcupine's append model, hash-consed so that an append is O(1) and equal
// strings always get the same id. A value is either a literal (a request or response string)
// or the concatenation of an earlier value and a suffix value; it carries a polynomial
// rolling hash (Karp & Rabin 1987), its length and base^length, so the hash of a
// concatenation follows from its parts: h(a + b) = h(a) * base^|b| + h(b) (mod 2^64).
// Identity is exact: ids are looked up by (hash, length) and a match is confirmed by
// comparing the texts, so a hash collision costs time, never a wrong verdict. Materialising
// a text is needed only on such a match and for messages, not on the search's hot path.
class AppendValueTable {
 public:
  using ValueId = uint32_t;

  AppendValueTable();

  ValueId empty() const { return 0; }
  // The id of `text`, adding it as a literal when no equal value exists yet.
  ValueId intern(std::string_view text);
  // The id of value(base) + value(suffix).
  ValueId append(ValueId base, ValueId suffix);
  std::string text(ValueId value) const;
  size_t size() const { return nodes_.size(); }

 private:
  static constexpr uint32_t kNoParent = ~uint32_t{0};
  static constexpr uint32_t kEmptySlot = ~uint32_t{0};
  struct Node {
    uint64_t hash = 0;
    uint64_t power = 1;  // base^length mod 2^64
    uint64_t length = 0;
    uint32_t parent = kNoParent;  // kNoParent: a literal
    uint32_t piece = 0;           // a literal's index into literals_, else the suffix value
  };

  // The existing value equal to `candidate` (same hash, same length, same text), if any.
  ValueId find_equal(const Node& candidate, std::string_view candidate_text) const;
  ValueId add(const Node& node);
  void grow();

  std::vector<Node> nodes_;
  std::vector<std::string> literals_;
  std::vector<uint32_t> slots_;  // open addressing by hash, holding node ids
};

}  // namespace lockstep::checker
