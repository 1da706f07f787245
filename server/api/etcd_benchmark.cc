#include "server/api/etcd_benchmark.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "server/api/async_closed_loop.h"
#include "server/api/channel_pool.h"
#include "server/api/proto/rpc.grpc.pb.h"
#include "server/api/rss_sampler.h"

namespace lockstep::api {
namespace {

using Clock = std::chrono::steady_clock;

// No single request of a benchmark should take this long; one that does is counted as
// failed (DEADLINE_EXCEEDED) rather than hanging the run.
constexpr int kRequestTimeoutSeconds = 10;
// watch-latency waits this long for every watcher to see a put before declaring it lost.
constexpr int kWatchEventTimeoutSeconds = 10;

int64_t nanoseconds_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

void set_deadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(kRequestTimeoutSeconds));
}

// Printable pseudo-random bytes: values are opaque to the store, and printable ones keep a
// dump of the benchmark's keyspace readable.
std::string benchmark_value(int value_size_bytes, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string value(static_cast<size_t>(value_size_bytes), 'x');
  for (char& byte : value) byte = static_cast<char>(letter(generator));
  return value;
}

int decimal_digits(int64_t number) {
  int digits = 1;
  while (number >= 10) {
    number /= 10;
    ++digits;
  }
  return digits;
}

// What one client does for one operation (on key `key_index`); returns the call's status. A client
// is built on its own thread before the clock starts (keep-alive grants its lease and opens its
// stream there), so setup is not timed.
class BenchmarkClient {
 public:
  virtual ~BenchmarkClient() = default;
  virtual grpc::Status run(int64_t key_index) = 0;
  // After the clock stopped: give back what the client holds (keep-alive revokes its lease, so
  // the next workload of a suite does not run beside thousands of live leases).
  virtual void close() {}
};

using ClientFactory = std::function<Result<std::unique_ptr<BenchmarkClient>>(
    const std::shared_ptr<grpc::Channel>& channel)>;

struct ClientTally {
  LatencyRecorder latencies;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::map<std::string, int64_t> error_counts;
  std::optional<Error> setup_error;
  Clock::time_point loop_ended;
};

// Every client thread builds its client, then waits here until all have (or one failed): the
// clock starts only when every client can send.
class StartGate {
 public:
  explicit StartGate(int client_count) : waiting_for_(client_count) {}
  // Returns whether the run goes ahead (no client failed its setup).
  bool arrive_and_wait(bool set_up) {
    std::unique_lock lock(mutex_);
    if (!set_up) setup_failed_ = true;
    --waiting_for_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return opened_; });
    return !setup_failed_;
  }
  // Returns whether every client was set up; the clients are released either way.
  bool wait_for_all_and_open() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return waiting_for_ == 0; });
    opened_ = true;
    changed_.notify_all();
    return !setup_failed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_for_;
  bool setup_failed_ = false;
  bool opened_ = false;
};

void run_one_client(const BenchmarkOptions& options, const ChannelPool& pool,
                    const ClientFactory& factory, int client, StartGate& gate,
                    std::atomic<int64_t>& next_operation, ClientTally& tally) {
  Result<std::unique_ptr<BenchmarkClient>> built =
      factory(pool.channel_for(static_cast<size_t>(client)));
  if (!built.is_ok()) tally.setup_error = built.error();
  if (!gate.arrive_and_wait(built.is_ok())) {
    if (built.is_ok()) (*built)->close();
    return;
  }
  BenchmarkClient& benchmark_client = **built;
  std::mt19937_64 generator(options.seed + static_cast<uint64_t>(client));
  std::uniform_int_distribution<int64_t> random_key(0, options.key_space_size - 1);
  while (true) {
    const int64_t index = next_operation.fetch_add(1);
    if (index >= options.total_operations) break;
    const int64_t key_index =
        options.sequential_keys ? index % options.key_space_size : random_key(generator);
    const Clock::time_point sent = Clock::now();
    const grpc::Status status = benchmark_client.run(key_index);
    const int64_t latency_ns = nanoseconds_since(sent);
    if (status.ok()) {
      ++tally.succeeded;
      tally.latencies.record_ns(latency_ns);
    } else {
      ++tally.failed;
      ++tally.error_counts[describe_status(status)];
    }
  }
  tally.loop_ended = Clock::now();
  benchmark_client.close();
}

