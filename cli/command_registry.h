#pragma once

#include <CLI/CLI.hpp>

#include <string_view>

namespace lockstep::cli {

// Adds one top-level subcommand (and its own subcommands) to the app.
using CommandAdder = void (*)(CLI::App& app);

// A *_command.cc file registers its subcommand with a file-scope CommandRegistration, so new
// commands need no edit to main.cc. Commands are added in name order, whatever the link order.
struct CommandRegistration {
  CommandRegistration(std::string_view name, CommandAdder adder);
};

void add_registered_commands(CLI::App& app);

// The process exit code a command's callback wants (default 0). Exit codes are part of each
// command's contract (e.g. `check`: 0 linearizable, 1 not, 2 bad input, 3 unknown).
void set_exit_code(int code);
int exit_code();

}  // namespace lockstep::cli
