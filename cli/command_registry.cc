#include "cli/command_registry.h"

#include <map>
#include <string>

namespace lockstep::cli {

namespace {

std::map<std::string, CommandAdder>& registry() {
  static std::map<std::string, CommandAdder> adders;
  return adders;
}

int& exit_code_storage() {
  static int code = 0;
  return code;
}

}  // namespace

CommandRegistration::CommandRegistration(std::string_view name, CommandAdder adder) {
  registry().emplace(std::string(name), adder);
}

void add_registered_commands(CLI::App& app) {
  for (const auto& [name, adder] : registry()) adder(app);
}

void set_exit_code(int code) { exit_code_storage() = code; }
int exit_code() { return exit_code_storage(); }

}  // namespace lockstep::cli
