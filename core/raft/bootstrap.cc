#include "core/raft/bootstrap.h"

#include <vector>

#include "core/raft/message_codec.h"

namespace lockstep::raft {

Status bootstrap(MemoryStorage& storage, const ConfState& initial) {
  if (storage.last_index() != LogIndex(0) || storage.hard_state() != HardState{}) {
    return Status(ErrorCode::kInvalidInput, "bootstrap needs empty storage");
  }
  if (initial.voters.empty()) {
    return Status(ErrorCode::kInvalidInput, "bootstrap needs at least one voter");
  }
  if (!initial.voters_outgoing.empty() || !initial.learners_next.empty()) {
    return Status(ErrorCode::kInvalidInput, "a cluster cannot start in a joint configuration");
  }
  std::vector<Entry> entries;
  auto add = [&](ConfChangeType type, NodeId node) {
    ConfChange change;
    change.changes.push_back(ConfChangeSingle{type, node});
    entries.push_back(Entry{.term = Term(1),
                            .index = LogIndex(entries.size() + 1),
                            .type = EntryType::kConfChange,
                            .data = encode_conf_change(change)});
  };
  for (NodeId voter : initial.voters) add(ConfChangeType::kAddNode, voter);
  for (NodeId learner : initial.learners) add(ConfChangeType::kAddLearnerNode, learner);
  RETURN_IF_ERROR(storage.append(entries));
  storage.set_hard_state(
      HardState{.term = Term(1), .vote = kNoNode, .commit = storage.last_index()});
  return Status::ok();
}

}  // namespace lockstep::raft
