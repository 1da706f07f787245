#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mvcc/key_history.h"
#include "core/mvcc/key_range.h"

namespace lockstep::mvcc {

// The in-memory index from key to its revisions (etcd's treeIndex): an ordered map so that
// range reads visit only the keys in the range, in key order.
class KeyIndex {
 public:
  struct Entry {
    const std::string* key;
    KeyHistory::Version version;
  };

  void put(const std::string& key, RevisionKey revision);
  void restore(const std::string& key, RevisionKey created, RevisionKey modified, int64_t version);
  void restore_tombstone(const std::string& key, RevisionKey revision);
  void tombstone(const std::string& key, RevisionKey revision);

  // The version of `key` visible at `at`, if it existed then.
  std::optional<KeyHistory::Version> get(const std::string& key, Revision at) const;

  // Keys of `range` that existed at `at`, in key order, at most `limit` of them (0 = no
  // limit); `count` receives the number of all such keys (etcd reports it beside a limit).
  std::vector<Entry> range(const KeyRange& range, Revision at, int64_t limit, int64_t& count) const;

  // Compacts every key at `at`; keys left without revisions leave the index. Removed
  // revisions are appended to `removed`.
  void compact(Revision at, std::vector<RevisionKey>& removed);

  // Keys that exist now, in order, with their current version.
  void for_each_live(const std::function<void(const std::string&, const KeyHistory&)>& visit) const;

  bool contains(const std::string& key) const { return keys_.contains(key); }
  size_t key_count() const { return keys_.size(); }

 private:
  template <typename Visit>
  void visit_range(const KeyRange& range, Visit&& visit) const;

  std::map<std::string, KeyHistory, std::less<>> keys_;
};

}  // namespace lockstep::mvcc
