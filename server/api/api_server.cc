#include "server/api/api_server.h"

#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>

#include <chrono>

namespace lockstep::api {

ApiServer::ApiServer(ClientApi& api, ApiServerOptions options)
    : options_(std::move(options)),
      kv_service_(api),
      lease_service_(api),
      watch_service_(api),
      lock_service_(api),
      election_service_(api),
      gateway_(api, options_.gateway) {}

Result<std::unique_ptr<ApiServer>> ApiServer::start(ClientApi& api, ApiServerOptions options) {
  std::unique_ptr<ApiServer> server(new ApiServer(api, std::move(options)));
  const ApiServerOptions& chosen = server->options_;
  std::shared_ptr<const server::TlsContext> https;
  if (!chosen.tls.empty()) {
    // Loaded and checked now: a missing file or a key that does not match its certificate is
    // reported by name, and the one OpenSSL configuration (--cipher-suites, client
    // certificates) governs gRPC and the gateway alike.
    Result<std::shared_ptr<const server::TlsContext>> context =
        server::TlsContext::create(server::TlsRole::kServer, chosen.tls);
    if (!context.is_ok()) return context.error();
    https = std::move(context).value();
  }
  // gRPC listens itself only on a plain port of its own. A shared port, and any TLS client
  // port, is HttpServer's: it accepts (and terminates TLS) and hands HTTP/2 over to gRPC.
  const bool grpc_behind_http = chosen.share_grpc_port || https != nullptr;
  grpc::ServerBuilder builder;
  const std::string address = chosen.grpc_host + ":" + std::to_string(chosen.grpc_port);
  if (!grpc_behind_http) {
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->grpc_port_);
  }
  builder.SetMaxReceiveMessageSize(static_cast<int>(chosen.max_request_bytes + kGrpcOverheadBytes));
  builder.RegisterService(server->kv_service_.grpc_service());
  builder.RegisterService(server->lease_service_.grpc_service());
  builder.RegisterService(server->watch_service_.grpc_service());
  builder.RegisterService(server->lock_service_.grpc_service());
  builder.RegisterService(server->election_service_.grpc_service());
  if (chosen.admin != nullptr) {
    server->cluster_service_ = std::make_unique<ClusterService>(*chosen.admin);
    server->maintenance_service_ = std::make_unique<MaintenanceService>(*chosen.admin);
    builder.RegisterService(server->cluster_service_->grpc_service());
    builder.RegisterService(server->maintenance_service_->grpc_service());
  }
  for (int i = 0; i < kCallQueues; ++i)
    server->calls_.push_back(std::make_unique<CallQueue>(builder));
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || (!grpc_behind_http && server->grpc_port_ == 0)) {
    return Error(ErrorCode::kIoError, "cannot serve gRPC on " + address);
  }
  for (const std::unique_ptr<CallQueue>& queue : server->calls_) {
    CallQueue& calls = *queue;
    server->kv_service_.serve(calls);
    server->lease_service_.serve(calls);
    server->watch_service_.serve(calls);
    server->lock_service_.serve(calls);
    server->election_service_.serve(calls);
    if (chosen.admin != nullptr) {
      server->cluster_service_->serve(calls);
      server->maintenance_service_->serve(calls);
    }
    calls.start();
  }
  JsonGateway& gateway = server->gateway_;
  const HttpServer::Handler handler = [&gateway](std::string_view method, std::string_view path,
                                                 std::string_view body, HttpRespond respond) {
    gateway.handle(method, path, body, std::move(respond));
  };
  if (grpc_behind_http) {
    // etcd serves the gateway on every client port, TLS or not, next to gRPC.
    HttpServer::Http2Handoff to_grpc = [grpc_server = server->grpc_server_.get()](int fd) {
      grpc::AddInsecureChannelFromFd(grpc_server, fd);
    };
    Result<std::unique_ptr<HttpServer>> client_port =
        HttpServer::start(chosen.grpc_host, chosen.grpc_port, handler, std::move(to_grpc), https);
    if (!client_port.is_ok()) {
      server->shutdown();
      return client_port.error();
    }
    server->client_port_server_ = std::move(client_port).value();
    server->grpc_port_ = server->client_port_server_->port();
  }
  if (!chosen.share_grpc_port && chosen.http_port >= 0) {
    Result<std::unique_ptr<HttpServer>> http =
        HttpServer::start(chosen.http_host, chosen.http_port, handler, nullptr, https);
    if (!http.is_ok()) {
      server->shutdown();
      return http.error();
    }
    server->http_server_ = std::move(http).value();
  }
  return server;
}

ApiServer::~ApiServer() {
  shutdown();
}

void ApiServer::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (client_port_server_) client_port_server_->shutdown();
  if (http_server_) http_server_->shutdown();
  // A deadline so that open Watch streams are cancelled instead of waited for.
  if (grpc_server_) grpc_server_->Shutdown(std::chrono::system_clock::now());
  // gRPC's order: the server first, then its completion queues.
  for (const std::unique_ptr<CallQueue>& queue : calls_) queue->stop();
}

}  // namespace lockstep::api
