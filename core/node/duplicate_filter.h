#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <utility>

namespace lockstep::node {

// How many ids a member remembers per filter. A network that duplicates a message delivers
// the copy within its latency (or when a clogged path opens), long before this many newer
// requests reach one member; 16 Ki pairs cost about a megabyte per filter.
inline constexpr size_t kDuplicateFilterCapacity = 16 * 1024;

// Recognises the second delivery of a message the network duplicated.
//
// The member's client protocol and Raft's proposal forwarding run over env::Network, which
// (like UDP, unlike etcd's TCP streams) may deliver one message twice. A write is not
// idempotent: a put applied twice gets two revisions and version 2. So a member admits a
// client request once per (client, request id), and a forwarded proposal once per proposal
// tag, and drops any repeat, whatever became of the first copy: the client has its answer
// (or gave up and may already have retried under a fresh id, which is why even a refused
// request must not be admitted again later).
//
// Bounded: the oldest id is forgotten once `capacity` newer ones were seen. The memory is the
// member's incarnation's only, so a copy still in flight when the member crashes and restarts
// is admitted again; etcd's exactly-once story has the same gap (it relies on TCP), and
// closing it needs client sessions in the replicated state (Raft thesis §6.3).
class DuplicateFilter {
 public:
  using Key = std::pair<uint64_t, uint64_t>;  // (sender, the sender's id for the message)

  explicit DuplicateFilter(size_t capacity = kDuplicateFilterCapacity);

  // True the first time `key` is offered (it is remembered from then on); false for a repeat.
  bool admit(Key key);

  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  std::set<Key> seen_;
  std::deque<Key> order_;  // oldest first, for forgetting
};

}  // namespace lockstep::node
