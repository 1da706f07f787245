#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"

namespace lockstep::api {

// "127.0.0.1:2379", "http://127.0.0.1:2379" or "https://127.0.0.1:2379" -> "127.0.0.1:2379".
// Whether the connection uses TLS is ChannelTls's choice, as with etcd's benchmark.
Result<std::string> parse_endpoint(std::string_view endpoint);

// "a:1,b:2" -> parsed endpoints; empty items are errors.
Result<std::vector<std::string>> parse_endpoint_list(std::string_view comma_separated);

// etcdctl's --cacert, --cert, --key (PEM files; `lockstep bench etcd` spells the last
// --cert-key). With a CA file the channels speak TLS and verify the server against it; cert
// and key add a client certificate.
struct ChannelTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !ca_file.empty(); }
};

// `connection_count` gRPC channels, each its own TCP connection (etcd's benchmark --conns),
// spread round-robin over the endpoints. Many clients share one channel the way etcd's
// benchmark shares one clientv3 connection: HTTP/2 multiplexes their calls.
class ChannelPool {
 public:
  static constexpr int kConnectTimeoutSeconds = 5;

  // Connects every channel, failing with kConnectionClosed naming the endpoint that did not
  // answer within kConnectTimeoutSeconds.
  static Result<ChannelPool> connect(const std::vector<std::string>& endpoints,
                                     int connection_count, const ChannelTls& tls = {});

  const std::shared_ptr<grpc::Channel>& channel_for(size_t client_index) const {
    return channels_[client_index % channels_.size()];
  }
  size_t size() const { return channels_.size(); }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

// gRPC's canonical code name ("OUT_OF_RANGE") for a status code number.
std::string_view grpc_code_name(int code);

}  // namespace lockstep::api
