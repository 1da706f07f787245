// lockstep: deterministic simulation testing for an etcd-compatible store, and the store.
#include <CLI/CLI.hpp>

#include "cli/command_registry.h"

int main(int argc, char** argv) {
  CLI::App app{
      "lockstep: an etcd-compatible Raft + MVCC store and the deterministic simulator that "
      "tests it",
      "lockstep"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lockstep 0.1.0");
  lockstep::cli::add_registered_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 uses exit code 0 for --help; bad flags become exit code 2, like other bad input.
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  return lockstep::cli::exit_code();
}