// Closed loop like etcd's benchmark: each client sends its next request when the previous one
// answers; clients draw operation numbers from one counter until --total is reached.
Status run_closed_loop(const BenchmarkOptions& options, const ChannelPool& pool,
                       const ClientFactory& factory, BenchmarkResult& result) {
  std::atomic<int64_t> next_operation{0};
  std::vector<ClientTally> tallies(static_cast<size_t>(options.client_count));
  std::vector<std::thread> clients;
  StartGate gate(options.client_count);
  for (int client = 0; client < options.client_count; ++client) {
    clients.emplace_back([&, client] {
      run_one_client(options, pool, factory, client, gate, next_operation,
                     tallies[static_cast<size_t>(client)]);
    });
  }
  const bool all_set_up = gate.wait_for_all_and_open();
  const Clock::time_point start = Clock::now();
  for (std::thread& client : clients) client.join();
  // The last client's last answer ends the run; closing clients (revoking leases) is not timed.
  Clock::time_point end = start;
  for (const ClientTally& tally : tallies) end = std::max(end, tally.loop_ended);
  result.elapsed_seconds =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()) /
      1e9;
  if (!all_set_up) {
    for (const ClientTally& tally : tallies) {
      if (tally.setup_error) return *tally.setup_error;
    }
  }
  LatencyRecorder merged;
  for (const ClientTally& tally : tallies) {
    merged.merge(tally.latencies);
    result.succeeded += tally.succeeded;
    result.failed += tally.failed;
    for (const auto& [message, count] : tally.error_counts) result.error_counts[message] += count;
  }
  result.latency = merged.summarize();
  return Status::ok();
}

// A KV call per operation on the asynchronous API: `fill` writes the request for a key and
// `send` asks the stub for the call (the stub's PrepareAsync method for that request).
template <typename Request, typename Response>
class AsyncKvCall final : public AsyncUnaryCall {
 public:
  using Fill = std::function<void(Request& request, int64_t key_index)>;
  using Send = std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>(
      etcdserverpb::KV::Stub& stub, grpc::ClientContext* context, const Request& request,
      grpc::CompletionQueue* queue)>;

  AsyncKvCall(const std::shared_ptr<grpc::Channel>& channel, Fill fill, Send send)
      : stub_(etcdserverpb::KV::NewStub(channel)), fill_(std::move(fill)), send_(std::move(send)) {}

  void start(int64_t key_index, grpc::CompletionQueue& queue, void* tag) override {
    context_.emplace();  // a ClientContext serves one call only
    set_deadline(*context_);
    fill_(request_, key_index);
    response_.Clear();
    reader_ = send_(*stub_, &*context_, request_, &queue);
    reader_->StartCall();
    reader_->Finish(&response_, &status_, tag);
  }
  grpc::Status status() const override { return status_; }

 private:
  std::unique_ptr<etcdserverpb::KV::Stub> stub_;
  Fill fill_;
  Send send_;
  std::optional<grpc::ClientContext> context_;
  Request request_;
  Response response_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader_;
};

template <typename Request, typename Response>
AsyncCallFactory async_kv_calls(typename AsyncKvCall<Request, Response>::Fill fill,
                                typename AsyncKvCall<Request, Response>::Send send) {
  return [fill = std::move(fill), send = std::move(send)](
             const std::shared_ptr<grpc::Channel>& channel) -> std::unique_ptr<AsyncUnaryCall> {
    return std::make_unique<AsyncKvCall<Request, Response>>(channel, fill, send);
  };
}

AsyncCallFactory put_calls(const BenchmarkOptions& options) {
  using etcdserverpb::PutRequest, etcdserverpb::PutResponse;
  const std::string value = benchmark_value(options.value_size_bytes, options.seed);
  return async_kv_calls<PutRequest, PutResponse>(
      [value, key_size = options.key_size_bytes](PutRequest& request, int64_t key_index) {
        request.set_key(benchmark_key(key_index, key_size));
        // Every put carries the same value: the request keeps it from the first call on.
        if (request.value().size() != value.size()) request.set_value(value);
      },
      [](etcdserverpb::KV::Stub& stub, grpc::ClientContext* context, const PutRequest& request,
         grpc::CompletionQueue* queue) { return stub.PrepareAsyncPut(context, request, queue); });
}

