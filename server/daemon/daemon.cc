#include "server/daemon/daemon.h"

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "core/node/member.h"
#include "server/api/api_server.h"
#include "server/daemon/daemon_admin_api.h"
#include "server/daemon/local_client_network.h"
#include "server/daemon/member_client_api.h"
#include "server/posix_disk.h"
#include "server/real_runtime.h"
#include "server/tcp_network.h"
#include "store/raft_persistence.h"
#include "store/raft_storage_adapter.h"
#include "store/sqlite_backend.h"
#include "store/sqlite_vfs.h"

namespace lockstep::daemon {
namespace {

// Zeros written ahead of the WAL's tail (store::WalOptions::preallocate_bytes): appends then
// overwrite written blocks and an fdatasync flushes data only, without a journal commit for
// a new file size. One extension per MiB of log: about 3000 puts of 256 B values.
constexpr uint64_t kWalPreallocateBytes = 1024 * 1024;

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Opens the stores on the data dir and runs the member on the calling fiber until it stops.
Status run_member(server::RealRuntime& runtime, const DaemonPlan& plan, DaemonAdminApi& admin,
                  MemberClientApi& client_api) {
  store::RaftPersistenceOptions persistence_options;
  persistence_options.wal_preallocate_bytes = kWalPreallocateBytes;
  Result<std::unique_ptr<store::RaftPersistence>> persistence =
      store::RaftPersistence::open(runtime.disk(), std::move(persistence_options));
  if (!persistence.is_ok()) return persistence.error();
  store::RaftStorageAdapter storage(std::move(persistence).value());
  store::SqliteVfsOptions vfs_options;
  vfs_options.name = "lockstep-daemon-" + hex(plan.self.value());
  vfs_options.random_seed = runtime.random().next_u64();
  vfs_options.runtime = &runtime;
  vfs_options.clock = [&runtime] { return runtime.now(); };
  Result<std::unique_ptr<store::SqliteVfs>> vfs =
      store::SqliteVfs::register_vfs(runtime.disk(), vfs_options);
  if (!vfs.is_ok()) return vfs.error();
  // etcd's durability model: a write is acknowledged once its Raft entry is fsynced in the
  // WAL; the backend commits a Ready's applied entries as one transaction without an fsync of
  // its own and syncs every commits_per_sync groups (etcd: batch commit every 100 ms). A crash
  // loses only backend commits that the WAL replays at boot.
  store::SqliteBackendOptions backend_options;
  backend_options.sync_every_commit = false;
  backend_options.group_commits = true;
  Result<std::unique_ptr<store::SqliteBackend>> backend =
      store::SqliteBackend::open(**vfs, std::move(backend_options));
  if (!backend.is_ok()) return backend.error();
  node::Member member(runtime, plan.member, storage, **backend, &admin);
  admin.attach(&member, backend->get());
  client_api.attach_member(&member);
  Status stopped = member.run();
  client_api.attach_member(nullptr);
  admin.attach(nullptr, nullptr);
  return stopped;
}

// --auto-tls, --peer-auto-tls: the self-signed certificates, made before anything serves.
Status make_self_signed_certificates(const DaemonPlan& plan) {
  if (plan.client_self_signed) {
    RETURN_IF_ERROR(server::ensure_self_signed_certificate(*plan.client_self_signed));
  }
  if (plan.peer_self_signed) {
    RETURN_IF_ERROR(server::ensure_self_signed_certificate(*plan.peer_self_signed));
  }
  return Status::ok();
}

// The peer transport's TLS (--peer-* flags): one context to accept with, one to dial with.
// The dialling side presents the same certificate as its client certificate, as etcd's peers do.
Status add_peer_tls(const DaemonPlan& plan, server::TcpNetworkOptions& options) {
  if (plan.peer_tls.empty()) return Status::ok();
  Result<std::shared_ptr<const server::TlsContext>> accept =
      server::TlsContext::create(server::TlsRole::kServer, plan.peer_tls);
  if (!accept.is_ok()) return accept.error();
  Result<std::shared_ptr<const server::TlsContext>> dial =
      server::TlsContext::create(server::TlsRole::kClient, plan.peer_tls);
  if (!dial.is_ok()) return dial.error();
  options.accept_tls = std::move(accept).value();
  options.dial_tls = std::move(dial).value();
  return Status::ok();
}

Status check_member_ids(const DaemonPlan& plan) {
  for (const ClusterMember& member : plan.members) {
    if (member.id.value() < kLocalClientIdLimit) {
      return Status(ErrorCode::kInvalidInput,
                    "member " + member.name + " has id " + hex(member.id.value()) +
                        ", which lockstep reserves for in-process clients; change " +
                        "--initial-cluster-token");
    }
  }
  return Status::ok();
}

}  // namespace

Status run_daemon(const DaemonPlan& plan) {
  RETURN_IF_ERROR(check_member_ids(plan));
  // Debian's Abseil is built with deadlock detection on, so every absl::Mutex lock inside
  // gRPC updated a lock-order graph: ~3% of the daemon's CPU at 100 clients under perf
  // (GraphCycles::GetId and friends). Lock-order checking is for debugging gRPC, not serving.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  server::RealRuntimeOptions runtime_options;
  runtime_options.self = plan.self;
  server::RealRuntime runtime(runtime_options);
  RETURN_IF_ERROR(runtime.stop_on_signals());

  Result<std::unique_ptr<server::PosixDisk>> disk =
      server::PosixDisk::open_root(plan.data_dir, &runtime.sync_worker());
  if (!disk.is_ok()) return disk.error();
  runtime.set_disk(std::move(disk).value());
  RETURN_IF_ERROR(make_self_signed_certificates(plan));

  server::TcpNetworkOptions network_options;
  network_options.self = plan.self;
  network_options.peers = plan.peers;
  network_options.listen = plan.listen_peer;
  RETURN_IF_ERROR(add_peer_tls(plan, network_options));
  Result<std::unique_ptr<server::TcpNetwork>> peers =
      server::TcpNetwork::start(runtime.loop(), runtime, std::move(network_options));
  if (!peers.is_ok()) return peers.error();
  server::TcpNetwork& tcp_network = **peers;
  auto network_owner = std::make_unique<LocalClientNetwork>(runtime, std::move(peers).value());
  LocalClientNetwork& network = *network_owner;
  runtime.set_network(std::move(network_owner));

  MemberClientApi client_api(runtime, runtime.loop(), network, plan.member.request_timeout);
  DaemonAdminApi admin(client_api, runtime.loop(), runtime, tcp_network, plan);
  RETURN_IF_ERROR(admin.restore_members());
  api::ApiServerOptions server_options;
  server_options.grpc_host = plan.listen_client.host;
  server_options.grpc_port = plan.listen_client.port;
  // etcd 3.4 serves the JSON gateway, /health, /version and /metrics on the client port,
  // telling HTTP/1.1 from gRPC's HTTP/2 per connection (cmux); so does lockstep unless
  // --gateway-port gives them a port of their own. An https client port serves them in any
  // case, inside TLS (ApiServerOptions::tls).
  server_options.share_grpc_port = plan.gateway_port < 0;
  server_options.http_port = plan.gateway_port;
  server_options.max_request_bytes = plan.max_request_bytes;
  server_options.admin = &admin;
  server_options.tls = plan.client_tls;
  Result<std::unique_ptr<api::ApiServer>> api_server =
      api::ApiServer::start(client_api, server_options);
  if (!api_server.is_ok()) return api_server.error();
  client_api.answer_on(&(*api_server)->answer_queue());

  Status member_status;
  runtime.spawn("member", [&] {
    member_status = run_member(runtime, plan, admin, client_api);
    runtime.trace("daemon.member_stopped", member_status.to_string());
    client_api.fail_all(ErrorCode::kStopped);
    runtime.request_stop();
  });
  network.start_pump();
  client_api.start();
  std::fprintf(stderr,
               "lockstep serve: ready name=%s member=%s cluster=%s client=%s://%s:%d peer=%s://%s "
               "data-dir=%s\n",
               plan.name.c_str(), hex(plan.self.value()).c_str(), hex(plan.cluster_id).c_str(),
               plan.client_tls.empty() ? "http" : "https", plan.listen_client.host.c_str(),
               (*api_server)->grpc_port(), plan.peer_tls.empty() ? "http" : "https",
               plan.listen_peer.to_string().c_str(), plan.data_dir.c_str());
  std::fflush(stderr);
  runtime.run();
  client_api.close_and_drain();
  // No gRPC thread may call into client_api or post into the loop once they are destroyed.
  (*api_server)->shutdown();
  return member_status;
}

}  // namespace lockstep::daemon
