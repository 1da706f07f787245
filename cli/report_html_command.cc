// `lockstep report html DIR`: (re)builds DIR/report.html from a run directory, or
// DIR/index.html when DIR holds an exploration's index.json, and prints the page's path.
// Exit codes: 0 written, 2 bad input (a missing or malformed file, named in the message).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "reports/html_report.h"
#include "reports/index_report.h"

namespace lockstep::cli {
namespace {

constexpr int kExitBadInput = 2;

int run_report_html(const std::string& directory) {
  const std::filesystem::path root(directory);
  const bool is_index = std::filesystem::exists(root / reports::kIndexInputFile);
  const Status status =
      is_index ? reports::write_html_index(directory) : reports::write_html_report(directory);
  if (!status.is_ok()) {
    std::fprintf(stderr, "lockstep report html: %s\n", status.to_string().c_str());
    return kExitBadInput;
  }
  const std::filesystem::path page =
      root / (is_index ? reports::kIndexReportFile : reports::kReportFile);
  std::printf("%s\n", page.string().c_str());
  return 0;
}

void add_report_html_command(CLI::App& parent) {
  CLI::App* command = parent.add_subcommand(
      "html",
      "Write DIR/report.html for a run directory (or DIR/index.html for an exploration with "
      "index.json): one self-contained page to open in a browser\n"
      "Example: lockstep report html runs/leader-crash-seed-42");
  auto directory = std::make_shared<std::string>();
  command
      ->add_option("DIR", *directory,
                   "run directory (summary.json, history.jsonl, ...) or "
                   "exploration directory (index.json)")
      ->required();
  command->callback([directory] { set_exit_code(run_report_html(*directory)); });
}

const CommandRegistration registration("report", "html", add_report_html_command);

}  // namespace
}  // namespace lockstep::cli