AsyncCallFactory range_calls(const BenchmarkOptions& options) {
  using etcdserverpb::RangeRequest, etcdserverpb::RangeResponse;
  return async_kv_calls<RangeRequest, RangeResponse>(
      [key = options.key, serializable = options.serializable](RangeRequest& request, int64_t) {
        request.set_key(key);
        request.set_serializable(serializable);
      },
      [](etcdserverpb::KV::Stub& stub, grpc::ClientContext* context, const RangeRequest& request,
         grpc::CompletionQueue* queue) { return stub.PrepareAsyncRange(context, request, queue); });
}

AsyncCallFactory txn_put_calls(const BenchmarkOptions& options) {
  using etcdserverpb::TxnRequest, etcdserverpb::TxnResponse;
  const std::string value = benchmark_value(options.value_size_bytes, options.seed);
  return async_kv_calls<TxnRequest, TxnResponse>(
      [value, options](TxnRequest& request, int64_t key_index) {
        // Consecutive keys from key_index: etcd rejects a txn that writes one key twice
        // (ErrDuplicateKey), and validate() ensures the key space holds txn-ops keys.
        request.Clear();
        for (int operation = 0; operation < options.txn_operation_count; ++operation) {
          etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
          put->set_key(benchmark_key((key_index + operation) % options.key_space_size,
                                     options.key_size_bytes));
          put->set_value(value);
        }
      },
      [](etcdserverpb::KV::Stub& stub, grpc::ClientContext* context, const TxnRequest& request,
         grpc::CompletionQueue* queue) { return stub.PrepareAsyncTxn(context, request, queue); });
}

// The KV workloads on the asynchronous client (async_closed_loop.h).
Status run_async_kv_loop(const BenchmarkOptions& options, const ChannelPool& pool,
                         const AsyncCallFactory& factory, BenchmarkResult& result) {
  ClosedLoopOptions loop;
  loop.client_count = options.client_count;
  loop.total_operations = options.total_operations;
  loop.key_space_size = options.key_space_size;
  loop.sequential_keys = options.sequential_keys;
  loop.seed = options.seed;
  loop.thread_count = options.client_thread_count;
  ClosedLoopTally tally = run_async_closed_loop(loop, pool, factory);
  result.elapsed_seconds = tally.elapsed_seconds;
  result.succeeded = tally.succeeded;
  result.failed = tally.failed;
  result.error_counts = std::move(tally.error_counts);
  result.latency = tally.latencies.summarize();
  return Status::ok();
}

grpc::Status grant_lease(etcdserverpb::Lease::Stub& stub, int64_t ttl_seconds, int64_t& lease_id) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  grpc::ClientContext context;
  set_deadline(context);
  grpc::Status status = stub.LeaseGrant(&context, request, &response);
  if (status.ok() && !response.error().empty()) {
    status = grpc::Status(grpc::StatusCode::UNKNOWN, "lease grant: " + response.error());
  }
  lease_id = response.id();
  return status;
}

grpc::Status revoke_lease(etcdserverpb::Lease::Stub& stub, int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse response;
  grpc::ClientContext context;
  set_deadline(context);
  return stub.LeaseRevoke(&context, request, &response);
}

// A keep-alive stream may not outlive this; a server that stops answering on it then fails the
// pending keep-alive with DEADLINE_EXCEEDED (a stream has one deadline, not one per message).
constexpr int kKeepAliveStreamTimeoutSeconds = 600;

class LeaseKeepAliveClient final : public BenchmarkClient {
 public:
  static Result<std::unique_ptr<BenchmarkClient>> create(
      const std::shared_ptr<grpc::Channel>& channel, int64_t ttl_seconds) {
    auto client = std::unique_ptr<LeaseKeepAliveClient>(new LeaseKeepAliveClient(channel));
    const grpc::Status granted = grant_lease(*client->stub_, ttl_seconds, client->lease_id_);
    if (!granted.ok())
      return Error(ErrorCode::kConnectionClosed, "setup: " + describe_status(granted));
    return std::unique_ptr<BenchmarkClient>(std::move(client));
  }

