#include "server/api/api_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>

#include <chrono>

namespace lockstep::api {
namespace {

// gRPC's TLS for the client listener, from the same files as etcd's client TLSInfo.
Result<std::shared_ptr<grpc::ServerCredentials>> grpc_tls_credentials(
    const server::TlsFiles& files) {
  Result<std::string> certificate = server::read_pem_file(files.cert_file);
  if (!certificate.is_ok()) return certificate.error();
  Result<std::string> key = server::read_pem_file(files.key_file);
  if (!key.is_ok()) return key.error();
  // etcd (Go's tls.Config.ClientAuth): RequireAndVerifyClientCert with --client-cert-auth,
  // NoClientCert without.
  grpc::SslServerCredentialsOptions options(
      files.client_cert_auth ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                             : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!files.trusted_ca_file.empty()) {
    Result<std::string> roots = server::read_pem_file(files.trusted_ca_file);
    if (!roots.is_ok()) return roots.error();
    options.pem_root_certs = std::move(roots).value();
  }
  options.pem_key_cert_pairs.push_back({std::move(key).value(), std::move(certificate).value()});
  return grpc::SslServerCredentials(options);
}

}  // namespace

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
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  std::shared_ptr<const server::TlsContext> https;
  if (!chosen.tls.empty()) {
    if (chosen.share_grpc_port) {
      return Error(ErrorCode::kInvalidInput, "TLS cannot be served on a shared gRPC/HTTP port");
    }
    // Built first for its checks: a missing file or a key that does not match its certificate
    // is reported by name here, where gRPC would only fail to start.
    Result<std::shared_ptr<const server::TlsContext>> context =
        server::TlsContext::create(server::TlsRole::kServer, chosen.tls);
    if (!context.is_ok()) return context.error();
    https = std::move(context).value();
    Result<std::shared_ptr<grpc::ServerCredentials>> tls = grpc_tls_credentials(chosen.tls);
    if (!tls.is_ok()) return tls.error();
    credentials = std::move(tls).value();
  }
  grpc::ServerBuilder builder;
  const std::string address = chosen.grpc_host + ":" + std::to_string(chosen.grpc_port);
  // Shared port: no listener of gRPC's own; HttpServer accepts and hands HTTP/2 over.
  if (!chosen.share_grpc_port) {
    builder.AddListeningPort(address, credentials, &server->grpc_port_);
  }
  builder.SetMaxReceiveMessageSize(static_cast<int>(chosen.max_request_bytes + kGrpcOverheadBytes));
  builder.RegisterService(&server->kv_service_);
  builder.RegisterService(&server->lease_service_);
  builder.RegisterService(&server->watch_service_);
  builder.RegisterService(&server->lock_service_);
  builder.RegisterService(&server->election_service_);
  if (chosen.admin != nullptr) {
    server->cluster_service_ = std::make_unique<ClusterService>(*chosen.admin);
    server->maintenance_service_ = std::make_unique<MaintenanceService>(*chosen.admin);
    builder.RegisterService(server->cluster_service_.get());
    builder.RegisterService(server->maintenance_service_.get());
  }
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || (!chosen.share_grpc_port && server->grpc_port_ == 0)) {
    return Error(ErrorCode::kIoError, "cannot serve gRPC on " + address);
  }
  if (chosen.share_grpc_port || chosen.http_port >= 0) {
    JsonGateway& gateway = server->gateway_;
    HttpServer::Handler handler = [&gateway](std::string_view method, std::string_view path,
                                             std::string_view body, HttpRespond respond) {
      gateway.handle(method, path, body, std::move(respond));
    };
    HttpServer::Http2Handoff to_grpc;
    if (chosen.share_grpc_port) {
      to_grpc = [grpc_server = server->grpc_server_.get()](int fd) {
        grpc::AddInsecureChannelFromFd(grpc_server, fd);
      };
    }
    Result<std::unique_ptr<HttpServer>> http =
        chosen.share_grpc_port ? HttpServer::start(chosen.grpc_host, chosen.grpc_port,
                                                   std::move(handler), std::move(to_grpc))
                               : HttpServer::start(chosen.http_host, chosen.http_port,
                                                   std::move(handler), nullptr, https);
    if (!http.is_ok()) {
      server->shutdown();
      return http.error();
    }
    server->http_server_ = std::move(http).value();
    if (chosen.share_grpc_port) server->grpc_port_ = server->http_server_->port();
  }
  return server;
}

ApiServer::~ApiServer() {
  shutdown();
}

void ApiServer::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (http_server_) http_server_->shutdown();
  // A deadline so that open Watch streams are cancelled instead of waited for.
  if (grpc_server_) grpc_server_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace lockstep::api
