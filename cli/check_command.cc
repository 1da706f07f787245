// `lockstep check`: is a recorded history linearizable? Exit codes are the contract:
// 0 linearizable, 1 not linearizable, 2 bad input, 3 unknown (budget spent).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "checker/history_format.h"
#include "checker/history_view.h"
#include "checker/linearizability.h"
#include "checker/shrink.h"
#include "cli/command_registry.h"

namespace lockstep::cli {
namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitUnknown = 3;
// The shrinker has a budget of its own (the verdict is already printed when it starts).
constexpr uint64_t kShrinkStepsPerCheck = 100'000;
constexpr size_t kShrinkMaxChecks = 600;

struct CheckFlags {
  std::string file;
  std::string format;
  std::string model;
  int64_t timeout_ms = 0;
  uint64_t max_steps = 0;
  bool no_partition = false;
  std::string html;
  bool quiet = false;
  bool no_shrink = false;
};

int fail_input(const std::string& message) {
  std::fprintf(stderr, "lockstep check: %s\n", message.c_str());
  return kExitBadInput;
}

void print_violation(const checker::History& history, const checker::PartitionVerdict& part) {
  if (!part.name.empty()) std::printf("  partition: key \"%s\"\n", part.name.c_str());
  std::printf("  operations in partition: %zu, longest linearizable prefix: %zu\n",
              part.operations.size(), part.longest_prefix.size());
  if (part.blocked_operation) {
    const checker::Operation& op = history.operations[*part.blocked_operation];
    std::printf("  cannot linearize: client %lld %s (line %lld)\n",
                static_cast<long long>(op.client), checker::describe_operation(op).c_str(),
                static_cast<long long>(op.source_line));
  }
}

int run_check(const CheckFlags& flags) {
  std::optional<checker::HistoryFormat> format;
  if (!flags.format.empty()) {
    format = checker::history_format_from_name(flags.format);
    if (!format) return fail_input("unknown --format '" + flags.format + "'");
  }
  auto history = checker::read_history_file(flags.file, format);
  if (!history.is_ok()) return fail_input(history.error().to_string());
  const std::string model_name =
      flags.model.empty() ? std::string(checker::default_model_for(*history)) : flags.model;
  const auto model = checker::make_model(model_name);
  if (!model) return fail_input("unknown model '" + model_name + "' (cas-register, kv, etcd)");

  checker::CheckOptions options;
  options.partition = !flags.no_partition;
  options.max_steps = flags.max_steps;
  // The only clock: cli/ owns it and hands the checker a predicate, so checker/ stays
  // deterministic (same history + same step budget = same answer).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(flags.timeout_ms);
  if (flags.timeout_ms > 0) {
    options.should_stop = [deadline] { return std::chrono::steady_clock::now() >= deadline; };
  }
  auto result = checker::check_linearizability(*history, *model, options);
  if (!result.is_ok()) return fail_input(result.error().to_string());

  std::printf("%s\n", std::string(checker::verdict_name(result->verdict)).c_str());
  if (!flags.quiet) {
    std::printf("  model: %s, operations: %zu, partitions checked: %zu, search steps: %llu\n",
                model_name.c_str(), history->operations.size(), result->partitions.size(),
                static_cast<unsigned long long>(result->steps));
  }
  std::optional<checker::ShrinkResult> shrunk;
  if (result->verdict == checker::Verdict::kNotLinearizable) {
    const checker::PartitionVerdict& part = result->partitions.back();
    print_violation(*history, part);
  }
  std::fflush(stdout);
  if (result->verdict == checker::Verdict::kNotLinearizable && !flags.no_shrink) {
    const checker::PartitionVerdict& part = result->partitions.back();
    checker::ShrinkOptions shrink_options;
    shrink_options.steps_per_check = kShrinkStepsPerCheck;
    shrink_options.max_checks = kShrinkMaxChecks;
    shrink_options.should_stop = options.should_stop;
    shrunk = checker::shrink_violation(*history, *model, part.operations, shrink_options);
    std::printf("  %s failing sub-history (%zu operations, %zu checks):\n",
                shrunk->minimal ? "minimal" : "smaller (shrink budget spent)",
                shrunk->operations.size(), shrunk->checks);
    for (uint32_t index : shrunk->operations) {
      const checker::Operation& op = history->operations[index];
      std::printf("    client %lld [%lld, %s] %s\n", static_cast<long long>(op.client),
                  static_cast<long long>(op.invoke_time),
                  op.indeterminate ? "?" : std::to_string(op.return_time).c_str(),
                  checker::describe_operation(op).c_str());
    }
  }
  if (!flags.html.empty()) {
    std::ofstream out(flags.html, std::ios::binary);
    if (!out) return fail_input("cannot write " + flags.html);
    out << checker::render_history_html(*history, *result, shrunk ? &*shrunk : nullptr);
    if (!out) return fail_input("cannot write " + flags.html);
    if (!flags.quiet) std::printf("  visualisation: %s\n", flags.html.c_str());
  }
  switch (result->verdict) {
    case checker::Verdict::kLinearizable:
      return kExitLinearizable;
    case checker::Verdict::kNotLinearizable:
      return kExitNotLinearizable;
    case checker::Verdict::kUnknown:
      return kExitUnknown;
  }
  return kExitUnknown;
}

void add_check_command(CLI::App& parent) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* command = parent.add_subcommand(
      "check", "Check a history for linearizability (exit 0 yes, 1 no, 2 bad input, 3 unknown)");
  command->footer(
      "Formats: jepsen (Jepsen etcd register .log), porcupine-kv (Porcupine kv .txt),\n"
      "jsonl (lockstep's own, docs/HISTORY_FORMAT.md); detected from content when omitted.\n"
      "Models: cas-register, kv (per-key), etcd (revisions checked); the format's default\n"
      "when omitted.\n\n"
      "Examples:\n"
      "  lockstep check ../shared/data/porcupine/jepsen/etcd_002.log\n"
      "  lockstep check ../shared/data/porcupine/kv/c10-bad.txt --html c10-bad.html\n"
      "  lockstep check run/history.jsonl --model etcd --timeout-ms 10000");
  command->add_option("file", flags->file, "History file")->required();
  command->add_option("--format", flags->format, "jepsen | porcupine-kv | jsonl")
      ->check(CLI::IsMember({"jepsen", "porcupine-kv", "jsonl"}));
  command->add_option("--model", flags->model, "cas-register | kv | etcd")
      ->check(CLI::IsMember({"cas-register", "kv", "etcd"}));
  command
      ->add_option("--timeout-ms", flags->timeout_ms,
                   "Give up with 'unknown' (exit 3) after this long; 0 = no limit")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--max-steps", flags->max_steps,
                      "Give up with 'unknown' after this many search steps; 0 = no limit");
  command->add_flag("--no-partition", flags->no_partition,
                    "Search the whole history at once instead of per key");
  command->add_option("--html", flags->html,
                      "Write a self-contained HTML view of the history and the verdict");
  command->add_flag("--quiet", flags->quiet, "Print only the verdict");
  command->add_flag("--no-shrink", flags->no_shrink,
                    "Do not search for a minimal failing sub-history");
  command->callback([flags] { set_exit_code(run_check(*flags)); });
}

const CommandRegistration registration("", "check", add_check_command);

}  // namespace
}  // namespace lockstep::cli
