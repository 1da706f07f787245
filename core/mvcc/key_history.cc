#include "core/mvcc/key_history.h"

#include <algorithm>

#include "core/base/assert.h"

namespace lockstep::mvcc {

void KeyHistory::put(RevisionKey revision) {
  ASSERT(generations_.empty() || modified_ < revision,
         "revisions of one key only grow: a store revision is never reused");
  if (generations_.empty()) generations_.emplace_back();
  Generation& live = generations_.back();
  if (live.revisions.empty()) {
    live.created = revision;
    live.version = 0;
  }
  live.revisions.push_back(revision);
  ++live.version;
  modified_ = revision;
}

void KeyHistory::restore(RevisionKey created, RevisionKey modified, int64_t version) {
  ASSERT(generations_.empty(), "restore starts a key's history");
  ASSERT(version >= 1, "a live record has a positive version");
  generations_.push_back(Generation{version, created, {modified}});
  modified_ = modified;
}

void KeyHistory::tombstone(RevisionKey revision) {
  ASSERT(exists_now(), "only an existing key can be deleted");
  put(revision);
  generations_.emplace_back();
}

const KeyHistory::Generation* KeyHistory::find_generation(Revision at) const {
  // Walk from the newest generation back (etcd keyIndex.findGeneration). A finished
  // generation whose tombstone is at or below `at` means the key was deleted at `at`.
  const size_t last = generations_.size() - 1;
  for (size_t index = generations_.size(); index-- > 0;) {
    const Generation& generation = generations_[index];
    if (generation.revisions.empty()) continue;
    if (index != last && generation.revisions.back().main <= at) return nullptr;
    if (generation.revisions.front().main <= at) return &generation;
  }
  return nullptr;
}

std::optional<KeyHistory::Version> KeyHistory::get(Revision at) const {
  if (generations_.empty()) return std::nullopt;
  const Generation* generation = find_generation(at);
  if (generation == nullptr) return std::nullopt;
  // The newest revision of the generation at or below `at`.
  const auto& revisions = generation->revisions;
  auto after = std::upper_bound(
      revisions.begin(), revisions.end(), at,
      [](Revision value, const RevisionKey& revision) { return value < revision.main; });
  ASSERT(after != revisions.begin(), "find_generation returned a generation started by `at`");
  const size_t position = static_cast<size_t>(after - revisions.begin()) - 1;
  const int64_t newer = static_cast<int64_t>(revisions.size() - position - 1);
  return Version{revisions[position], generation->created, generation->version - newer};
}

void KeyHistory::compact(Revision at, std::vector<RevisionKey>& removed) {
  ASSERT(!empty(), "an empty history has left the index already");
  // The first generation that is still alive at `at` or starts after it (etcd doCompact):
  // every older generation ended with a tombstone at or below `at` and goes entirely.
  size_t first_kept = 0;
  while (first_kept + 1 < generations_.size()) {
    const Generation& generation = generations_[first_kept];
    if (generation.revisions.back().main >= at) break;
    ++first_kept;
  }
  for (size_t index = 0; index < first_kept; ++index) {
    for (const RevisionKey& revision : generations_[index].revisions) removed.push_back(revision);
  }
  generations_.erase(generations_.begin(), generations_.begin() + first_kept);

  Generation& generation = generations_.front();
  auto& revisions = generation.revisions;
  if (revisions.empty()) return;
  // Keep the newest revision at or below `at`; drop the ones before it.
  auto after = std::upper_bound(
      revisions.begin(), revisions.end(), at,
      [](Revision value, const RevisionKey& revision) { return value < revision.main; });
  if (after == revisions.begin()) return;  // the whole generation is newer than `at`
  auto newest_at_or_below = after - 1;
  removed.insert(removed.end(), revisions.begin(), newest_at_or_below);
  revisions.erase(revisions.begin(), newest_at_or_below);
  // A finished generation reduced to its tombstone keeps it: the first loop dropped every
  // generation ending below `at`, so this tombstone is at `at` itself, and a watcher told
  // "compacted at `at`" resumes from `at` and must still see that delete. etcd dropped it
  // and lost the event (etcd-io/etcd#18089, fixed by #18274 "keep tombstone if revision ==
  // compactAtRev"); the next compaction above `at` removes it with its generation.
}

void KeyHistory::restore_tombstone(RevisionKey revision) {
  ASSERT(generations_.empty(), "restore starts a key's history");
  generations_.push_back(Generation{0, revision, {revision}});
  generations_.emplace_back();
  modified_ = revision;
}

void KeyHistory::revisions_since(Revision from, std::vector<RevisionKey>& out) const {
  for (const Generation& generation : generations_) {
    for (const RevisionKey& revision : generation.revisions) {
      if (revision.main >= from) out.push_back(revision);
    }
  }
}

bool KeyHistory::empty() const {
  return generations_.empty() ||
         (generations_.size() == 1 && generations_.front().revisions.empty());
}

}  // namespace lockstep::mvcc
