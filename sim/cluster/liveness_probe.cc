#include "sim/cluster/liveness_probe.h"

#include <algorithm>
#include <string>

#include "sim/cluster/recorded_client.h"

namespace lockstep::sim {
namespace {

bool is_write(const checker::Request& request, const checker::Response& response);

bool any_write(const std::vector<checker::Request>& requests,
               const std::vector<checker::Response>& responses) {
  for (size_t i = 0; i < requests.size(); ++i) {
    // A txn's response lists one response per op of the branch taken; one that was not
    // recorded (values-only recording) counts as an empty response.
    const checker::Response response = i < responses.size() ? responses[i] : checker::Response{};
    if (is_write(requests[i], response)) return true;
  }
  return false;
}

bool is_write(const checker::Request& request, const checker::Response& response) {
  switch (request.kind) {
    case checker::RequestKind::kPut:
    case checker::RequestKind::kDelete:
      return true;
    case checker::RequestKind::kTxn:
      // Only the branch the txn took: a txn whose taken branch only reads proves a read.
      return any_write(response.succeeded ? request.success : request.failure, response.responses);
    default:
      return false;
  }
}

}  // namespace

ClientOptions liveness_probe_client_options(const ClientOptions& clients, Duration bound) {
  ClientOptions probe = clients;
  probe.attempt_timeout = std::clamp(bound / kLivenessProbeAttemptsPerBound,
                                     std::min(kLivenessProbeAttemptMin, clients.attempt_timeout),
                                     clients.attempt_timeout);
  // Room for one retry after a definite refusal (no leader yet, not the leader), as the
  // workloads' clients have.
  probe.operation_timeout = probe.attempt_timeout * 2;
  return probe;
}

void start_liveness_probe(WorkloadEnvironment& environment, Instant heal_at, Duration bound) {
  const ClientOptions options = liveness_probe_client_options(environment.client_options, bound);
  environment.cluster.add_client(
      "liveness-probe", options, [&environment, heal_at](ClusterClient& client) {
        World& world = environment.cluster.world();
        client.runtime().sleep_until(client.runtime().now() + (heal_at - world.now()));
        RecordedClient recorded(client, environment.recorder, world, environment.first_history_id);
        while (world.now() < environment.end_at) {
          mvcc::PutRequest put;
          put.key = "liveness/probe";
          put.value = std::to_string(world.now().nanoseconds());
          if (recorded.put(put).ok()) return;
        }
      });
}

std::optional<Instant> first_write_acknowledged_after(const checker::History& history,
                                                      Instant heal_at) {
  std::optional<Instant> first;
  for (const checker::Operation& operation : history.operations) {
    if (operation.indeterminate || operation.invoke_time < heal_at.nanoseconds()) continue;
    if (!is_write(operation.request, operation.response)) continue;
    const Instant returned = Instant(Duration(operation.return_time));
    if (!first || returned < *first) first = returned;
  }
  return first;
}

}  // namespace lockstep::sim
