// The lease workload: clients grant short leases, attach keys, keep some alive, revoke
// some and abandon the rest. Checks etcd's lease guarantees:
// - a lease never expires before its TTL has passed since the last acknowledged keep-alive
//   was sent (etcd: the leader renews on keep-alive; a new leader extends every lease);
// - once a revoke is acknowledged, the keys attached to the lease are gone (a linearizable
//   read right after sees none);
// - an abandoned lease does expire: after the run settles no leased key is left.
#include "sim/cluster/recorded_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

constexpr int64_t kLeaseTtlSeconds = 1;  // etcd's minimum at the simulated election timeout
constexpr Duration kKeepAliveInterval = std::chrono::milliseconds(300);
constexpr char kPrefix[] = "lease/";
constexpr char kPrefixEnd[] = "lease0";
// The final read happens this long before the run ends, well after every lease lapsed.
constexpr Duration kFinalReadLead = std::chrono::milliseconds(1200);

class LeaseWorkload final : public Workload {
 public:
  std::string_view name() const override { return "lease"; }
  // Expiry deletes keys without a client operation.
  bool records_every_write() const override { return false; }

  void start(WorkloadEnvironment& environment) override {
    for (int i = 0; i < environment.clients; ++i) {
      environment.cluster.add_client(
          "lease-" + std::to_string(i), environment.client_options,
          [this, &environment, i](ClusterClient& client) { run_client(client, environment, i); });
    }
    environment.cluster.add_client("lease-final-reader", environment.client_options,
                                   [this, &environment](ClusterClient& client) {
                                     client.runtime().sleep_for(environment.end_at -
                                                                kFinalReadLead -
                                                                environment.cluster.world().now());
                                     mvcc::RangeRequest range;
                                     range.key = kPrefix;
                                     range.range_end = kPrefixEnd;
                                     CallResult result = client.call(range);
                                     if (result.ok())
                                       final_keys_ = result.as<mvcc::RangeResponse>().kvs.size();
                                     final_read_done_ = result.ok();
                                   });
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment&) override {
    CheckOutcome early{"lease: no expiry before the TTL", CheckOutcome::Verdict::kPass, ""};
    CheckOutcome revoke{"lease: revoke deletes attached keys", CheckOutcome::Verdict::kPass, ""};
    CheckOutcome expire{"lease: abandoned leases expire", CheckOutcome::Verdict::kPass, ""};
    if (!early_expiry_.empty()) {
      early.verdict = CheckOutcome::Verdict::kFail;
      early.detail = early_expiry_;
    } else {
      early.detail = std::to_string(keep_alives_) + " keep-alives, " +
                     std::to_string(expired_seen_) + " expiries observed";
    }
    if (!revoke_failure_.empty()) {
      revoke.verdict = CheckOutcome::Verdict::kFail;
      revoke.detail = revoke_failure_;
    } else {
      revoke.detail = std::to_string(revokes_checked_) + " revokes checked";
    }
    if (!final_read_done_) {
      expire.verdict = CheckOutcome::Verdict::kUnknown;
      expire.detail = "the final read did not complete";
    } else if (final_keys_ != 0) {
      expire.verdict = CheckOutcome::Verdict::kFail;
      expire.detail = std::to_string(final_keys_) + " leased keys outlived their leases";
    } else {
      expire.detail = std::to_string(abandoned_) + " leases abandoned, none left";
    }
    return {early, revoke, expire};
  }

 private:
  void run_client(ClusterClient& client, WorkloadEnvironment& environment, int index) {
    Random& random = client.runtime().random();
    World& world = environment.cluster.world();
    uint64_t round = 0;
    while (world.now() < environment.stop_at) {
      ++round;
      mvcc::LeaseGrantRequest grant;
      grant.ttl_seconds = kLeaseTtlSeconds;
      CallResult granted = client.call(grant);
      if (!granted.ok()) continue;
      const LeaseId lease = granted.as<mvcc::LeaseGrantResponse>().id;
      const Duration ttl = std::chrono::seconds(granted.as<mvcc::LeaseGrantResponse>().ttl_seconds);
      Instant renewed_at = world.now();  // a grant starts the TTL no earlier than its send
      mvcc::PutRequest put;
      put.key = std::string(kPrefix) + std::to_string(index) + "/" + std::to_string(round);
      put.value = "x";
      put.lease = lease;
      if (!client.call(put).ok()) continue;
      const int keep_alives = static_cast<int>(random.between(0, 4));
      bool expired = false;
      for (int k = 0; k < keep_alives && !expired; ++k) {
        client.runtime().sleep_for(kKeepAliveInterval);
        const Instant sent = world.now();
        CallResult renewed = client.call(mvcc::LeaseKeepAliveRequest{lease});
        if (renewed.ok()) {
          renewed_at = sent;
          ++keep_alives_;
        } else if (renewed.error == ErrorCode::kLeaseNotFound) {
          expired = true;
          ++expired_seen_;
          if (world.now() < renewed_at + ttl && early_expiry_.empty()) {
            early_expiry_ = "lease " + std::to_string(lease.value()) + " was gone " +
                            std::to_string((world.now() - renewed_at).count() / 1'000'000) +
                            " ms after a keep-alive, TTL " +
                            std::to_string(ttl.count() / 1'000'000) + " ms";
          }
        }
      }
      if (expired) continue;
      if (random.chance(0.5)) {
        ++abandoned_;
        continue;
      }
      CallResult revoked = client.call(mvcc::LeaseRevokeRequest{lease});
      if (!revoked.ok()) continue;
      mvcc::RangeRequest get;
      get.key = put.key;
      CallResult read = client.call(get);
      if (!read.ok()) continue;
      ++revokes_checked_;
      if (!read.as<mvcc::RangeResponse>().kvs.empty() && revoke_failure_.empty()) {
        revoke_failure_ = "key " + put.key + " still present after its lease " +
                          std::to_string(lease.value()) + " was revoked";
      }
    }
  }

  uint64_t keep_alives_ = 0;
  uint64_t expired_seen_ = 0;
  uint64_t revokes_checked_ = 0;
  uint64_t abandoned_ = 0;
  std::string early_expiry_;
  std::string revoke_failure_;
  size_t final_keys_ = 0;
  bool final_read_done_ = false;
};

}  // namespace

std::unique_ptr<Workload> make_lease_workload() {
  return std::make_unique<LeaseWorkload>();
}

}  // namespace lockstep::sim
