// `lockstep bench mvcc`: throughput of the MVCC state machine (core/mvcc) over the in-memory
// backend on this machine: puts, compare-and-swap txns, point and range reads, compaction,
// watch fan-out, reboot (index rebuild) and snapshot install. Prints numbers; asserts nothing.
// The wall clock is read here, in cli/, never inside core/.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "core/base/random.h"
#include "core/mvcc/memory_backend.h"
#include "core/mvcc/state_machine.h"

namespace lockstep::cli {
namespace {

using namespace lockstep::mvcc;

struct BenchOptions {
  int operations = 200'000;
  int keys = 10'000;
  int value_bytes = 100;
  int watchers = 1'000;
  uint64_t seed = 1;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

std::string key_name(uint64_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "key/%08llu", static_cast<unsigned long long>(index));
  return buffer;
}

void report(const char* name, int operations, double seconds, const std::string& extra = "") {
  std::printf("%-22s ops=%-8d seconds=%-8.3f ops/s=%-10.0f us/op=%-8.2f %s\n", name, operations,
              seconds, operations / seconds, seconds * 1e6 / operations, extra.c_str());
}

// One member's state machine, applying at consecutive indexes.
struct Machine {
  MemoryBackend backend;
  std::unique_ptr<StateMachine> state = std::make_unique<StateMachine>(backend);
  LogIndex index{0};

  void apply(const ApplyRequest& request) {
    index = index.next();
    Result<ApplyOutcome> outcome = state->apply(index, request);
    ASSERT(outcome.is_ok(), "the in-memory backend does not fail");
    ASSERT(outcome->response.is_ok(), "benchmark requests are valid");
  }
};

void fill(Machine& machine, const BenchOptions& options, Random& random) {
  const std::string value(static_cast<size_t>(options.value_bytes), 'v');
  for (int operation = 0; operation < options.operations; ++operation) {
    machine.apply(PutRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys))),
                             .value = value});
  }
}

void bench_puts(const BenchOptions& options) {
  Machine machine;
  Random random(options.seed);
  Stopwatch stopwatch;
  fill(machine, options, random);
  report("put", options.operations, stopwatch.seconds(),
         "keys=" + std::to_string(options.keys) +
             " backend_bytes=" + std::to_string(machine.backend.size_bytes()));
}

void bench_cas_txns(const BenchOptions& options) {
  Machine machine;
  Random random(options.seed);
  const std::string value(static_cast<size_t>(options.value_bytes), 'v');
  for (int key = 0; key < options.keys; ++key) {
    machine.apply(PutRequest{.key = key_name(static_cast<uint64_t>(key)), .value = value});
  }
  int succeeded = 0;
  Stopwatch stopwatch;
  for (int operation = 0; operation < options.operations; ++operation) {
    const std::string key = key_name(random.below(static_cast<uint64_t>(options.keys)));
    Result<RangeResponse> current = machine.state->range(RangeRequest{.key = key});
    TxnRequest txn;
    txn.compare = {Compare{.result = CompareResult::kEqual,
                           .target = CompareTarget::kMod,
                           .key = key,
                           .mod_revision = current->kvs.at(0).mod_revision}};
    txn.success = {put_op({.key = key, .value = value})};
    txn.failure = {range_op({.key = key})};
    machine.index = machine.index.next();
    Result<ApplyOutcome> outcome = machine.state->apply(machine.index, txn);
    if (std::get<TxnResponse>(*outcome->response).succeeded) ++succeeded;
  }
  report("txn-cas (get+txn)", options.operations, stopwatch.seconds(),
         "succeeded=" + std::to_string(succeeded));
}

void bench_reads(const BenchOptions& options) {
  Machine machine;
  Random random(options.seed);
  fill(machine, options, random);
  Stopwatch point;
  for (int operation = 0; operation < options.operations; ++operation) {
    Result<RangeResponse> response = machine.state->range(
        RangeRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys)))});
    ASSERT(response.is_ok(), "reads at the current revision succeed");
  }
  report("range-point", options.operations, point.seconds());
  const int range_reads = std::max(1, options.operations / 100);
  Stopwatch ranged;
  for (int operation = 0; operation < range_reads; ++operation) {
    Result<RangeResponse> response = machine.state->range(
        RangeRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys))),
                     .range_end = std::string(1, '\0'),
                     .limit = 100});
    ASSERT(response.is_ok(), "reads at the current revision succeed");
  }
  report("range-100-limit", range_reads, ranged.seconds(), "(count walks the whole range)");
  Stopwatch historical;
  const int64_t current = machine.state->current_revision().value();
  for (int operation = 0; operation < options.operations; ++operation) {
    Result<RangeResponse> response = machine.state->range(
        RangeRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys))),
                     .revision = Revision(random.between(1, current))});
    ASSERT(response.is_ok(), "nothing was compacted");
  }
  report("range-historical", options.operations, historical.seconds());
}

