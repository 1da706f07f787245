// `lockstep bench real-runtime`: throughput and latency of the daemon's runtime pieces on this
// machine: TCP peer messages between two TcpNetworks over loopback (one event loop hosting
// both, so the numbers are per core), ping-pong round trips, and fdatasync on the loop versus
// on the SyncWorker helper thread. Prints numbers; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "server/posix_disk.h"
#include "server/real_runtime.h"
#include "server/tcp_network.h"

namespace lockstep::cli {
namespace {

using server::PeerAddress;
using server::RealRuntime;
using server::TcpNetwork;

// At most this many payload bytes per throughput run.
constexpr size_t kThroughputBytesCap = size_t{512} << 20;

struct BenchOptions {
  int messages = 200'000;
  int round_trips = 20'000;
  int syncs = 2'000;
  std::string directory = std::filesystem::temp_directory_path().string();
};

// CPU seconds (user + system) this process used so far. The machine running benchmarks may be
// shared, so wall-clock rates understate; work per CPU second is the steadier number.
double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& value) { return value.tv_sec + value.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Two networks (ids 1 and 2) on loopback ephemeral ports, introduced to each other.
struct LoopbackPair {
  explicit LoopbackPair(RealRuntime& runtime) {
    for (uint64_t id : {1, 2}) {
      server::TcpNetworkOptions options;
      options.self = NodeId(id);
      options.listen = PeerAddress{"127.0.0.1", 0};
      Result<std::unique_ptr<TcpNetwork>> started =
          TcpNetwork::start(runtime.loop(), runtime, options);
      ASSERT(started.is_ok(), "loopback networks start");
      (id == 1 ? one : two) = std::move(started).value();
    }
    ASSERT(one->set_peer_address(NodeId(2), {"127.0.0.1", two->listen_port()}).is_ok(), "");
    ASSERT(two->set_peer_address(NodeId(1), {"127.0.0.1", one->listen_port()}).is_ok(), "");
  }
  std::unique_ptr<TcpNetwork> one;
  std::unique_ptr<TcpNetwork> two;
};

// Runs `body` as the only fiber of a fresh runtime, to completion.
template <typename Body>
void run_in_fiber(Body body) {
  RealRuntime runtime({NodeId(1), 1, nullptr});
  runtime.spawn("bench", [&] { body(runtime); });
  runtime.run();
}

void bench_throughput(const BenchOptions& options, size_t payload_bytes) {
  // Large payloads move the same bytes in fewer messages, so the run stays short.
  const int messages = static_cast<int>(
      std::max<size_t>(1, std::min<size_t>(options.messages, kThroughputBytesCap / payload_bytes)));
  run_in_fiber([&](RealRuntime& runtime) {
    LoopbackPair pair(runtime);
    const std::string payload(payload_bytes, 'p');
    // A window keeps the sender within the per-peer queue bound, so nothing is dropped.
    const int window = static_cast<int>(std::min<size_t>(
        server::kMaxQueuedMessagesPerPeer / 2, server::kMaxQueuedBytesPerPeer / 2 / payload_bytes));
    int received = 0;
    runtime.spawn("receiver", [&] {
      while (received < messages && pair.two->receive(std::nullopt)) ++received;
    });
    const Instant start = runtime.now();
    const double cpu_start = cpu_seconds();
    for (int sent = 0; sent < messages; ++sent) {
      while (sent - received >= window) runtime.yield();
      pair.one->send(NodeId(2), payload);
    }
    while (received < messages) runtime.yield();
    const double seconds = std::chrono::duration<double>(runtime.now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    std::printf(
        "peer-throughput payload=%zuB messages=%d seconds=%.3f msgs/s=%.0f MiB/s=%.1f "
        "cpu-seconds=%.3f msgs/cpu-s=%.0f MiB/cpu-s=%.1f\n",
        payload_bytes, messages, seconds, messages / seconds,
        messages * static_cast<double>(payload_bytes) / seconds / (1 << 20), cpu, messages / cpu,
        messages * static_cast<double>(payload_bytes) / cpu / (1 << 20));
  });
}

void bench_round_trips(const BenchOptions& options) {
  run_in_fiber([&](RealRuntime& runtime) {
    LoopbackPair pair(runtime);
    runtime.spawn("echo", [&] {
      for (;;) {
        std::optional<env::Message> ping = pair.two->receive(std::nullopt);
        if (!ping) return;
        pair.two->send(NodeId(1), std::move(ping->payload));
      }
    });
    std::vector<int64_t> nanoseconds;
    nanoseconds.reserve(options.round_trips);
    for (int i = 0; i < options.round_trips; ++i) {
      const Instant start = runtime.now();
      pair.one->send(NodeId(2), "ping");
      std::optional<env::Message> pong = pair.one->receive(std::nullopt);
      ASSERT(pong.has_value(), "an echo comes back on loopback");
      nanoseconds.push_back((runtime.now() - start).count());
    }
    std::sort(nanoseconds.begin(), nanoseconds.end());
    const auto at = [&](double quantile) {
      return nanoseconds[static_cast<size_t>(quantile * (nanoseconds.size() - 1))] / 1000.0;
    };
    std::printf("peer-round-trip count=%d p50=%.1fus p99=%.1fus max=%.1fus\n", options.round_trips,
                at(0.5), at(0.99), at(1.0));
    runtime.request_stop();
  });
}

void bench_fsync(const BenchOptions& options, bool on_helper_thread) {
  run_in_fiber([&](RealRuntime& runtime) {
    const std::string root = options.directory + "/lockstep-bench-fsync";
    Result<std::unique_ptr<server::PosixDisk>> disk =
        server::PosixDisk::open_root(root, on_helper_thread ? &runtime.sync_worker() : nullptr);
    ASSERT(disk.is_ok(), "the bench directory is writable");
    auto file = (*disk)->open("wal", env::OpenMode::kCreateReadWrite);
    ASSERT(file.is_ok(), "the bench file opens");
    // A 1 ms ticker stands for the rest of the process (heartbeats, sockets): with fdatasync
    // on the loop it cannot tick during a flush; on the helper thread it keeps its pace.
    int64_t ticks = 0;
    bool done = false;
    runtime.spawn("ticker", [&] {
      while (!done) {
        runtime.sleep_for(std::chrono::milliseconds(1));
        ++ticks;
      }
    });
    const std::string block(4096, 'w');
    const Instant start = runtime.now();
    for (int i = 0; i < options.syncs; ++i) {
      ASSERT((*file)->write(static_cast<uint64_t>(i) * block.size(), block).is_ok(), "write");
      ASSERT((*file)->sync().is_ok(), "fdatasync");
    }
    const double seconds = std::chrono::duration<double>(runtime.now() - start).count();
    done = true;
    std::printf(
        "fsync mode=%s dir=%s syncs=%d syncs/s=%.0f mean=%.1fus ticker-1ms-ticks=%lld of %.0f\n",
        on_helper_thread ? "helper-thread" : "on-loop", options.directory.c_str(), options.syncs,
        options.syncs / seconds, seconds * 1e6 / options.syncs, static_cast<long long>(ticks),
        seconds * 1000);
    file->reset();
    std::filesystem::remove_all(root);
  });
}

void add_bench_real_runtime_command(CLI::App& parent) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = parent.add_subcommand(
      "real-runtime", "TCP peer throughput/latency over loopback and fdatasync cost, per core");
  command->add_option("--messages", options->messages, "Messages per throughput run")
      ->check(CLI::PositiveNumber);
  command->add_option("--round-trips", options->round_trips, "Ping-pong round trips")
      ->check(CLI::PositiveNumber);
  command->add_option("--syncs", options->syncs, "4 KiB append+fdatasync pairs per mode")
      ->check(CLI::PositiveNumber);
  command->add_option("--dir", options->directory, "Directory on the disk to measure fsync on")
      ->check(CLI::ExistingDirectory);
  command->footer("Example: lockstep bench real-runtime --messages 100000 --dir /var/tmp");
  command->callback([options] {
    for (size_t payload_bytes : {64, 1024, 16 * 1024}) bench_throughput(*options, payload_bytes);
    bench_round_trips(*options);
    bench_fsync(*options, /*on_helper_thread=*/false);
    bench_fsync(*options, /*on_helper_thread=*/true);
  });
}

const CommandRegistration registration("bench", "real-runtime", add_bench_real_runtime_command);

}  // namespace
}  // namespace lockstep::cli
