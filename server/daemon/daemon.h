#pragma once

#include "core/base/error.h"
#include "server/daemon/daemon_options.h"

namespace lockstep::daemon {

// Runs one member until SIGTERM/SIGINT or until the member stops (removed from the cluster,
// or a storage failure it must not survive), on the real runtime:
//   - RealRuntime (epoll loop + fibers) with TcpNetwork to the peers on the peer URL's port,
//   - PosixDisk over --data-dir with the SyncWorker running fdatasync off the loop,
//   - store's RaftPersistence (WAL + snapshots) and SqliteBackend (MVCC) on that disk,
//   - core/node's Member, and server/api's ApiServer (etcd's gRPC KV/Lease/Watch, and the
//     JSON gateway when a gateway port is given) over MemberClientApi.
// Prints one "ready" line to stderr once the client port is listening. Returns the member's
// stop reason: ok after a signal or a removal, an error for boot or storage failures.
Status run_daemon(const DaemonPlan& plan);

}  // namespace lockstep::daemon
