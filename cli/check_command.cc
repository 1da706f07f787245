// `lockstep check`: is a recorded history linearizable, and do its watch and lock records
// keep etcd's guarantees? Exit codes are the contract: 0 every check passed, 1 a violation,
// 2 bad input, 3 unknown (budget spent, no violation).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>

#include "checker/guarantee_records.h"
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
  std::string check = "all";
};

// Which checks run: `--check all` runs each one the file has records for.
struct ChecksToRun {
  bool linearizability = false;
  bool watch = false;
  bool lock = false;
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

int run_linearizability(const CheckFlags& flags, const Result<checker::History>& history) {
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

int run_watch_check(const checker::GuaranteeRecords& records) {
  const checker::WatchCheckResult result =
      checker::check_watches(records.write_log, records.watches);
  std::printf("watch: %s (%zu watches, %zu committed changes%s)\n", result.ok() ? "ok" : "violated",
              records.watches.size(), records.write_log.changes.size(),
              records.write_log.complete ? "" : ", write log incomplete");
  for (const checker::WatchViolation& violation : result.violations) {
    // The message names the watch already.
    std::printf("  [%s] %s\n",
                std::string(checker::watch_guarantee_name(violation.guarantee)).c_str(),
                violation.message.c_str());
  }
  return result.ok() ? kExitLinearizable : kExitNotLinearizable;
}

int run_lock_check(const checker::GuaranteeRecords& records) {
  const checker::LockCheckResult result =
      checker::check_locks(records.lock_holds, records.fenced_writes);
  std::printf("lock: %s (%zu holds, %zu fenced writes)\n", result.ok() ? "ok" : "violated",
              records.lock_holds.size(), records.fenced_writes.size());
  for (const checker::LockViolation& violation : result.violations) {
    // The message names the lock already.
    std::printf("  [%s] %s\n",
                std::string(checker::lock_guarantee_name(violation.guarantee)).c_str(),
                violation.message.c_str());
  }
  return result.ok() ? kExitLinearizable : kExitNotLinearizable;
}

// A violation anywhere decides; otherwise one unknown leaves the answer unknown.
int combine_exit_codes(int so_far, int next) {
  if (so_far == kExitNotLinearizable || next == kExitNotLinearizable) return kExitNotLinearizable;
  if (so_far == kExitUnknown || next == kExitUnknown) return kExitUnknown;
  return kExitLinearizable;
}

// Decides which checks run; an error message (exit 2) when an asked-for check has nothing
// to judge.
std::variant<ChecksToRun, std::string> choose_checks(const CheckFlags& flags,
                                                     const checker::History& history,
                                                     const checker::GuaranteeRecords& records) {
  const bool has_watch = records.has_write_log || !records.watches.empty();
  const bool has_lock = !records.lock_holds.empty() || !records.fenced_writes.empty();
  ChecksToRun checks;
  if (flags.check == "all") {
    // An empty history is trivially linearizable, so a file with nothing at all still says so.
    checks.linearizability = !history.operations.empty() || (!has_watch && !has_lock);
    checks.watch = has_watch;
    checks.lock = has_lock;
    return checks;
  }
  if (flags.check == "linearizability") checks.linearizability = true;
  if (flags.check == "watch") {
    if (!has_watch) return flags.file + " has no watch records (docs/HISTORY_FORMAT.md)";
    checks.watch = true;
  }
  if (flags.check == "lock") {
    if (!has_lock) return flags.file + " has no lock records (docs/HISTORY_FORMAT.md)";
    checks.lock = true;
  }
  return checks;
}

int run_check(const CheckFlags& flags) {
  std::optional<checker::HistoryFormat> format;
  if (!flags.format.empty()) {
    format = checker::history_format_from_name(flags.format);
    if (!format) return fail_input("unknown --format '" + flags.format + "'");
  }
  std::ifstream in(flags.file, std::ios::binary);
  if (!in) return fail_input("cannot read " + flags.file);
  std::ostringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  if (!format) format = checker::detect_history_format(text, flags.file);
  if (!format) {
    return fail_input(flags.file +
                      ": cannot tell the history format; pass --format jepsen|porcupine-kv|jsonl");
  }
  const Result<checker::History> history = checker::parse_history(text, *format, flags.file);
  if (!history.is_ok()) return fail_input(history.error().to_string());
  // Watch and lock records exist only in lockstep's own jsonl.
  checker::GuaranteeRecords records;
  if (*format == checker::HistoryFormat::kJsonl) {
    auto parsed = checker::parse_guarantee_records(text, flags.file);
    if (!parsed.is_ok()) return fail_input(parsed.error().to_string());
    records = std::move(*parsed);
  }
  const auto chosen = choose_checks(flags, *history, records);
  if (const auto* problem = std::get_if<std::string>(&chosen)) return fail_input(*problem);
  const ChecksToRun& checks = std::get<ChecksToRun>(chosen);

  int exit_code = kExitLinearizable;
  if (checks.linearizability) {
    const int code = run_linearizability(flags, history);
    if (code == kExitBadInput) return code;
    exit_code = combine_exit_codes(exit_code, code);
  }
  if (checks.watch) exit_code = combine_exit_codes(exit_code, run_watch_check(records));
  if (checks.lock) exit_code = combine_exit_codes(exit_code, run_lock_check(records));
  return exit_code;
}

void add_check_command(CLI::App& parent) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* command = parent.add_subcommand(
      "check",
      "Check a history: linearizability, watch guarantees, locks (exit 0 ok, 1 violation, 2 bad "
      "input, 3 unknown)");
  command->footer(
      "Formats: jepsen (Jepsen etcd register .log), porcupine-kv (Porcupine kv .txt),\n"
      "jsonl (lockstep's own, docs/HISTORY_FORMAT.md); detected from content when omitted.\n"
      "Models: cas-register, kv (per-key), etcd (revisions checked); the format's default\n"
      "when omitted. A jsonl history may also carry watch and lock records (a simulated\n"
      "run's history.jsonl does): --check all (the default) judges each kind present.\n\n"
      "Examples:\n"
      "  lockstep check ../shared/data/porcupine/jepsen/etcd_002.log\n"
      "  lockstep check ../shared/data/porcupine/kv/c10-bad.txt --html c10-bad.html\n"
      "  lockstep check run/history.jsonl --model etcd --timeout-ms 10000\n"
      "  lockstep check run/history.jsonl --check watch");
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
  command
      ->add_option("--check", flags->check,
                   "linearizability | watch | lock | all (default: every check the file has "
                   "records for)")
      ->check(CLI::IsMember({"linearizability", "watch", "lock", "all"}));
  command->callback([flags] { set_exit_code(run_check(*flags)); });
}

const CommandRegistration registration("", "check", add_check_command);

}  // namespace
}  // namespace lockstep::cli
