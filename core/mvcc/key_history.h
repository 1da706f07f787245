#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/mvcc/revision_key.h"

namespace lockstep::mvcc {

// The revisions of one key, grouped into generations (etcd's keyIndex). A generation runs from
// a creation to the delete that ends it: its last revision is the tombstone. The last
// generation is the live one; it is empty while the key does not exist.
//
// Example (etcd key_index.go): put@1, put@2, delete@3, put@4, put@5 gives
//   generations {1, 2, 3(tombstone)} {4, 5} and the live generation is {4, 5}.
class KeyHistory {
 public:
  struct Generation {
    // Versions the key had reached at the last revision of this generation.
    int64_t version = 0;
    RevisionKey created;
    std::vector<RevisionKey> revisions;
  };

  // What a read at some revision sees for this key.
  struct Version {
    RevisionKey modified;
    RevisionKey created;
    int64_t version = 0;
  };

  KeyHistory() = default;

  // Records a put at `revision` (strictly after every earlier revision of this key).
  void put(RevisionKey revision);
  // Rebuilds a key at boot from its oldest surviving record (compaction may have removed the
  // start of the generation, so create revision and version come from the record itself).
  void restore(RevisionKey created, RevisionKey modified, int64_t version);
  // Rebuilds a key at boot whose oldest surviving record is a tombstone: the one a
  // compaction at exactly its revision keeps (see compact). The key does not exist after it.
  void restore_tombstone(RevisionKey revision);
  // Records a delete at `revision`: a tombstone ends the live generation. The key must exist.
  void tombstone(RevisionKey revision);

  // The version visible at main revision `at`, or nullopt when the key did not exist then.
  std::optional<Version> get(Revision at) const;

  // Drops every revision a read at or after `at` can no longer see: of the revisions at or
  // below `at`, only the newest is kept, and a tombstone only if it is at `at` itself (a
  // watch from the compaction revision still gets that delete). Appends what it removed to
  // `removed` (for physical removal in the backend).
  void compact(Revision at, std::vector<RevisionKey>& removed);

  // Revisions of this key with main revision >= `from`, ascending.
  void revisions_since(Revision from, std::vector<RevisionKey>& out) const;

  bool exists_now() const {
    return !generations_.empty() && !generations_.back().revisions.empty();
  }
  // Nothing left at all (the key can leave the index).
  bool empty() const;
  RevisionKey last_modified() const { return modified_; }
  const std::vector<Generation>& generations() const { return generations_; }

 private:
  const Generation* find_generation(Revision at) const;

  RevisionKey modified_;
  std::vector<Generation> generations_;
};

}  // namespace lockstep::mvcc
