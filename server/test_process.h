#pragma once

#include <string>
#include <utility>

#include "core/base/error.h"

namespace lockstep::server {

// Tests only: what the tests that run real servers (Debian's etcd 3.4, `lockstep serve`) as
// child processes share.

// A TCP port on 127.0.0.1 that is free now, chosen at random BELOW the kernel's ephemeral
// range: a port from bind(0) lies inside it, and between the test releasing it and the server
// binding it, any outgoing connection may be given it as its local port (tests/daemon's
// free_ports does the same).
int pick_free_port();

// Runs `command` with /bin/sh; its exit status (-1 if it did not exit) and its stdout.
std::pair<int, std::string> run_command(const std::string& command);

// Debian's etcd: $LOCKSTEP_ETCD_BINARY, else `etcd` on the PATH, else the path CMake found at
// configure time, else /usr/bin/etcd (etcd-server's). kIoError naming every place looked at.
Result<std::string> find_etcd_binary();

// A single-member etcd 3.4 started with scripts/etcd-reference.sh in `directory` on free ports
// (with the found etcd first on the PATH); its client endpoint (host:port), or an error with
// the script's output. stop_reference_etcd stops it and removes `directory`.
Result<std::string> start_reference_etcd(const std::string& directory);
void stop_reference_etcd(const std::string& directory);

}  // namespace lockstep::server
