#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "core/base/error.h"
#include "core/env/runtime.h"
#include "core/node/client_protocol.h"
#include "sim/cluster/history_recorder.h"

namespace lockstep::sim {

struct ClientOptions {
  // One attempt waits this long for an answer (a little more than the member's own request
  // timeout, so a member's kTimeout normally arrives first).
  Duration attempt_timeout = std::chrono::milliseconds(1500);
  // The whole operation, retries included, gives up after this long.
  Duration operation_timeout = std::chrono::seconds(3);
  // Pause before retrying after a definite refusal (no leader yet, not the leader).
  Duration retry_backoff = std::chrono::milliseconds(20);
};

// How an operation ended, from the client's point of view.
enum class CallOutcome : uint8_t {
  kOk,             // answered with a body
  kFailed,         // answered with an error that proves the request had no effect
  kIndeterminate,  // a write whose answer never came: it may or may not have taken effect
};

struct CallResult {
  CallOutcome outcome = CallOutcome::kFailed;
  ErrorCode error = ErrorCode::kOk;  // for kFailed / kIndeterminate: the last error seen
  std::optional<node::ClientResponseBody> body;

  bool ok() const { return outcome == CallOutcome::kOk; }
  template <typename T>
  const T& as() const {
    return std::get<T>(*body);
  }
};

// A client of the store running inside a simulated process: etcd's clientv3 in the rules
// that matter for a checker.
// - It finds the leader by trying members and following leader hints.
// - Only reads are retried blindly. A write is retried only after an answer that proves it
//   was never proposed (kNotLeader, kNoLeader, kProposalDropped, kTooManyRequests,
//   kStopped); a write whose answer never came, or came as kTimeout, is *indeterminate*
//   and is reported so, never retried as if it had failed.
// - Every operation has a deadline.
// Watch stream messages arriving while the client waits are queued for take_watch_messages().
class ClusterClient {
 public:
  ClusterClient(env::Runtime& runtime, std::vector<NodeId> members, ClientOptions options);

  CallResult call(const node::ClientRequestBody& request);
  // Sends to one member only, without retries (watches, status, member-specific reads).
  CallResult call_member(NodeId member, const node::ClientRequestBody& request);

  // Waits until `deadline` for watch messages (returns early once one is queued).
  std::vector<node::WatchStreamMessage> take_watch_messages(Instant deadline);

  env::Runtime& runtime() { return runtime_; }
  // Adds every request this client sends (each operation, not each retry) to `counter`.
  void count_requests_in(uint64_t& counter) { request_counter_ = &counter; }
  NodeId preferred_member() const { return members_[target_]; }
  const std::vector<NodeId>& members() const { return members_; }

 private:
  enum class AttemptEnd : uint8_t { kAnswered, kNoAnswer };
  AttemptEnd attempt(NodeId member, const node::ClientRequestBody& request,
                     node::ClientResponse& response, Instant deadline);
  void follow(NodeId leader_hint);
  void next_member();

  env::Runtime& runtime_;
  std::vector<NodeId> members_;
  ClientOptions options_;
  size_t target_ = 0;
  uint64_t next_request_id_;
  std::deque<node::WatchStreamMessage> watch_messages_;
  uint64_t* request_counter_ = nullptr;
};

// Errors after which the request certainly did not take effect: the member refused it before
// proposing, so a retry cannot apply it twice.
bool proves_not_applied(ErrorCode code);

}  // namespace lockstep::sim
