// `lockstep counter`: one member of the replicated grow-only counter (core/node) on the real
// runtime — real TCP peers, a real data directory with fdatasync — the same program the
// simulator runs in `lockstep sim` self-tests. It is the smallest end-to-end proof that node
// code written against env::Runtime runs unchanged on both worlds.
//
// Output (stdout, one flushed line per event, so a supervisor can follow it):
//   recovered own=<n> total=<t>   after reading the data directory (n: durable own count)
//   acked own=<n>                 increment n is durable (written and fdatasync'ed)
//   total=<t>                     the member's view of the sum changed
//   final own=<n> total=<t> counts=<id>:<count>,...   at exit (duration over or SIGTERM)
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/command_registry.h"
#include "core/node/replicated_counter.h"
#include "server/peer_address.h"
#include "server/posix_disk.h"
#include "server/real_runtime.h"
#include "server/tcp_network.h"

namespace lockstep::cli {
namespace {

struct CounterOptions {
  uint64_t id = 0;
  std::string peers;
  std::string data_dir;
  uint64_t increments = 100;
  int64_t duration_ms = 0;  // 0: until SIGTERM/SIGINT
  int64_t increment_interval_ms = 20;
  int64_t gossip_interval_ms = 50;
};

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  // Flushed per line: a supervisor that kill -9s this process must see every "acked" line
  // the process printed, since each one claims durability.
  std::fflush(stdout);
}

std::string describe_counts(const node::CounterSnapshot& snapshot) {
  std::string text;
  for (const auto& [member, count] : snapshot.counts) {
    if (!text.empty()) text += ",";
    text += std::to_string(member.value()) + ":" + std::to_string(count);
  }
  return text;
}

// Prints the observer's events; remembers the last snapshot for the final line.
class CounterReporter {
 public:
  void observe(const node::CounterSnapshot& snapshot) {
    using Reason = node::CounterSnapshot::Reason;
    if (snapshot.reason == Reason::kRecovered) {
      print_line("recovered own=" + std::to_string(snapshot.own_durable) +
                 " total=" + std::to_string(snapshot.total()));
    } else if (snapshot.reason == Reason::kIncremented) {
      print_line("acked own=" + std::to_string(snapshot.own_durable));
    }
    if (!last_ || last_->total() != snapshot.total()) {
      print_line("total=" + std::to_string(snapshot.total()));
    }
    last_ = snapshot;
  }

  void print_final() const {
    if (!last_) {
      print_line("final own=0 total=0 counts=");
      return;
    }
    print_line("final own=" + std::to_string(last_->own_durable) +
               " total=" + std::to_string(last_->total()) + " counts=" + describe_counts(*last_));
  }

 private:
  std::optional<node::CounterSnapshot> last_;
};

// Builds the runtime with its network and disk; a clear error for bad input.
Result<std::unique_ptr<server::RealRuntime>> build_runtime(const CounterOptions& options,
                                                           node::CounterConfig& config) {
  Result<std::map<NodeId, server::PeerAddress>> peers = server::parse_peer_list(options.peers);
  if (!peers.is_ok()) return peers.error();
  const NodeId self(options.id);
  if (!peers->contains(self)) {
    return Error(ErrorCode::kInvalidInput,
                 "--id " + std::to_string(options.id) + " is not in --peers " + options.peers);
  }
  for (const auto& [member, address] : *peers) config.members.push_back(member);
  config.target_increments = options.increments;
  config.increment_interval = std::chrono::milliseconds(options.increment_interval_ms);
  config.gossip_interval = std::chrono::milliseconds(options.gossip_interval_ms);
  RETURN_IF_ERROR(node::validate_counter_config(config, self));

  server::RealRuntimeOptions runtime_options;
  runtime_options.self = self;  // seed: fresh from getrandom; trace lines: stderr
  auto runtime = std::make_unique<server::RealRuntime>(runtime_options);
  RETURN_IF_ERROR(runtime->stop_on_signals());
  Result<std::unique_ptr<server::PosixDisk>> disk =
      server::PosixDisk::open_root(options.data_dir, &runtime->sync_worker());
  if (!disk.is_ok()) return disk.error();
  runtime->set_disk(std::move(disk).value());
  server::TcpNetworkOptions network_options;
  network_options.self = self;
  network_options.peers = std::move(peers).value();
  Result<std::unique_ptr<server::TcpNetwork>> network =
      server::TcpNetwork::start(runtime->loop(), *runtime, std::move(network_options));
  if (!network.is_ok()) return network.error();
  runtime->set_network(std::move(network).value());
  return runtime;
}

void run_counter(const CounterOptions& options) {
  node::CounterConfig config;
  Result<std::unique_ptr<server::RealRuntime>> built = build_runtime(options, config);
  if (!built.is_ok()) {
    std::fprintf(stderr, "lockstep counter: %s\n", built.error().to_string().c_str());
    set_exit_code(2);
    return;
  }
  server::RealRuntime& runtime = **built;
  CounterReporter reporter;
  runtime.spawn("counter", [&] {
    node::run_replicated_counter(runtime, config, [&](const node::CounterSnapshot& snapshot) {
      reporter.observe(snapshot);
    });
  });
  if (options.duration_ms > 0) {
    runtime.spawn("duration", [&] {
      runtime.sleep_for(std::chrono::milliseconds(options.duration_ms));
      runtime.request_stop();
    });
  }
  runtime.run();
  reporter.print_final();
}

void add_counter_command(CLI::App& parent) {
  auto options = std::make_shared<CounterOptions>();
  CLI::App* command = parent.add_subcommand(
      "counter",
      "Run one member of the replicated counter demo on real sockets and disk (the same "
      "core/node program the simulator runs)");
  command->add_option("--id", options->id, "This member's id (must appear in --peers)")
      ->required()
      ->check(CLI::PositiveNumber);
  command->add_option("--peers", options->peers, "Every member as id=host:port,...")->required();
  command->add_option("--data-dir", options->data_dir, "Directory for this member's state")
      ->required();
  command->add_option("--increments", options->increments, "Durable increments to make")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--duration-ms", options->duration_ms,
                   "Stop after this many milliseconds (default: run until SIGTERM/SIGINT)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--increment-interval-ms", options->increment_interval_ms,
                   "Pause between increments")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--gossip-interval-ms", options->gossip_interval_ms,
                   "Pause between gossip rounds")
      ->check(CLI::PositiveNumber);
  command->footer(
      "Example (three terminals, one member each):\n"
      "  lockstep counter --id 1 --peers 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 "
      "--data-dir /tmp/counter-1 --increments 100\n"
      "Each prints 'acked own=N' once increment N is durable and 'total=T' as gossip arrives; "
      "kill -9 one and restart it with the same --data-dir: it recovers every acked increment.");
  command->callback([options] { run_counter(*options); });
}

const CommandRegistration registration("", "counter", add_counter_command);

}  // namespace
}  // namespace lockstep::cli
