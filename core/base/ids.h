#pragma once

#include <cstdint>

#include "core/base/strong_id.h"

namespace lockstep {

// Raft term (thesis §3.3): a logical clock that only grows.
using Term = StrongId<struct TermTag>;
// Position in the replicated log; 0 means "before the first entry".
using LogIndex = StrongId<struct LogIndexTag>;
// A member of the cluster, or any addressable process in the simulated world. 0 = none.
using NodeId = StrongId<struct NodeIdTag>;
// etcd's main revision: the store's logical clock, bumped once per write transaction.
using Revision = StrongId<struct RevisionTag, int64_t>;
// etcd lease id; 0 means "no lease".
using LeaseId = StrongId<struct LeaseIdTag, int64_t>;

inline constexpr NodeId kNoNode{0};
inline constexpr LeaseId kNoLease{0};

}  // namespace lockstep
