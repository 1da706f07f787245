#include "server/api/channel_pool.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <array>
#include <chrono>

#include "server/tls_context.h"

namespace lockstep::api {

Result<std::string> parse_endpoint(std::string_view endpoint) {
  constexpr std::string_view kHttpScheme = "http://";
  constexpr std::string_view kHttpsScheme = "https://";
  if (endpoint.starts_with(kHttpScheme)) endpoint.remove_prefix(kHttpScheme.size());
  if (endpoint.starts_with(kHttpsScheme)) endpoint.remove_prefix(kHttpsScheme.size());
  while (endpoint.ends_with('/')) endpoint.remove_suffix(1);
  const size_t colon = endpoint.rfind(':');
  if (endpoint.empty() || colon == std::string_view::npos || colon == 0 ||
      colon + 1 == endpoint.size()) {
    return Error(ErrorCode::kInvalidInput,
                 "an endpoint must be host:port, got '" + std::string(endpoint) + "'");
  }
  return std::string(endpoint);
}

Result<std::vector<std::string>> parse_endpoint_list(std::string_view comma_separated) {
  std::vector<std::string> endpoints;
  while (true) {
    const size_t comma = comma_separated.find(',');
    Result<std::string> endpoint = parse_endpoint(comma_separated.substr(0, comma));
    if (!endpoint.is_ok()) return endpoint.error();
    endpoints.push_back(std::move(endpoint).value());
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return endpoints;
}

namespace {

Result<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials(const ChannelTls& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Error(ErrorCode::kInvalidInput, "--cert and --cert-key go together");
  }
  grpc::SslCredentialsOptions options;
  Result<std::string> roots = server::read_pem_file(tls.ca_file);
  if (!roots.is_ok()) return roots.error();
  options.pem_root_certs = std::move(roots).value();
  if (!tls.cert_file.empty()) {
    Result<std::string> certificate = server::read_pem_file(tls.cert_file);
    if (!certificate.is_ok()) return certificate.error();
    Result<std::string> key = server::read_pem_file(tls.key_file);
    if (!key.is_ok()) return key.error();
    options.pem_cert_chain = std::move(certificate).value();
    options.pem_private_key = std::move(key).value();
  }
  return grpc::SslCredentials(options);
}

}  // namespace

Result<ChannelPool> ChannelPool::connect(const std::vector<std::string>& endpoints,
                                         int connection_count, const ChannelTls& tls) {
  if (endpoints.empty()) return Error(ErrorCode::kInvalidInput, "no endpoints given");
  if (connection_count < 1) return Error(ErrorCode::kInvalidInput, "--conns must be >= 1");
  Result<std::shared_ptr<grpc::ChannelCredentials>> credentials = channel_credentials(tls);
  if (!credentials.is_ok()) return credentials.error();
  ChannelPool pool;
  for (int index = 0; index < connection_count; ++index) {
    grpc::ChannelArguments arguments;
    // Without a local pool, gRPC reuses one subchannel (one TCP connection) for every
    // channel to the same target, and --conns would measure nothing.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    const std::string& endpoint = endpoints[static_cast<size_t>(index) % endpoints.size()];
    pool.channels_.push_back(grpc::CreateCustomChannel(endpoint, *credentials, arguments));
  }
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(kConnectTimeoutSeconds);
  for (size_t index = 0; index < pool.channels_.size(); ++index) {
    if (!pool.channels_[index]->WaitForConnected(deadline)) {
      return Error(ErrorCode::kConnectionClosed,
                   "no connection to " + endpoints[index % endpoints.size()] + " within " +
                       std::to_string(kConnectTimeoutSeconds) + " s");
    }
  }
  return pool;
}

std::string_view grpc_code_name(int code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code < 0 || static_cast<size_t>(code) >= kNames.size()) return "INVALID_CODE";
  return kNames[static_cast<size_t>(code)];
}

}  // namespace lockstep::api