  grpc::Status run(int64_t) override {
    if (!stream_) open_stream();
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(lease_id_);
    etcdserverpb::LeaseKeepAliveResponse response;
    if (!stream_->Write(request) || !stream_->Read(&response)) {
      // The stream broke: report why, and open a new one for the next keep-alive (as
      // clientv3's KeepAlive does).
      context_->TryCancel();
      grpc::Status status = stream_->Finish();
      stream_.reset();
      if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed");
      return status;
    }
    // etcd answers a keep-alive of an unknown or expired lease with TTL 0 rather than an error.
    if (response.ttl() <= 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "keep-alive answered TTL 0 (no lease)");
    }
    if (response.id() != lease_id_) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "keep-alive answered for another lease");
    }
    return grpc::Status::OK;
  }

  void close() override {
    if (stream_) {
      stream_->WritesDone();
      context_->TryCancel();
      stream_->Finish();
      stream_.reset();
    }
    revoke_lease(*stub_, lease_id_);  // best effort: an unrevoked lease expires after its TTL
  }

 private:
  explicit LeaseKeepAliveClient(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(etcdserverpb::Lease::NewStub(channel)) {}

  void open_stream() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(kKeepAliveStreamTimeoutSeconds));
    stream_ = stub_->LeaseKeepAlive(context_.get());
  }

  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  int64_t lease_id_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                           etcdserverpb::LeaseKeepAliveResponse>>
      stream_;
};

class LeaseGrantRevokeClient final : public BenchmarkClient {
 public:
  LeaseGrantRevokeClient(const std::shared_ptr<grpc::Channel>& channel, int64_t ttl_seconds)
      : stub_(etcdserverpb::Lease::NewStub(channel)), ttl_seconds_(ttl_seconds) {}

  grpc::Status run(int64_t) override {
    int64_t lease_id = 0;
    const grpc::Status granted = grant_lease(*stub_, ttl_seconds_, lease_id);
    if (!granted.ok()) return granted;
    return revoke_lease(*stub_, lease_id);
  }

 private:
  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  int64_t ttl_seconds_;
};

ClientFactory lease_keep_alive_clients(const BenchmarkOptions& options) {
  return [ttl = options.lease_ttl_seconds](const std::shared_ptr<grpc::Channel>& channel) {
    return LeaseKeepAliveClient::create(channel, ttl);
  };
}

ClientFactory lease_grant_revoke_clients(const BenchmarkOptions& options) {
  return [ttl = options.lease_ttl_seconds](const std::shared_ptr<grpc::Channel>& channel)
             -> Result<std::unique_ptr<BenchmarkClient>> {
    return std::unique_ptr<BenchmarkClient>(std::make_unique<LeaseGrantRevokeClient>(channel, ttl));
  };
}

Status put_once(const ChannelPool& pool, const std::string& key, const std::string& value) {
  auto stub = etcdserverpb::KV::NewStub(pool.channel_for(0));
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  grpc::ClientContext context;
  set_deadline(context);
  const grpc::Status status = stub->Put(&context, request, &response);
  if (!status.ok())
    return Error(ErrorCode::kConnectionClosed, "setup put: " + describe_status(status));
  return Status::ok();
}

// State shared between the putter and the watcher threads of watch-latency. Only one put is
// in flight at a time, so every event a watcher sees belongs to the put started last.
struct WatchLatencyState {
  std::mutex mutex;
  std::condition_variable changed;
  Clock::time_point put_sent;
  int watchers_ready = 0;
  int watchers_notified = 0;
  bool watcher_failed = false;
  std::string watcher_failure;
};

void watch_one_stream(const BenchmarkOptions& options, const ChannelPool& pool, int watcher,
                      grpc::ClientContext& context, WatchLatencyState& state,
                      LatencyRecorder& latencies) {
  auto stub = etcdserverpb::Watch::NewStub(pool.channel_for(static_cast<size_t>(watcher)));
  auto stream = stub->Watch(&context);
  etcdserverpb::WatchRequest create;
  create.mutable_create_request()->set_key(options.key);
  etcdserverpb::WatchResponse response;
  const bool created = stream->Write(create) && stream->Read(&response) && response.created();
  {
    std::lock_guard lock(state.mutex);
    if (created) {
      ++state.watchers_ready;
    } else {
      state.watcher_failed = true;
      state.watcher_failure = "watch stream " + std::to_string(watcher) + " was not created";
    }
  }
  state.changed.notify_all();
  if (!created) return;
  while (stream->Read(&response)) {
    if (response.events_size() == 0) continue;
    std::lock_guard lock(state.mutex);
    const int64_t latency_ns = nanoseconds_since(state.put_sent);
    for (int event = 0; event < response.events_size(); ++event) latencies.record_ns(latency_ns);
    ++state.watchers_notified;
    state.changed.notify_all();
  }
}

