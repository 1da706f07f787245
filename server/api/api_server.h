#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "server/api/admin_api.h"
#include "server/api/call_queue.h"
#include "server/api/client_api.h"
#include "server/api/cluster_service.h"
#include "server/api/election_service.h"
#include "server/api/grpc_services.h"
#include "server/api/http_server.h"
#include "server/api/json_gateway.h"
#include "server/api/lock_service.h"
#include "server/api/maintenance_service.h"
#include "server/tls_context.h"

namespace lockstep::api {

struct ApiServerOptions {
  // gRPC (etcd's --listen-client-urls); port 0 picks a free port.
  std::string grpc_host = "127.0.0.1";
  int grpc_port = 2379;
  // The JSON gateway, /health, /version, /metrics. etcd serves these on the client port by
  // sniffing the protocol (cmux); so does lockstep with share_grpc_port (HttpServer peeks at
  // each connection and hands HTTP/2 to gRPC; http_host/http_port are then unused). Otherwise
  // they get their own port; -1 disables them.
  bool share_grpc_port = false;
  std::string http_host = "127.0.0.1";
  int http_port = 2381;
  // etcd's --max-request-bytes; gRPC may receive this plus etcd's 512 KiB of framing overhead.
  size_t max_request_bytes = limits::kMaxRequestBytesDefault;
  JsonGatewayOptions gateway;
  // etcd's Cluster and Maintenance services; not served when null. Must outlive the server.
  AdminApi* admin = nullptr;
  // etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth: when not empty,
  // the client port and the HTTP port are served over TLS only (etcd's https client URLs),
  // and with client_cert_auth a client must present a certificate trusted_ca_file signed. The
  // client port then serves the gateway too (as with share_grpc_port), relaying gRPC's
  // connections out of TLS (HttpServer, tls_relay.h).
  server::TlsFiles tls;
};

// The member's client-facing endpoints: etcd's KV, Lease and Watch gRPC services and the
// JSON gateway, all translating to one ClientApi. The ClientApi must outlive the server.
class ApiServer {
 public:
  static constexpr size_t kGrpcOverheadBytes = 512 * 1024;  // etcd's grpcOverheadBytes

  static Result<std::unique_ptr<ApiServer>> start(ClientApi& api, ApiServerOptions options);
  ~ApiServer();

  int grpc_port() const { return grpc_port_; }
  // A completion queue of the gRPC server's, to which the member may post batches of answers
  // (CallQueue::post).
  CallQueue& answer_queue() { return *calls_.front(); }
  // A port serving the gateway: its own, else the client port when that serves it; -1 if none.
  int http_port() const {
    if (http_server_) return http_server_->port();
    return client_port_server_ ? client_port_server_->port() : -1;
  }
  // Stops both listeners; in-flight gRPC calls are cancelled (idempotent).
  void shutdown();

 private:
  ApiServer(ClientApi& api, ApiServerOptions options);

  ApiServerOptions options_;
  KvService kv_service_;
  LeaseService lease_service_;
  WatchService watch_service_;
  LockService lock_service_;
  ElectionService election_service_;
  std::unique_ptr<ClusterService> cluster_service_;
  std::unique_ptr<MaintenanceService> maintenance_service_;
  JsonGateway gateway_;
  // One queue, with its one thread, accepts calls of every method. A second queue was meant to
  // overlap reading requests with writing answers, but on the asynchronous API it costs more
  // than it gives: the two threads take turns polling the same sockets and wake each other.
  // 1 member, put at 100 clients, 6 fresh daemons each: 22.1k puts/s and 0.40 s of server CPU
  // per 10k puts with one queue, 18.6k and 0.52 s with two (docs/benchmarks/daemon.md).
  static constexpr int kCallQueues = 1;
  std::vector<std::unique_ptr<CallQueue>> calls_;  // destroyed after the server, as gRPC requires
  std::unique_ptr<grpc::Server> grpc_server_;
  int grpc_port_ = 0;
  std::unique_ptr<HttpServer> client_port_server_;  // the client port, when not gRPC's own
  std::unique_ptr<HttpServer> http_server_;         // the gateway's own port
  bool stopped_ = false;
};

}  // namespace lockstep::api
