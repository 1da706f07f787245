#include "server/api/json_gateway.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <type_traits>

#include "server/api/channel_pool.h"
#include "server/api/proto_convert.h"

namespace lockstep::api {
namespace {

using google::protobuf::util::JsonParseOptions;
using google::protobuf::util::JsonPrintOptions;

constexpr int kInvalidArgumentCode = static_cast<int>(GrpcCode::kInvalidArgument);
constexpr int kUnimplementedCode = static_cast<int>(GrpcCode::kUnimplemented);

HttpResponse error_response(int grpc_code, const std::string& message) {
  // grpc-gateway's error body, as etcd 3.4 sends it: the message twice and the gRPC code.
  const nlohmann::ordered_json body = {
      {"error", message}, {"message", message}, {"code", grpc_code}};
  HttpResponse response;
  response.status = JsonGateway::http_status_for_grpc_code(grpc_code);
  // Replace rather than throw on bytes that are not UTF-8 (a key echoed in a message).
  response.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return response;
}

HttpResponse error_response(const Error& error) {
  return error_response(static_cast<int>(error.grpc_code()), std::string(error.message()));
}

HttpResponse plain_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

template <typename Message>
HttpResponse json_response(const Message& message) {
  JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // etcd's gateway: JSONPb{OrigName: true}
  HttpResponse response;
  const auto status = google::protobuf::util::MessageToJsonString(message, &response.body, options);
  if (!status.ok()) {
    return error_response(static_cast<int>(GrpcCode::kInternal), std::string(status.message()));
  }
  return response;
}

template <typename T>
Result<T> as_result(Result<T> value) {
  return value;
}
template <typename T>
Result<T> as_result(T value) {
  return Result<T>(std::move(value));
}

// JSON body -> wire request -> mvcc request -> member -> mvcc response -> wire -> JSON.
// `finish` receives the HttpResponse and the gRPC code, for the request counters.
template <typename WireRequest, typename Call>
void serve_json(std::string_view body, Call call,
                std::function<void(HttpResponse, int grpc_code)> finish) {
  WireRequest request;
  JsonParseOptions options;
  options.ignore_unknown_fields = true;  // etcd's gateway ignores fields it does not know
  const std::string_view json = body.empty() ? std::string_view("{}") : body;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &request, options);
  if (!parsed.ok()) {
    finish(error_response(kInvalidArgumentCode, std::string(parsed.message())),
           kInvalidArgumentCode);
    return;
  }
  auto converted = as_result(from_proto(request));
  if (!converted.is_ok()) {
    finish(error_response(converted.error()), static_cast<int>(converted.error().grpc_code()));
    return;
  }
  call(std::move(converted).value(), [finish = std::move(finish)](auto result) {
    if (!result.is_ok()) {
      finish(error_response(result.error()), static_cast<int>(result.error().grpc_code()));
      return;
    }
    finish(json_response(to_proto(*result)), 0);
  });
}

// "/v3beta/kv/put" and "/v3/kv/lease/revoke" -> the canonical "/v3/..." path.
std::string canonical_path(std::string_view path) {
  constexpr std::string_view kBetaPrefix = "/v3beta/";
  std::string canonical(path);
  if (path.starts_with(kBetaPrefix))
    canonical = "/v3/" + std::string(path.substr(kBetaPrefix.size()));
  constexpr std::string_view kLeaseAlias = "/v3/kv/lease/";
  if (std::string_view(canonical).starts_with(kLeaseAlias)) {
    canonical = "/v3/lease/" + canonical.substr(kLeaseAlias.size());
  }
  return canonical;
}

}  // namespace

JsonGateway::JsonGateway(ClientApi& api, JsonGatewayOptions options)
    : api_(api), options_(std::move(options)) {}

int JsonGateway::http_status_for_grpc_code(int grpc_code) {
  switch (static_cast<GrpcCode>(grpc_code)) {
    case GrpcCode::kOk:
      return 200;
    case GrpcCode::kCancelled:
      return 408;
    case GrpcCode::kUnknown:
    case GrpcCode::kInternal:
    case GrpcCode::kDataLoss:
      return 500;
    case GrpcCode::kInvalidArgument:
    case GrpcCode::kFailedPrecondition:
    case GrpcCode::kOutOfRange:
      return 400;
    case GrpcCode::kDeadlineExceeded:
      return 504;
    case GrpcCode::kNotFound:
      return 404;
    case GrpcCode::kAlreadyExists:
    case GrpcCode::kAborted:
      return 409;
    case GrpcCode::kPermissionDenied:
      return 403;
    case GrpcCode::kUnauthenticated:
      return 401;
    case GrpcCode::kResourceExhausted:
      return 429;
    case GrpcCode::kUnimplemented:
      return 501;
    case GrpcCode::kUnavailable:
      return 503;
  }
  return 500;
}

void JsonGateway::count(std::string_view path, int grpc_code) {
  std::lock_guard lock(metrics_mutex_);
  ++request_counts_[{std::string(path), std::string(grpc_code_name(grpc_code))}];
}

