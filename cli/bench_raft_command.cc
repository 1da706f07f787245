// `lockstep bench raft`: throughput of the sans-IO Raft core (core/raft) on this machine, in
// one process with an in-memory network: replication of batched proposals through a
// 3/5-member group (persist-then-send discipline, log compaction as it grows), the same with
// the invariant checker after every delivered message, leadership transfers, and the
// message codec. Prints numbers; asserts nothing. The wall clock is read here, in cli/.
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "core/raft/bootstrap.h"
#include "core/raft/invariants.h"
#include "core/raft/message_codec.h"
#include "core/raft/raw_node.h"

namespace lockstep::cli {
namespace {

using namespace lockstep::raft;

struct BenchOptions {
  int proposals = 200'000;
  int batch = 64;
  int payload_bytes = 128;
  int transfers = 2'000;
  uint64_t compact_every_entries = 20'000;
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

// A group of RawNodes over a FIFO in-memory network.
class Group {
 public:
  Group(size_t size, bool check_invariants) : check_invariants_(check_invariants) {
    ConfState initial;
    for (uint64_t id = 1; id <= size; ++id) initial.voters.emplace_back(id);
    for (uint64_t id = 1; id <= size; ++id) {
      auto member = std::make_unique<Member>();
      const Status booted = bootstrap(member->storage, initial);
      ASSERT(booted.is_ok(), "bootstrap of empty storage");
      RaftConfig config;
      config.id = NodeId(id);
      config.storage = &member->storage;
      config.random = Random(id);
      member->node = std::move(RawNode::create(config).value());
      members_.push_back(std::move(member));
    }
    pump();
  }

  RawNode& node(size_t index) { return *members_[index]->node; }
  size_t size() const { return members_.size(); }
  uint64_t messages() const { return messages_; }
  uint64_t applied(size_t index) const { return members_[index]->applied; }

  size_t leader() const {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i]->node->raft().role() == RoleKind::kLeader) return i;
    }
    return members_.size();
  }

  // Processes every Ready and delivers every message until the group is quiet.
  void pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& member : members_) busy |= process(*member);
      while (!network_.empty()) {
        Message message = std::move(network_.front());
        network_.pop_front();
        ++messages_;
        (void)members_[message.to.value() - 1]->node->step(std::move(message));
        process(*members_[message.to.value() - 1]);
        if (check_invariants_) check();
        busy = true;
      }
    }
  }

  std::optional<std::string> violation() const { return violation_; }

 private:
  struct Member {
    MemoryStorage storage;
    std::unique_ptr<RawNode> node;
    uint64_t applied = 0;
    uint64_t compacted = 0;
  };

  bool process(Member& member) {
    if (!member.node->has_ready()) return false;
    Ready ready = member.node->ready();
    if (!ready.snapshot.empty()) (void)member.storage.apply_snapshot(ready.snapshot);
    (void)member.storage.append(ready.entries);
    if (ready.hard_state) member.storage.set_hard_state(*ready.hard_state);
    for (Message& message : ready.messages) network_.push_back(std::move(message));
    for (const Entry& entry : ready.committed_entries) {
      if (entry.type == EntryType::kConfChange) {
        Result<ConfChange> change = decode_conf_change(entry.data);
        (void)member.node->apply_conf_change(*change);
      }
      member.applied = entry.index.value();
    }
    member.node->advance();
    if (member.applied - member.compacted >= kCompactEvery) {
      const LogIndex index(member.applied);
      if (member.storage
              .create_snapshot(index, member.node->raft().membership().to_conf_state(), "")
              .is_ok()) {
        (void)member.storage.compact(index);
        member.compacted = member.applied;
      }
    }
    return true;
  }

  void check() {
    std::vector<NodeObservation> observations;
    for (auto& member : members_) {
      const Raft& raft = member->node->raft();
      observations.push_back(NodeObservation{.id = raft.id(),
                                             .role = raft.role(),
                                             .term = raft.term(),
                                             .commit = raft.log().committed(),
                                             .persisted = member->storage.hard_state(),
                                             .log = &raft.log()});
    }
    if (auto found = checker_.check(observations); found && !violation_) violation_ = found;
  }

  static constexpr uint64_t kCompactEvery = 20'000;
  std::vector<std::unique_ptr<Member>> members_;
  std::deque<Message> network_;
  uint64_t messages_ = 0;
  bool check_invariants_;
  InvariantChecker checker_;
  std::optional<std::string> violation_;
};

