#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/raft/membership.h"

namespace lockstep::raft {

// One linearizable read waiting for the leader to confirm it is still the leader
// (thesis §6.4 step 3: a round of heartbeats acknowledged by a majority).
struct ReadIndexRequest {
  std::string context{};  // the caller's unique request id
  NodeId from;            // who asked (the leader itself, or a follower that forwarded it)
  LogIndex index{};       // the commit index when the request arrived: the read index
  std::map<NodeId, bool> acks{};
};

// Pending ReadIndex requests in arrival order (etcd's readOnly). A heartbeat acknowledgement
// for a request also confirms every earlier request, because the heartbeat that carried the
// later context was sent after the earlier ones were recorded.
class ReadIndexQueue {
 public:
  // False if a request with this context is already pending (it is answered once).
  bool add(std::string context, NodeId from, LogIndex index, NodeId leader);
  // Records that `voter` answered the heartbeat carrying `context`.
  VoteResult acknowledge(const std::string& context, NodeId voter, const Membership& membership);
  // Removes and returns every request up to and including `context`.
  std::vector<ReadIndexRequest> release_through(const std::string& context);

  bool empty() const { return requests_.empty(); }
  size_t size() const { return requests_.size(); }
  const std::string& last_context() const;

 private:
  std::deque<ReadIndexRequest> requests_{};
  uint64_t first_sequence_ = 0;  // sequence number of requests_.front()
  std::map<std::string, uint64_t> sequence_by_context_;
};

}  // namespace lockstep::raft
