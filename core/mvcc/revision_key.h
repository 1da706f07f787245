#pragma once

#include <compare>
#include <cstdint>
#include <ostream>

#include "core/base/ids.h"

namespace lockstep::mvcc {

// The full position of one change in the store, as etcd's mvcc `revision{main, sub}`: `main`
// is the store revision of the write transaction, `sub` numbers the changes inside it (0, 1,
// ...). Each put or delete of one key in a transaction gets its own sub revision, so a
// (main, sub) pair names exactly one record in the backend's key-value bucket.
struct RevisionKey {
  Revision main{};
  int64_t sub = 0;

  constexpr auto operator<=>(const RevisionKey&) const = default;

  friend std::ostream& operator<<(std::ostream& out, const RevisionKey& revision) {
    return out << revision.main << "_" << revision.sub;
  }
};

}  // namespace lockstep::mvcc
