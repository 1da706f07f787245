#include "sim/cluster/cluster_client.h"

#include <algorithm>

namespace lockstep::sim {

bool proves_not_applied(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kNoLeader:
    case ErrorCode::kProposalDropped:
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kStopped:
    case ErrorCode::kRequestTooLarge:
    case ErrorCode::kNotCapable:  // the member declines before proposing anything
      return true;
    default:
      return false;
  }
}

namespace {

// Member-side errors that mean "try elsewhere" rather than "your request is wrong".
bool worth_retrying(ErrorCode code) {
  return proves_not_applied(code) || code == ErrorCode::kTimeout ||
         code == ErrorCode::kTimeoutDueToLeaderFail ||
         code == ErrorCode::kTimeoutDueToConnectionLost || code == ErrorCode::kLeaderChanged ||
         code == ErrorCode::kUnhealthy || code == ErrorCode::kNotCapable;
}

}  // namespace

ClusterClient::ClusterClient(env::Runtime& runtime, std::vector<NodeId> members,
                             ClientOptions options)
    : runtime_(runtime),
      members_(std::move(members)),
      options_(options),
      // Request ids start at a random point so that two incarnations of a client never
      // mistake each other's answers.
      next_request_id_(runtime.random().next_u64() >> 8) {
  ASSERT(!members_.empty(), "a client needs members to talk to");
  target_ = runtime_.random().below(members_.size());
}

ClusterClient::AttemptEnd ClusterClient::attempt(NodeId member,
                                                 const node::ClientRequestBody& request,
                                                 node::ClientResponse& response, Instant deadline) {
  const uint64_t request_id = next_request_id_++;
  runtime_.network().send(member, node::encode_frame(node::ClientRequest{request_id, request}));
  while (true) {
    std::optional<env::Message> message = runtime_.network().receive(deadline);
    if (!message) return AttemptEnd::kNoAnswer;
    Result<node::Frame> frame = node::decode_frame(message->payload);
    if (!frame.is_ok()) continue;
    if (auto* watch = std::get_if<node::WatchStreamMessage>(&*frame)) {
      watch_messages_.push_back(std::move(*watch));
      continue;
    }
    auto* answer = std::get_if<node::ClientResponse>(&*frame);
    // Late answers to abandoned attempts are ignored: their outcome was already decided.
    if (answer == nullptr || answer->request_id != request_id) continue;
    response = std::move(*answer);
    return AttemptEnd::kAnswered;
  }
}

void ClusterClient::follow(NodeId leader_hint) {
  auto it = std::ranges::find(members_, leader_hint);
  if (it != members_.end()) {
    target_ = static_cast<size_t>(it - members_.begin());
  } else {
    next_member();
  }
}

void ClusterClient::next_member() {
  target_ = (target_ + 1) % members_.size();
}

CallResult ClusterClient::call(const node::ClientRequestBody& request) {
  if (request_counter_ != nullptr) ++*request_counter_;
  const bool read_only = node::is_read_only(request);
  const Instant give_up = runtime_.now() + options_.operation_timeout;
  CallResult result;
  result.error = ErrorCode::kTimeout;
  while (runtime_.now() < give_up) {
    const NodeId member = members_[target_];
    node::ClientResponse response;
    const Instant deadline = std::min(give_up, runtime_.now() + options_.attempt_timeout);
    if (attempt(member, request, response, deadline) == AttemptEnd::kNoAnswer) {
      if (!read_only) {
        // The write may have reached the log: its fate is unknown, and retrying could
        // apply it twice. The next operation goes elsewhere: a member that does not answer
        // may be down or removed for good (clientv3's balancer likewise moves off an
        // endpoint whose connection failed), and staying would fail every later write too.
        next_member();
        result.outcome = CallOutcome::kIndeterminate;
        result.error = ErrorCode::kTimeoutDueToConnectionLost;
        return result;
      }
      next_member();
      continue;
    }
    if (response.ok()) {
      result.outcome = CallOutcome::kOk;
      result.error = ErrorCode::kOk;
      result.body = std::move(response.body);
      return result;
    }
    result.error = response.error;
    if (!worth_retrying(response.error)) {
      // An answer about the request itself (compacted revision, unknown lease...): the
      // request was applied and failed, or was refused up front. Either way it had no effect.
      result.outcome = CallOutcome::kFailed;
      return result;
    }
    if (!read_only && !proves_not_applied(response.error)) {
      result.outcome = CallOutcome::kIndeterminate;
      return result;
    }
    if (response.leader_hint != kNoNode && response.leader_hint != member) {
      follow(response.leader_hint);
    } else {
      next_member();
      runtime_.sleep_for(options_.retry_backoff);
    }
  }
  // Out of time after only definite refusals (or unanswered reads): nothing took effect.
  result.outcome = CallOutcome::kFailed;
  return result;
}

CallResult ClusterClient::call_member(NodeId member, const node::ClientRequestBody& request) {
  if (request_counter_ != nullptr) ++*request_counter_;
  node::ClientResponse response;
  CallResult result;
  if (attempt(member, request, response, runtime_.now() + options_.attempt_timeout) ==
      AttemptEnd::kNoAnswer) {
    result.outcome =
        node::is_read_only(request) ? CallOutcome::kFailed : CallOutcome::kIndeterminate;
    result.error = ErrorCode::kTimeoutDueToConnectionLost;
    return result;
  }
  if (!response.ok()) {
    result.error = response.error;
    result.outcome = proves_not_applied(response.error) || node::is_read_only(request) ||
                             !worth_retrying(response.error)
                         ? CallOutcome::kFailed
                         : CallOutcome::kIndeterminate;
    return result;
  }
  result.outcome = CallOutcome::kOk;
  result.body = std::move(response.body);
  return result;
}

std::vector<node::WatchStreamMessage> ClusterClient::take_watch_messages(Instant deadline) {
  while (watch_messages_.empty()) {
    std::optional<env::Message> message = runtime_.network().receive(deadline);
    if (!message) break;
    Result<node::Frame> frame = node::decode_frame(message->payload);
    if (!frame.is_ok()) continue;
    if (auto* watch = std::get_if<node::WatchStreamMessage>(&*frame)) {
      watch_messages_.push_back(std::move(*watch));
    }
  }
  std::vector<node::WatchStreamMessage> taken(std::make_move_iterator(watch_messages_.begin()),
                                              std::make_move_iterator(watch_messages_.end()));
  watch_messages_.clear();
  return taken;
}

}  // namespace lockstep::sim
