#include "server/api/async_closed_loop.h"

#include <grpc/grpc.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace lockstep::api {
namespace {

using Clock = std::chrono::steady_clock;

// A client and the bookkeeping of its call in flight; its address is the queue tag.
struct ClientSlot {
  std::unique_ptr<AsyncUnaryCall> call;
  std::mt19937_64 key_generator;
  std::uniform_int_distribution<int64_t> random_key;
  Clock::time_point sent;
};

// The clients one thread drives, on the completion queue that thread alone polls.
struct Worker {
  grpc::CompletionQueue queue;
  std::vector<ClientSlot*> clients;
  ClosedLoopTally tally;
  Clock::time_point loop_ended;
};

class OperationSource {
 public:
  explicit OperationSource(const ClosedLoopOptions& options) : options_(options) {}

  // The key of the next operation for `client`, or false once every operation was handed out.
  bool next(ClientSlot& client, int64_t& key_index) {
    const int64_t index = next_operation_.fetch_add(1, std::memory_order_relaxed);
    if (index >= options_.total_operations) return false;
    key_index = options_.sequential_keys ? index % options_.key_space_size
                                         : client.random_key(client.key_generator);
    return true;
  }

 private:
  const ClosedLoopOptions& options_;
  std::atomic<int64_t> next_operation_{0};
};

void send_next(ClientSlot& client, Worker& worker, OperationSource& operations, int& in_flight) {
  int64_t key_index = 0;
  if (!operations.next(client, key_index)) return;
  client.sent = Clock::now();
  client.call->start(key_index, worker.queue, &client);
  ++in_flight;
}

void drive(Worker& worker, OperationSource& operations) {
  int in_flight = 0;
  for (ClientSlot* client : worker.clients) send_next(*client, worker, operations, in_flight);
  while (in_flight > 0) {
    void* tag = nullptr;
    bool ok = false;
    if (!worker.queue.Next(&tag, &ok)) break;  // only after Shutdown, which comes later
    auto& client = *static_cast<ClientSlot*>(tag);
    --in_flight;
    const auto latency = Clock::now() - client.sent;
    // A unary call's Finish always completes with ok; its outcome is in the status.
    const grpc::Status status = client.call->status();
    if (status.ok()) {
      ++worker.tally.succeeded;
      worker.tally.latencies.record_ns(
          std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    } else {
      ++worker.tally.failed;
      ++worker.tally.error_counts[describe_status(status)];
    }
    send_next(client, worker, operations, in_flight);
  }
  worker.loop_ended = Clock::now();
  worker.queue.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (worker.queue.Next(&tag, &ok)) {
  }
}

}  // namespace

std::string describe_status(const grpc::Status& status) {
  return std::string(grpc_code_name(static_cast<int>(status.error_code()))) + ": " +
         status.error_message();
}

ClosedLoopTally run_async_closed_loop(const ClosedLoopOptions& options, const ChannelPool& pool,
                                      const AsyncCallFactory& factory) {
  std::vector<ClientSlot> clients(static_cast<size_t>(options.client_count));
  for (size_t client = 0; client < clients.size(); ++client) {
    clients[client].call = factory(pool.channel_for(client));
    clients[client].key_generator.seed(options.seed + client);
    clients[client].random_key =
        std::uniform_int_distribution<int64_t>(0, options.key_space_size - 1);
  }
  int thread_count = options.thread_count;
  if (thread_count <= 0) thread_count = static_cast<int>(std::thread::hardware_concurrency());
  thread_count = std::clamp(thread_count, 1, options.client_count);
  std::vector<Worker> workers(static_cast<size_t>(thread_count));
  for (size_t client = 0; client < clients.size(); ++client) {
    workers[client % workers.size()].clients.push_back(&clients[client]);
  }

  OperationSource operations(options);
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (Worker& worker : workers) threads.emplace_back([&] { drive(worker, operations); });
  for (std::thread& thread : threads) thread.join();

  ClosedLoopTally tally;
  Clock::time_point end = start;
  for (Worker& worker : workers) {
    end = std::max(end, worker.loop_ended);
    tally.latencies.merge(worker.tally.latencies);
    tally.succeeded += worker.tally.succeeded;
    tally.failed += worker.tally.failed;
    for (const auto& [message, count] : worker.tally.error_counts) {
      tally.error_counts[message] += count;
    }
  }
  tally.elapsed_seconds =
      std::chrono::duration_cast<std::chrono::duration<double>>(end - start).count();
  return tally;
}

}  // namespace lockstep::api
