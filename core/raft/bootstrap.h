#pragma once

#include "core/base/error.h"
#include "core/raft/memory_storage.h"
#include "core/raft/types.h"

namespace lockstep::raft {

// Writes the initial membership of a brand-new cluster into empty storage, the way etcd's
// RawNode.Bootstrap does: one committed kConfChange entry per member at term 1 (voters
// first, then learners). Every founding member bootstraps with the same list, so their
// logs agree; a member added later starts empty and learns the history from the leader.
// The membership takes effect as the application applies these entries after start-up.
Status bootstrap(MemoryStorage& storage, const ConfState& initial);

}  // namespace lockstep::raft
