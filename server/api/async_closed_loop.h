#pragma once

#include <grpcpp/completion_queue.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "server/api/channel_pool.h"
#include "server/api/latency_recorder.h"

namespace lockstep::api {

// One benchmark client of a unary workload on gRPC's asynchronous client API. It has one call
// in flight at a time: `start` sends the call for a key and asks for its completion on `queue`
// under `tag`; once the queue hands that tag back, `status` is the call's outcome.
class AsyncUnaryCall {
 public:
  virtual ~AsyncUnaryCall() = default;
  virtual void start(int64_t key_index, grpc::CompletionQueue& queue, void* tag) = 0;
  virtual grpc::Status status() const = 0;
};

// Builds the client with index `client` on the channel the pool gives that client.
using AsyncCallFactory =
    std::function<std::unique_ptr<AsyncUnaryCall>(const std::shared_ptr<grpc::Channel>& channel)>;

struct ClosedLoopOptions {
  int client_count = 1;
  int64_t total_operations = 1;
  int64_t key_space_size = 1;
  bool sequential_keys = false;
  uint64_t seed = 1;  // client i draws its keys from a generator seeded with seed + i
  // Threads that drive the completion queues; 0 means one per core, at most one per client.
  int thread_count = 0;
};

// "CODE: message", the key a failed call is counted under in error_counts.
std::string describe_status(const grpc::Status& status);

struct ClosedLoopTally {
  LatencyRecorder latencies;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::map<std::string, int64_t> error_counts;  // "CODE: message" -> count
  double elapsed_seconds = 0;
};

// A closed loop, as etcd's benchmark runs it: every client sends its next request when its
// previous one answered, and clients draw operation numbers from one counter until
// total_operations were sent. The sync API would need a thread per client, each blocking in
// its own call with a completion queue of its own, and on a small machine the load generator
// then spends more CPU than the server it measures. Here a few threads each drive one
// completion queue for a share of the clients (as Go's goroutines multiplex etcd's benchmark
// clients), so more of the machine is left to the server. Latency runs from just before a
// call is sent to its completion being taken from the queue.
ClosedLoopTally run_async_closed_loop(const ClosedLoopOptions& options, const ChannelPool& pool,
                                      const AsyncCallFactory& factory);

}  // namespace lockstep::api
