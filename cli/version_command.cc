// `lockstep version`: the build's version and which optional features it carries.
#include <cstdio>

#include "cli/command_registry.h"

namespace lockstep::cli {
namespace {

void add_version_command(CLI::App& parent) {
  CLI::App* command = parent.add_subcommand("version", "Print the version and build features");
  command->callback([] {
#ifdef LOCKSTEP_KNOWN_BUGS
    constexpr bool known_bugs = true;
#else
    constexpr bool known_bugs = false;
#endif
    std::printf("lockstep 0.1.0\nknown-bugs build: %s\n", known_bugs ? "yes" : "no");
  });
}

const CommandRegistration registration("", "version", add_version_command);

}  // namespace
}  // namespace lockstep::cli
