#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"
#include "sim/cluster/cluster_client.h"
#include "sim/cluster/history_recorder.h"
#include "sim/world.h"

namespace lockstep::sim {

// A ClusterClient whose key-value operations land in the history: invoke and return on the
// world's clock (the one clock every process's events can be ordered by), the request, and
// the response, or `indeterminate`. After an indeterminate operation the client continues
// under a fresh history id, as Jepsen retires a process whose operation is in doubt: the
// doubtful operation stays concurrent with everything after it.
class RecordedClient {
 public:
  // History ids of one client are first_history_id, first_history_id + kHistoryIdStride, ...
  static constexpr int64_t kHistoryIdStride = 10'000;

  RecordedClient(ClusterClient& client, HistoryRecorder& recorder, World& world,
                 int64_t first_history_id)
      : client_(client), recorder_(recorder), world_(world), history_id_(first_history_id) {}

  CallResult range(const mvcc::RangeRequest& request) { return recorded(request); }
  CallResult put(const mvcc::PutRequest& request) { return recorded(request); }
  CallResult delete_range(const mvcc::DeleteRangeRequest& request) { return recorded(request); }
  CallResult txn(const mvcc::TxnRequest& request) { return recorded(request); }

  // Calls that are not part of the linearizability history (leases, watches, status).
  CallResult call(const node::ClientRequestBody& request) { return client_.call(request); }

  ClusterClient& client() { return client_; }
  int64_t history_id() const { return history_id_; }
  Instant now() const { return world_.now(); }

  // Convenience: a linearizable get of one key; nullopt when the call failed.
  std::optional<std::optional<mvcc::KeyValue>> get(const std::string& key);

 private:
  template <typename Request>
  CallResult recorded(const Request& request);

  ClusterClient& client_;
  HistoryRecorder& recorder_;
  World& world_;
  int64_t history_id_;
};

}  // namespace lockstep::sim
