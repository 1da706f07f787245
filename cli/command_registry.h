#pragma once

#include <CLI/CLI.hpp>

#include <string_view>

namespace lockstep::cli {

// Adds one subcommand (with its options and callback) to `parent`.
using CommandAdder = void (*)(CLI::App& parent);

// A *_command.cc file registers its subcommand with a file-scope CommandRegistration, so a
// new command needs no edit to a shared file. `group` is "" for a top-level command, or the
// name of a command group ("sim", "bench", "report") that several files add to. Commands are
// added in (group, name) order, whatever the link order.
struct CommandRegistration {
  CommandRegistration(std::string_view group, std::string_view name, CommandAdder adder);
};

void add_registered_commands(CLI::App& app);

// The process exit code a command's callback wants (default 0). Exit codes are part of each
// command's contract (e.g. `check`: 0 linearizable, 1 not, 2 bad input, 3 unknown).
void set_exit_code(int code);
int exit_code();

}  // namespace lockstep::cli
