#include "cli/command_registry.h"

#include <map>
#include <string>
#include <utility>

namespace lockstep::cli {

namespace {

using Key = std::pair<std::string, std::string>;  // (group, name)

std::map<Key, CommandAdder>& registry() {
  static std::map<Key, CommandAdder> adders;
  return adders;
}

int& exit_code_storage() {
  static int code = 0;
  return code;
}

std::string group_description(const std::string& group) {
  static const std::map<std::string, std::string> descriptions = {
      {"sim", "Run the simulated world: scenarios, exploration, replay, shrinking, self-test"},
      {"bench", "Benchmarks that print numbers (recorded in docs/BENCHMARKS.md)"},
      {"report", "Work with run reports"},
  };
  const auto found = descriptions.find(group);
  return found == descriptions.end() ? group + " commands" : found->second;
}

CLI::App& group_app(CLI::App& app, const std::string& group) {
  for (CLI::App* existing : app.get_subcommands({})) {
    if (existing->get_name() == group) return *existing;
  }
  CLI::App* created = app.add_subcommand(group, group_description(group));
  created->require_subcommand(1);
  return *created;
}

}  // namespace

CommandRegistration::CommandRegistration(std::string_view group, std::string_view name,
                                         CommandAdder adder) {
  registry().emplace(Key{std::string(group), std::string(name)}, adder);
}

void add_registered_commands(CLI::App& app) {
  for (const auto& [key, adder] : registry()) {
    const auto& [group, name] = key;
    adder(group.empty() ? app : group_app(app, group));
  }
}

void set_exit_code(int code) { exit_code_storage() = code; }
int exit_code() { return exit_code_storage(); }

}  // namespace lockstep::cli
