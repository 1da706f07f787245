#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/base/error.h"
#include "core/raft/conf_change.h"
#include "core/raft/types.h"

namespace lockstep::raft {

enum class VoteResult : uint8_t { kPending, kLost, kWon };

// The membership of a Raft group, with joint consensus (thesis §4.3): while `outgoing` is
// non-empty, every decision (election, commitment, quorum checks) needs a majority of
// `incoming` AND a majority of `outgoing`.
//
// Why joint consensus rather than one-at-a-time (§4.1): it lets any set of voters change in
// one step (e.g. replace a member without passing through an even-sized cluster), and with
// configurations taking effect when *applied* (as in etcd) the single-server rules need
// extra care (only one change in flight, no change before the leader commits in its term);
// we keep those same guards (pending_conf_index) and gain arbitrary changes on top.
struct Membership {
  std::set<NodeId> incoming{};  // the voters of the (new) configuration
  std::set<NodeId> outgoing{};  // the voters of the old configuration while joint
  std::set<NodeId> learners{};
  // Voters of `outgoing` being demoted to learners: they become learners when the joint
  // configuration is left (a node is never voter and learner at once).
  std::set<NodeId> learners_next{};
  bool auto_leave = false;

  bool joint() const { return !outgoing.empty(); }
  bool is_voter(NodeId id) const { return incoming.contains(id) || outgoing.contains(id); }
  bool is_member(NodeId id) const { return is_voter(id) || learners.contains(id); }
  // Voters then learners, each once, ascending.
  std::set<NodeId> members() const;
  std::set<NodeId> voters() const;

  ConfState to_conf_state() const;
  static Membership from_conf_state(const ConfState& conf_state);
  std::string to_string() const;

  bool operator==(const Membership&) const = default;
};

// The quorum arithmetic, over a function giving each voter's acknowledged index.
// The largest index acknowledged by a majority of `voters` (an empty set is no constraint).
LogIndex majority_committed_index(const std::set<NodeId>& voters,
                                  const std::function<LogIndex(NodeId)>& acked_index);
LogIndex committed_index(const Membership& membership,
                         const std::function<LogIndex(NodeId)>& acked_index);
// `votes` maps voter -> granted; voters absent from the map have not answered.
VoteResult majority_vote_result(const std::set<NodeId>& voters,
                                const std::map<NodeId, bool>& votes);
VoteResult vote_result(const Membership& membership, const std::map<NodeId, bool>& votes);

// Applies a committed ConfChange (the "changer"). Invalid changes (entering joint while
// joint, leaving when not joint, several voter changes without joint consensus, removing
// every voter) fail with kInvalidInput and leave the membership as it was; since every node
// applies the same committed entry, every node rejects it alike.
Result<Membership> apply_conf_change(const Membership& current, const ConfChange& change);

}  // namespace lockstep::raft
