#include "core/raft/membership.h"

#include <algorithm>
#include <vector>

namespace lockstep::raft {

namespace {

std::set<NodeId> to_set(const std::vector<NodeId>& ids) {
  return {ids.begin(), ids.end()};
}
std::vector<NodeId> to_vector(const std::set<NodeId>& ids) {
  return {ids.begin(), ids.end()};
}

std::string join(const std::set<NodeId>& ids) {
  std::string text;
  for (NodeId id : ids) {
    if (!text.empty()) text += ",";
    text += std::to_string(id.value());
  }
  return text;
}

// Applies the individual add/remove items to `membership.incoming` and the learner sets.
Status apply_changes(Membership& membership, const std::vector<ConfChangeSingle>& changes) {
  for (const ConfChangeSingle& change : changes) {
    if (change.node == kNoNode) return Status(ErrorCode::kInvalidInput, "conf change for node 0");
    switch (change.type) {
      case ConfChangeType::kAddNode:
        membership.learners.erase(change.node);
        membership.learners_next.erase(change.node);
        membership.incoming.insert(change.node);
        break;
      case ConfChangeType::kAddLearnerNode:
        membership.incoming.erase(change.node);
        membership.learners.erase(change.node);
        membership.learners_next.erase(change.node);
        // A voter of the outgoing configuration stays a voter until the joint
        // configuration is left; only then does it become a learner.
        if (membership.outgoing.contains(change.node)) {
          membership.learners_next.insert(change.node);
        } else {
          membership.learners.insert(change.node);
        }
        break;
      case ConfChangeType::kRemoveNode:
        membership.incoming.erase(change.node);
        membership.learners.erase(change.node);
        membership.learners_next.erase(change.node);
        break;
      case ConfChangeType::kUpdateNode:
        break;  // etcd raft's changer ignores it too; only the context matters
      default:
        return Status(ErrorCode::kInvalidInput, "unknown conf change type");
    }
  }
  if (membership.incoming.empty()) {
    return Status(ErrorCode::kInvalidInput, "a configuration must keep at least one voter");
  }
  return Status::ok();
}

size_t symmetric_difference_size(const std::set<NodeId>& a, const std::set<NodeId>& b) {
  std::vector<NodeId> difference;
  std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(),
                                std::back_inserter(difference));
  return difference.size();
}

}  // namespace

std::set<NodeId> Membership::voters() const {
  std::set<NodeId> result = incoming;
  result.insert(outgoing.begin(), outgoing.end());
  return result;
}

std::set<NodeId> Membership::members() const {
  std::set<NodeId> result = voters();
  result.insert(learners.begin(), learners.end());
  result.insert(learners_next.begin(), learners_next.end());
  return result;
}

ConfState Membership::to_conf_state() const {
  return ConfState{.voters = to_vector(incoming),
                   .learners = to_vector(learners),
                   .voters_outgoing = to_vector(outgoing),
                   .learners_next = to_vector(learners_next),
                   .auto_leave = auto_leave};
}

Membership Membership::from_conf_state(const ConfState& conf_state) {
  return Membership{.incoming = to_set(conf_state.voters),
                    .outgoing = to_set(conf_state.voters_outgoing),
                    .learners = to_set(conf_state.learners),
                    .learners_next = to_set(conf_state.learners_next),
                    .auto_leave = conf_state.auto_leave};
}

std::string Membership::to_string() const {
  std::string text = "voters=(" + join(incoming) + ")";
  if (joint()) text += "&&(" + join(outgoing) + ")";
  if (!learners.empty()) text += " learners=(" + join(learners) + ")";
  if (!learners_next.empty()) text += " learners_next=(" + join(learners_next) + ")";
  if (auto_leave) text += " autoleave";
  return text;
}

LogIndex majority_committed_index(const std::set<NodeId>& voters,
                                  const std::function<LogIndex(NodeId)>& acked_index) {
  if (voters.empty()) return LogIndex(UINT64_MAX);  // joint with an empty half: no constraint
  std::vector<LogIndex> acked;
  acked.reserve(voters.size());
  for (NodeId voter : voters) acked.push_back(acked_index(voter));
  // The (n/2+1)-th largest acknowledged index is held by a majority.
  const size_t quorum = voters.size() / 2 + 1;
  std::nth_element(acked.begin(), acked.begin() + static_cast<std::ptrdiff_t>(quorum - 1),
                   acked.end(), std::greater<LogIndex>());
  return acked[quorum - 1];
}

LogIndex committed_index(const Membership& membership,
                         const std::function<LogIndex(NodeId)>& acked_index) {
  return std::min(majority_committed_index(membership.incoming, acked_index),
                  majority_committed_index(membership.outgoing, acked_index));
}

VoteResult majority_vote_result(const std::set<NodeId>& voters,
                                const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;  // an empty half never blocks
  size_t granted = 0;
  size_t missing = 0;
  for (NodeId voter : voters) {
    auto found = votes.find(voter);
    if (found == votes.end()) {
      ++missing;
    } else if (found->second) {
      ++granted;
    }
  }
  const size_t quorum = voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

VoteResult vote_result(const Membership& membership, const std::map<NodeId, bool>& votes) {
  const VoteResult incoming = majority_vote_result(membership.incoming, votes);
  const VoteResult outgoing = majority_vote_result(membership.outgoing, votes);
  if (incoming == outgoing) return incoming;
  if (incoming == VoteResult::kLost || outgoing == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

Result<Membership> apply_conf_change(const Membership& current, const ConfChange& change) {
  Membership next = current;
  if (change.leaves_joint()) {
    if (!current.joint()) {
      return Result<Membership>(ErrorCode::kInvalidInput,
                                "leaving a joint config that is not joint");
    }
    next.outgoing.clear();
    next.learners.insert(next.learners_next.begin(), next.learners_next.end());
    next.learners_next.clear();
    next.auto_leave = false;
    return next;
  }
  if (current.joint()) {
    return Result<Membership>(ErrorCode::kInvalidInput,
                              "a joint configuration must be left before the next change");
  }
  const bool enter_joint =
      change.transition != ConfChangeTransition::kAuto || change.changes.size() > 1;
  if (enter_joint) {
    next.outgoing = current.incoming;
    next.auto_leave = change.transition != ConfChangeTransition::kJointExplicit;
  }
  RETURN_IF_ERROR(apply_changes(next, change.changes));
  // Thesis §4.1: without joint consensus, at most one voter may be added or removed at a
  // time, so that any majority of the old and of the new configuration overlap.
  if (!enter_joint && symmetric_difference_size(current.incoming, next.incoming) > 1) {
    return Result<Membership>(ErrorCode::kInvalidInput,
                              "more than one voter changed without joint consensus");
  }
  return next;
}

}  // namespace lockstep::raft