std::string JsonGateway::render_metrics() {
  std::string text =
      "# HELP lockstep_gateway_requests_total JSON gateway requests by path and gRPC code.\n"
      "# TYPE lockstep_gateway_requests_total counter\n";
  {
    std::lock_guard lock(metrics_mutex_);
    for (const auto& [key, total] : request_counts_) {
      text += "lockstep_gateway_requests_total{path=\"" + key.first + "\",code=\"" + key.second +
              "\"} " + std::to_string(total) + "\n";
    }
  }
  if (options_.extra_metrics) text += options_.extra_metrics();
  return text;
}

// etcd 3.4's /health is true when a linearizable read of the key "health" succeeds, i.e. the
// member has a leader and a quorum answers (etcdhttp checkHealth).
void JsonGateway::serve_health(HttpRespond respond) {
  mvcc::RangeRequest probe;
  probe.key = "health";
  api_.range(probe, [respond = std::move(respond)](Result<mvcc::RangeResponse> result) {
    if (result.is_ok()) {
      respond(plain_response(200, "{\"health\":\"true\"}"));
    } else {
      respond(plain_response(503, "{\"health\":\"false\"}"));
    }
  });
}

void JsonGateway::handle(std::string_view method, std::string_view path, std::string_view body,
                         HttpRespond respond) {
  if (method == "GET" && path == "/health") return serve_health(std::move(respond));
  if (method == "GET" && path == "/version") {
    return respond(plain_response(200, "{\"etcdserver\":\"" + options_.server_version +
                                           "\",\"etcdcluster\":\"" + options_.cluster_version +
                                           "\"}"));
  }
  if (method == "GET" && path == "/metrics") {
    HttpResponse metrics = plain_response(200, render_metrics());
    metrics.content_type = "text/plain; version=0.0.4";
    return respond(std::move(metrics));
  }
  const std::string canonical = canonical_path(path);
  if (!canonical.starts_with("/v3/")) return respond(plain_response(404, "Not Found\n"));

  auto finish = [this, canonical, respond](HttpResponse response, int grpc_code) {
    count(canonical, grpc_code);
    respond(std::move(response));
  };
  auto served = [&](auto tag, auto call) {
    using WireRequest = typename decltype(tag)::type;
    if (method != "POST") {
      respond(plain_response(405, "Method Not Allowed\n"));
      return;
    }
    serve_json<WireRequest>(body, call, finish);
  };
  // A tiny type tag, so each route names its request message once.
  auto tag = [](auto* pointer) {
    return std::type_identity<std::remove_pointer_t<decltype(pointer)>>{};
  };
  auto& api = api_;
  if (canonical == "/v3/kv/range") {
    return served(tag((etcdserverpb::RangeRequest*)nullptr), [&api](auto request, auto done) {
      api.range(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/kv/put") {
    return served(tag((etcdserverpb::PutRequest*)nullptr), [&api](auto request, auto done) {
      api.put(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/kv/deleterange") {
    return served(tag((etcdserverpb::DeleteRangeRequest*)nullptr), [&api](auto request, auto done) {
      api.delete_range(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/kv/txn") {
    return served(tag((etcdserverpb::TxnRequest*)nullptr), [&api](auto request, auto done) {
      api.txn(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/kv/compaction") {
    return served(tag((etcdserverpb::CompactionRequest*)nullptr), [&api](auto request, auto done) {
      api.compact(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/lease/grant") {
    return served(tag((etcdserverpb::LeaseGrantRequest*)nullptr), [&api](auto request, auto done) {
      api.lease_grant(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/lease/revoke") {
    return served(tag((etcdserverpb::LeaseRevokeRequest*)nullptr), [&api](auto request, auto done) {
      api.lease_revoke(std::move(request), std::move(done));
    });
  }
  if (canonical == "/v3/lease/timetolive") {
    return served(tag((etcdserverpb::LeaseTimeToLiveRequest*)nullptr),
                  [&api](auto request, auto done) {
                    api.lease_time_to_live(std::move(request), std::move(done));
                  });
  }
  if (canonical == "/v3/lease/leases") {
    if (method != "POST") return respond(plain_response(405, "Method Not Allowed\n"));
    api_.lease_leases(
        mvcc::LeaseLeasesRequest{}, [finish](Result<mvcc::LeaseLeasesResponse> result) {
          if (!result.is_ok()) {
            finish(error_response(result.error()), static_cast<int>(result.error().grpc_code()));
            return;
          }
          finish(json_response(to_proto(*result)), 0);
        });
    return;
  }
  if (canonical == "/v3/watch" || canonical == "/v3/lease/keepalive") {
    finish(error_response(kUnimplementedCode,
                          "the JSON gateway does not stream; use gRPC for " + canonical),
           kUnimplementedCode);
    return;
  }
  respond(plain_response(404, "Not Found\n"));
}

}  // namespace lockstep::api