void bench_replication(const BenchOptions& options, size_t size, bool check_invariants,
                       int proposals) {
  Group group(size, check_invariants);
  group.node(0).campaign();
  group.pump();
  const std::string payload(static_cast<size_t>(options.payload_bytes), 'p');
  const uint64_t start_applied = group.applied(0);
  const uint64_t start_messages = group.messages();
  Stopwatch stopwatch;
  for (int sent = 0; sent < proposals;) {
    for (int i = 0; i < options.batch && sent < proposals; ++i, ++sent) {
      const Status status = group.node(0).propose(payload);
      ASSERT(status.is_ok(), "the leader accepts proposals");
    }
    group.node(0).tick();  // heartbeats interleave as they would in a running cluster
    group.pump();
  }
  const double seconds = stopwatch.seconds();
  const uint64_t committed = group.applied(size - 1) - start_applied;
  const uint64_t messages = group.messages() - start_messages;
  std::printf(
      "replicate nodes=%zu invariants=%-3s proposals=%-7llu seconds=%-7.3f proposals/s=%-9.0f "
      "messages/s=%-9.0f MB/s=%-7.1f%s\n",
      size, check_invariants ? "on" : "off", static_cast<unsigned long long>(committed), seconds,
      committed / seconds, messages / seconds,
      committed * static_cast<double>(options.payload_bytes) / seconds / 1e6,
      group.violation() ? (" VIOLATION: " + *group.violation()).c_str() : "");
}

void bench_transfers(const BenchOptions& options) {
  Group group(5, false);
  group.node(0).campaign();
  group.pump();
  Stopwatch stopwatch;
  int done = 0;
  for (; done < options.transfers; ++done) {
    const size_t leader = group.leader();
    const NodeId target((leader + 1) % group.size() + 1);
    (void)group.node(leader).transfer_leadership(target);
    group.pump();
  }
  const double seconds = stopwatch.seconds();
  std::printf(
      "transfer nodes=5 transfers=%-6d seconds=%-7.3f transfers/s=%-8.0f us/transfer=%.1f\n", done,
      seconds, done / seconds, seconds * 1e6 / done);
}

void bench_codec(const BenchOptions& options) {
  Message append{.type = MessageType::kAppend,
                 .from = NodeId(1),
                 .to = NodeId(2),
                 .term = Term(5),
                 .log_term = Term(5),
                 .index = LogIndex(1'000'000),
                 .commit = LogIndex(999'990)};
  for (int i = 0; i < options.batch; ++i) {
    append.entries.push_back(
        Entry{.term = Term(5),
              .index = LogIndex(1'000'001 + i),
              .data = std::string(static_cast<size_t>(options.payload_bytes), 'e')});
  }
  constexpr int kRounds = 20'000;
  size_t bytes = 0;
  Stopwatch encode_watch;
  std::string encoded;
  for (int i = 0; i < kRounds; ++i) {
    encoded = encode_message(append);
    bytes += encoded.size();
  }
  const double encode_seconds = encode_watch.seconds();
  Stopwatch decode_watch;
  for (int i = 0; i < kRounds; ++i) {
    Result<Message> decoded = decode_message(encoded);
    ASSERT(decoded.is_ok(), "round trip");
  }
  const double decode_seconds = decode_watch.seconds();
  std::printf("codec append entries=%d message_bytes=%zu encode_MB/s=%-8.0f decode_MB/s=%-8.0f\n",
              options.batch, encoded.size(), bytes / encode_seconds / 1e6,
              bytes / decode_seconds / 1e6);
}

void add_bench_raft_command(CLI::App& parent) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = parent.add_subcommand(
      "raft",
      "Throughput of the Raft core: replication (3 and 5 members, with and without the "
      "invariant checker), leadership transfers, message codec.\n"
      "Example: lockstep bench raft --proposals 200000 --batch 64 --payload-bytes 128");
  command->add_option("--proposals", options->proposals, "Proposals per replication run")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--batch", options->batch,
                   "Proposals per leader round (and entries per "
                   "append in the codec bench)")
      ->check(CLI::PositiveNumber);
  command->add_option("--payload-bytes", options->payload_bytes, "Bytes per proposal")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--transfers", options->transfers, "Leadership transfers to time")
      ->check(CLI::PositiveNumber);
  command->callback([options] {
    bench_replication(*options, 3, false, options->proposals);
    bench_replication(*options, 5, false, options->proposals);
    bench_replication(*options, 5, true, std::max(1, options->proposals / 10));
    bench_transfers(*options);
    bench_codec(*options);
  });
}

const CommandRegistration registration("bench", "raft", add_bench_raft_command);

}  // namespace
}  // namespace lockstep::cli