Status run_watch_latency(const BenchmarkOptions& options, const ChannelPool& pool,
                         BenchmarkResult& result) {
  WatchLatencyState state;
  const auto watcher_count = static_cast<size_t>(options.watcher_count);
  std::vector<LatencyRecorder> latencies(watcher_count);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> watchers;
  for (size_t watcher = 0; watcher < watcher_count; ++watcher) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
  }
  for (size_t watcher = 0; watcher < watcher_count; ++watcher) {
    watchers.emplace_back([&, watcher] {
      watch_one_stream(options, pool, static_cast<int>(watcher), *contexts[watcher], state,
                       latencies[watcher]);
    });
  }
  auto stop_watchers = [&] {
    for (auto& context : contexts) context->TryCancel();
    for (std::thread& watcher : watchers) watcher.join();
  };
  {
    std::unique_lock lock(state.mutex);
    const bool all_ready = state.changed.wait_for(
        lock, std::chrono::seconds(kWatchEventTimeoutSeconds),
        [&] { return state.watcher_failed || state.watchers_ready == options.watcher_count; });
    if (!all_ready || state.watcher_failed) {
      const std::string failure =
          state.watcher_failed ? state.watcher_failure : "watch streams were not created in time";
      lock.unlock();
      stop_watchers();
      return Error(ErrorCode::kConnectionClosed, failure);
    }
  }
  auto stub = etcdserverpb::KV::NewStub(pool.channel_for(0));
  const std::string value = benchmark_value(options.value_size_bytes, options.seed);
  const Clock::time_point start = Clock::now();
  Status outcome = Status::ok();
  for (int64_t put = 0; put < options.total_operations; ++put) {
    {
      std::lock_guard lock(state.mutex);
      state.watchers_notified = 0;
      state.put_sent = Clock::now();
    }
    etcdserverpb::PutRequest request;
    request.set_key(options.key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    set_deadline(context);
    const grpc::Status status = stub->Put(&context, request, &response);
    if (!status.ok()) {
      // The put may or may not have been applied, so whether an event is due is unknown:
      // stop rather than guess.
      ++result.failed;
      ++result.error_counts[describe_status(status)];
      outcome = Error(ErrorCode::kConnectionClosed, "put failed: " + describe_status(status));
      break;
    }
    std::unique_lock lock(state.mutex);
    const bool delivered =
        state.changed.wait_for(lock, std::chrono::seconds(kWatchEventTimeoutSeconds),
                               [&] { return state.watchers_notified >= options.watcher_count; });
    if (!delivered) {
      outcome = Error(ErrorCode::kTimeout, "a watcher missed the event of put " +
                                               std::to_string(put) + " for " +
                                               std::to_string(kWatchEventTimeoutSeconds) + " s");
      break;
    }
  }
  result.elapsed_seconds = static_cast<double>(nanoseconds_since(start)) / 1e9;
  stop_watchers();
  LatencyRecorder merged;
  for (const LatencyRecorder& recorder : latencies) merged.merge(recorder);
  result.latency = merged.summarize();
  result.succeeded = static_cast<int64_t>(result.latency.count);
  return outcome;
}

double to_milliseconds(int64_t nanoseconds) {
  return static_cast<double>(nanoseconds) / 1e6;
}

}  // namespace

std::string_view benchmark_kind_name(BenchmarkKind kind) {
  switch (kind) {
    case BenchmarkKind::kPut:
      return "put";
    case BenchmarkKind::kRange:
      return "range";
    case BenchmarkKind::kTxnPut:
      return "txn-put";
    case BenchmarkKind::kWatchLatency:
      return "watch-latency";
    case BenchmarkKind::kLeaseKeepAlive:
      return "lease-keepalive";
    case BenchmarkKind::kLeaseGrantRevoke:
      return "lease-grant-revoke";
  }
  ASSERT(false, "every BenchmarkKind has a name");
  return "";
}

