#pragma once

#include <string>
#include <string_view>

namespace lockstep::mvcc {

// etcd's key range convention in one place: an empty `range_end` is the single key `key`;
// "\0" means every key >= `key` (etcd's mkGteRange); anything else is [key, range_end).
struct KeyRange {
  std::string key;
  std::string range_end;

  bool is_single_key() const { return range_end.empty(); }
  bool is_unbounded() const { return range_end.size() == 1 && range_end[0] == '\0'; }

  bool contains(std::string_view candidate) const {
    if (is_single_key()) return candidate == key;
    if (candidate < key) return false;
    return is_unbounded() || candidate < range_end;
  }
};

}  // namespace lockstep::mvcc
