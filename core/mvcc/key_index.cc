#include "core/mvcc/key_index.h"

#include "core/base/assert.h"

namespace lockstep::mvcc {

void KeyIndex::put(const std::string& key, RevisionKey revision) {
  keys_[key].put(revision);
}

void KeyIndex::restore(const std::string& key, RevisionKey created, RevisionKey modified,
                       int64_t version) {
  keys_[key].restore(created, modified, version);
}

void KeyIndex::restore_tombstone(const std::string& key, RevisionKey revision) {
  keys_[key].restore_tombstone(revision);
}

void KeyIndex::tombstone(const std::string& key, RevisionKey revision) {
  auto it = keys_.find(key);
  ASSERT(it != keys_.end(), "a tombstone is written only for a key that exists");
  it->second.tombstone(revision);
}

std::optional<KeyHistory::Version> KeyIndex::get(const std::string& key, Revision at) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return it->second.get(at);
}

template <typename Visit>
void KeyIndex::visit_range(const KeyRange& range, Visit&& visit) const {
  if (range.is_single_key()) {
    auto it = keys_.find(range.key);
    if (it != keys_.end()) visit(it->first, it->second);
    return;
  }
  for (auto it = keys_.lower_bound(range.key); it != keys_.end(); ++it) {
    if (!range.is_unbounded() && it->first >= range.range_end) break;
    if (!visit(it->first, it->second)) break;
  }
}

std::vector<KeyIndex::Entry> KeyIndex::range(const KeyRange& range, Revision at, int64_t limit,
                                             int64_t& count) const {
  std::vector<Entry> entries;
  count = 0;
  visit_range(range, [&](const std::string& key, const KeyHistory& history) {
    std::optional<KeyHistory::Version> version = history.get(at);
    if (!version) return true;
    ++count;
    if (limit <= 0 || static_cast<int64_t>(entries.size()) < limit) {
      entries.push_back(Entry{&key, *version});
    }
    return true;
  });
  return entries;
}

void KeyIndex::compact(Revision at, std::vector<RevisionKey>& removed) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    it->second.compact(at, removed);
    if (it->second.empty()) {
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
}

void KeyIndex::for_each_live(
    const std::function<void(const std::string&, const KeyHistory&)>& visit) const {
  for (const auto& [key, history] : keys_) {
    if (history.exists_now()) visit(key, history);
  }
}

}  // namespace lockstep::mvcc