std::optional<BenchmarkKind> parse_benchmark_kind(std::string_view name) {
  for (const BenchmarkKind kind :
       {BenchmarkKind::kPut, BenchmarkKind::kRange, BenchmarkKind::kTxnPut,
        BenchmarkKind::kWatchLatency, BenchmarkKind::kLeaseKeepAlive,
        BenchmarkKind::kLeaseGrantRevoke}) {
    if (benchmark_kind_name(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string benchmark_key(int64_t index, int key_size_bytes) {
  ASSERT(index >= 0, "key indexes come from [0, key-space-size)");
  std::string digits = std::to_string(index);
  ASSERT(digits.size() <= static_cast<size_t>(key_size_bytes), "validate() checks the key fits");
  return std::string(static_cast<size_t>(key_size_bytes) - digits.size(), '0') + digits;
}

Status validate(BenchmarkKind kind, const BenchmarkOptions& options) {
  using O = BenchmarkOptions;
  auto bad = [](const std::string& why) { return Status(ErrorCode::kInvalidInput, why); };
  if (options.endpoints.empty()) return bad("--endpoints must name at least one endpoint");
  if (options.connection_count < 1 || options.connection_count > O::kMaxConnections)
    return bad("--conns must be in [1, " + std::to_string(O::kMaxConnections) + "]");
  if (options.client_count < 1 || options.client_count > O::kMaxClients)
    return bad("--clients must be in [1, " + std::to_string(O::kMaxClients) + "]");
  if (options.total_operations < 1 || options.total_operations > O::kMaxTotalOperations)
    return bad("--total must be in [1, " + std::to_string(O::kMaxTotalOperations) + "]");
  if (options.key_size_bytes < 1 || options.key_size_bytes > O::kMaxKeySizeBytes)
    return bad("--key-size must be in [1, " + std::to_string(O::kMaxKeySizeBytes) + "]");
  if (options.value_size_bytes < 0 || options.value_size_bytes > O::kMaxValueSizeBytes)
    return bad("--val-size must be in [0, " + std::to_string(O::kMaxValueSizeBytes) + "]");
  if (options.key_space_size < 1) return bad("--key-space-size must be >= 1");
  if (decimal_digits(options.key_space_size - 1) > options.key_size_bytes) {
    return bad("--key-size " + std::to_string(options.key_size_bytes) + " is too small for " +
               std::to_string(options.key_space_size) + " distinct keys");
  }
  if (options.key.empty()) return bad("--key must not be empty (etcd rejects an empty key)");
  if (options.client_thread_count < 0 || options.client_thread_count > O::kMaxClients)
    return bad("--client-threads must be in [0, " + std::to_string(O::kMaxClients) + "]");
  if (kind == BenchmarkKind::kTxnPut) {
    if (options.txn_operation_count < 1 || options.txn_operation_count > O::kMaxTxnOperations)
      return bad("--txn-ops must be in [1, " + std::to_string(O::kMaxTxnOperations) + "]");
    if (options.key_space_size < options.txn_operation_count)
      return bad("--key-space-size must be >= --txn-ops (a txn may not put one key twice)");
  }
  if (kind == BenchmarkKind::kWatchLatency &&
      (options.watcher_count < 1 || options.watcher_count > O::kMaxWatchers))
    return bad("--watchers must be in [1, " + std::to_string(O::kMaxWatchers) + "]");
  const bool leases =
      kind == BenchmarkKind::kLeaseKeepAlive || kind == BenchmarkKind::kLeaseGrantRevoke;
  if (leases &&
      (options.lease_ttl_seconds < 1 || options.lease_ttl_seconds > O::kMaxLeaseTtlSeconds))
    return bad("--ttl must be in [1, " + std::to_string(O::kMaxLeaseTtlSeconds) + "]");
  return Status::ok();
}

Result<BenchmarkResult> run_benchmark(BenchmarkKind kind, const BenchmarkOptions& options) {
  RETURN_IF_ERROR(validate(kind, options));
  Result<ChannelPool> pool =
      ChannelPool::connect(options.endpoints, options.connection_count, options.tls);
  if (!pool.is_ok()) return pool.error();
  BenchmarkResult result;
  result.kind = kind;
  result.options = options;
  if (kind == BenchmarkKind::kRange) {
    // Range reads one existing key, as etcd's `benchmark range` is pointed at one.
    RETURN_IF_ERROR(
        put_once(*pool, options.key, benchmark_value(options.value_size_bytes, options.seed)));
  }
  ResidentSetSampler sampler(options.server_pids);
  Status outcome = Status::ok();
  switch (kind) {
    case BenchmarkKind::kPut:
      outcome = run_async_kv_loop(options, *pool, put_calls(options), result);
      break;
    case BenchmarkKind::kRange:
      outcome = run_async_kv_loop(options, *pool, range_calls(options), result);
      break;
    case BenchmarkKind::kTxnPut:
      outcome = run_async_kv_loop(options, *pool, txn_put_calls(options), result);
      break;
    case BenchmarkKind::kLeaseKeepAlive:
      outcome = run_closed_loop(options, *pool, lease_keep_alive_clients(options), result);
      break;
    case BenchmarkKind::kLeaseGrantRevoke:
      outcome = run_closed_loop(options, *pool, lease_grant_revoke_clients(options), result);
      break;
    case BenchmarkKind::kWatchLatency:
      outcome = run_watch_latency(options, *pool, result);
      break;
  }
  result.server_max_resident_set_kib = sampler.stop();
  RETURN_IF_ERROR(outcome);
  result.operations_per_second =
      result.elapsed_seconds > 0 ? static_cast<double>(result.succeeded) / result.elapsed_seconds
                                 : 0;
  return result;
}

std::string format_text(const BenchmarkResult& result) {
  const LatencySummary& latency = result.latency;
  char line[512];
  std::string text;
  std::snprintf(line, sizeof line, "%s: %lld ok, %lld failed in %.3f s: %.1f ops/s\n",
                std::string(benchmark_kind_name(result.kind)).c_str(),
                static_cast<long long>(result.succeeded), static_cast<long long>(result.failed),
                result.elapsed_seconds, result.operations_per_second);
  text += line;
  std::snprintf(line, sizeof line,
                "latency ms: min %.3f  mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
                "max %.3f\n",
                to_milliseconds(latency.min_ns), to_milliseconds(latency.mean_ns),
                to_milliseconds(latency.p50_ns), to_milliseconds(latency.p90_ns),
                to_milliseconds(latency.p99_ns), to_milliseconds(latency.p999_ns),
                to_milliseconds(latency.max_ns));
  text += line;
  for (const auto& [pid, kib] : result.server_max_resident_set_kib) {
    std::snprintf(line, sizeof line, "server pid %d max VmRSS: %.1f MiB\n", pid,
                  static_cast<double>(kib) / 1024.0);
    text += line;
  }
  for (const auto& [message, count] : result.error_counts) {
    text += "error x" + std::to_string(count) + ": " + message + "\n";
  }
  return text;
}

std::string format_json_line(const BenchmarkResult& result) {
  const BenchmarkOptions& options = result.options;
  nlohmann::json rss = nlohmann::json::object();
  int64_t total_kib = 0;
  for (const auto& [pid, kib] : result.server_max_resident_set_kib) {
    rss[std::to_string(pid)] = kib;
    total_kib += kib;
  }
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [message, count] : result.error_counts) errors[message] = count;
  const nlohmann::json summary = {
      {"benchmark", benchmark_kind_name(result.kind)},
      {"endpoints", options.endpoints},
      {"conns", options.connection_count},
      {"clients", options.client_count},
      {"watchers", result.kind == BenchmarkKind::kWatchLatency ? options.watcher_count : 0},
      {"total", options.total_operations},
      {"key_size", options.key_size_bytes},
      {"val_size", options.value_size_bytes},
      {"key_space_size", options.key_space_size},
      {"sequential_keys", options.sequential_keys},
      {"serializable", options.serializable},
      {"txn_ops", result.kind == BenchmarkKind::kTxnPut ? options.txn_operation_count : 0},
      {"lease_ttl_s", result.kind == BenchmarkKind::kLeaseKeepAlive ||
                              result.kind == BenchmarkKind::kLeaseGrantRevoke
                          ? options.lease_ttl_seconds
                          : 0},
      {"succeeded", result.succeeded},
      {"failed", result.failed},
      {"elapsed_s", result.elapsed_seconds},
      {"ops_per_s", result.operations_per_second},
      {"latency_ms",
       {{"min", to_milliseconds(result.latency.min_ns)},
        {"mean", to_milliseconds(result.latency.mean_ns)},
        {"p50", to_milliseconds(result.latency.p50_ns)},
        {"p90", to_milliseconds(result.latency.p90_ns)},
        {"p99", to_milliseconds(result.latency.p99_ns)},
        {"p99.9", to_milliseconds(result.latency.p999_ns)},
        {"max", to_milliseconds(result.latency.max_ns)}}},
      {"server_max_rss_kib", rss},
      {"server_max_rss_kib_total", total_kib},
      {"errors", errors},
  };
  return summary.dump();
}

}  // namespace lockstep::api
