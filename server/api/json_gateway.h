#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "server/api/client_api.h"

namespace lockstep::api {

// One HTTP answer of the gateway, independent of the HTTP server that carries it.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpRespond = std::function<void(HttpResponse)>;

struct JsonGatewayOptions {
  // What /version reports: the etcd API version lockstep implements (etcd clients compare
  // these to decide which features they may use).
  std::string server_version = "3.4.23";
  std::string cluster_version = "3.4.0";
  // Extra Prometheus text appended to /metrics (e.g. the member's own gauges); may be empty.
  std::function<std::string()> extra_metrics;
};

// etcd 3.4's JSON gateway (grpc-gateway in front of the v3 API), by hand: POST a JSON body to
// /v3/kv/range, /v3/kv/put, /v3/kv/deleterange, /v3/kv/txn, /v3/kv/compaction,
// /v3/lease/grant, /v3/lease/revoke, /v3/lease/timetolive, /v3/lease/leases (also under the
// older /v3beta prefix and etcd's /v3/kv/lease/... aliases). Bodies use protobuf's JSON
// mapping the way etcd's gateway configures it: bytes as base64, 64-bit integers as strings,
// the .proto field names ("range_end", "TTL"), unknown fields ignored, zero values omitted.
// Errors are etcd's: {"error": m, "message": m, "code": <gRPC code>} with grpc-gateway's HTTP
// status for that code (e.g. 400 for OUT_OF_RANGE). Also GET /health, /version and /metrics.
//
// Not provided: the streaming endpoints (/v3/watch, /v3/lease/keepalive) answer 501.
class JsonGateway {
 public:
  JsonGateway(ClientApi& api, JsonGatewayOptions options);

  // Handles one request; `respond` is called exactly once, possibly on another thread and
  // possibly before handle() returns.
  void handle(std::string_view method, std::string_view path, std::string_view body,
              HttpRespond respond);

  // The HTTP status grpc-gateway gives a gRPC status code.
  static int http_status_for_grpc_code(int grpc_code);

 private:
  void count(std::string_view path, int grpc_code);
  std::string render_metrics();
  void serve_health(HttpRespond respond);

  ClientApi& api_;
  JsonGatewayOptions options_;
  std::mutex metrics_mutex_;
  // (path, gRPC code name) -> requests; an ordered map so /metrics prints in a stable order.
  std::map<std::pair<std::string, std::string>, int64_t> request_counts_;
};

}  // namespace lockstep::api
