#include "core/raft/read_index_queue.h"

namespace lockstep::raft {

bool ReadIndexQueue::add(std::string context, NodeId from, LogIndex index, NodeId leader) {
  if (sequence_by_context_.contains(context)) return false;
  sequence_by_context_.emplace(context, first_sequence_ + requests_.size());
  ReadIndexRequest request{.context = std::move(context), .from = from, .index = index, .acks = {}};
  request.acks[leader] = true;  // the leader confirms itself
  requests_.push_back(std::move(request));
  return true;
}

VoteResult ReadIndexQueue::acknowledge(const std::string& context, NodeId voter,
                                       const Membership& membership) {
  auto found = sequence_by_context_.find(context);
  if (found == sequence_by_context_.end()) return VoteResult::kPending;
  ReadIndexRequest& request = requests_[found->second - first_sequence_];
  request.acks[voter] = true;
  return vote_result(membership, request.acks);
}

std::vector<ReadIndexRequest> ReadIndexQueue::release_through(const std::string& context) {
  std::vector<ReadIndexRequest> released;
  auto found = sequence_by_context_.find(context);
  if (found == sequence_by_context_.end()) return released;
  const uint64_t last = found->second;
  while (!requests_.empty() && first_sequence_ <= last) {
    sequence_by_context_.erase(requests_.front().context);
    released.push_back(std::move(requests_.front()));
    requests_.pop_front();
    ++first_sequence_;
  }
  return released;
}

const std::string& ReadIndexQueue::last_context() const {
  static const std::string kNone;
  return requests_.empty() ? kNone : requests_.back().context;
}

}  // namespace lockstep::raft