void bench_compaction_reboot_snapshot(const BenchOptions& options) {
  Machine machine;
  Random random(options.seed);
  fill(machine, options, random);
  const size_t before = machine.backend.revision_count();
  Stopwatch compaction;
  machine.apply(CompactionRequest{.revision = machine.state->current_revision()});
  report("compact-all", 1, compaction.seconds(),
         "records_before=" + std::to_string(before) +
             " after=" + std::to_string(machine.backend.revision_count()));

  Stopwatch reboot;
  machine.state = std::make_unique<StateMachine>(machine.backend);
  ASSERT(machine.state->restore().is_ok(), "the in-memory backend does not fail");
  report("reboot-restore", 1, reboot.seconds(),
         "keys=" + std::to_string(machine.state->kv().key_count()));

  Stopwatch snapshot;
  Result<std::string> image = machine.state->snapshot();
  MemoryBackend target_backend;
  StateMachine target(target_backend);
  ASSERT(target.install_snapshot(*image).is_ok(), "a fresh image installs");
  report("snapshot-dump+install", 1, snapshot.seconds(),
         "image_bytes=" + std::to_string(image->size()));
}

void bench_watch_fan_out(const BenchOptions& options) {
  Machine machine;
  Random random(options.seed);
  WatchHub& hub = machine.state->watch_hub();
  for (int watcher = 0; watcher < options.watchers; ++watcher) {
    hub.create(
        WatchCreateRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys)))});
  }
  for (int prefix = 0; prefix < 10; ++prefix) {
    hub.create(WatchCreateRequest{.key = "key/", .range_end = "key0", .prev_kv = true});
  }
  const std::string value(static_cast<size_t>(options.value_bytes), 'v');
  size_t events = 0;
  Stopwatch stopwatch;
  for (int operation = 0; operation < options.operations; ++operation) {
    machine.apply(PutRequest{.key = key_name(random.below(static_cast<uint64_t>(options.keys))),
                             .value = value});
    if (operation % 64 == 63) {
      Result<std::vector<WatchResponse>> taken = hub.take_responses(1u << 20);
      for (const WatchResponse& response : *taken) events += response.events.size();
    }
  }
  while (true) {
    Result<std::vector<WatchResponse>> taken = hub.take_responses(1u << 20);
    if (taken->empty()) break;
    for (const WatchResponse& response : *taken) events += response.events.size();
  }
  report("put+watch-fan-out", options.operations, stopwatch.seconds(),
         "watchers=" + std::to_string(options.watchers) +
             "+10 prefix events=" + std::to_string(events));
  // A late watcher from revision 2 catching up over the whole history from the backend.
  hub.create(WatchCreateRequest{.key = "key/", .range_end = "key0", .start_revision = Revision(2)});
  size_t replayed = 0;
  Stopwatch catch_up;
  while (true) {
    Result<std::vector<WatchResponse>> taken = hub.take_responses(1u << 20);
    if (taken->empty()) break;
    for (const WatchResponse& response : *taken) replayed += response.events.size();
  }
  report("watch-catch-up", static_cast<int>(replayed), catch_up.seconds(), "(events replayed)");
}

void add_bench_mvcc_command(CLI::App& parent) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = parent.add_subcommand(
      "mvcc", "MVCC state machine throughput: put, txn, range, compaction, watch, reboot");
  command->add_option("--operations", options->operations, "Operations per measurement")
      ->check(CLI::PositiveNumber);
  command->add_option("--keys", options->keys, "Distinct keys written")->check(CLI::PositiveNumber);
  command->add_option("--value-bytes", options->value_bytes, "Bytes per value")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--watchers", options->watchers, "Single-key watchers for the fan-out run")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--seed", options->seed, "Seed for the key choice");
  command->footer("Example: lockstep bench mvcc --operations 100000 --keys 5000");
  command->callback([options] {
    bench_puts(*options);
    bench_cas_txns(*options);
    bench_reads(*options);
    bench_compaction_reboot_snapshot(*options);
    bench_watch_fan_out(*options);
  });
}

const CommandRegistration registration("bench", "mvcc", add_bench_mvcc_command);

}  // namespace
}  // namespace lockstep::cli
