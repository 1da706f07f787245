#pragma once

#include <optional>
#include <string>

#include "core/base/ids.h"
#include "core/base/time.h"

namespace lockstep::env {

// One message between two processes. Payload bytes are opaque to the network.
struct Message {
  NodeId from;
  NodeId to;
  std::string payload;
};

// A process's view of the network: best-effort messages to other processes by id. In
// simulation each (source, destination) path has its own latency, loss, duplication,
// reordering, clogging and partitions; in the daemon, messages travel over framed,
// checksummed TCP connections that reconnect. Either way a message may be lost, so callers
// retry: nothing here is reliable, which is what keeps Raft honest.
class Network {
 public:
  virtual ~Network() = default;

  // Queues `payload` for `to` and returns at once; never blocks the calling fiber.
  virtual void send(NodeId to, std::string payload) = 0;

  // Blocks the calling fiber until a message for this process arrives, or until `deadline`
  // on this process's clock passes (then returns nullopt). No deadline waits forever.
  virtual std::optional<Message> receive(std::optional<Instant> deadline) = 0;
};

}  // namespace lockstep::env
