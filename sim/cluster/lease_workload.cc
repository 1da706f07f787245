// The lease workload: clients grant short leases, attach keys, keep some alive, revoke
// some and abandon the rest. Checks etcd's lease guarantees:
// - a lease never expires before its TTL has passed since the last acknowledged keep-alive
//   was sent (etcd: the leader renews on keep-alive; a new leader extends every lease);
// - once a revoke is acknowledged, the keys attached to the lease are gone (a linearizable
//   read right after sees none);
// - an abandoned lease does expire: a key whose lease was last renewed long enough before
//   the final read (see kAbandonedExpiryGrace) is gone by then.
#include <algorithm>
#include <map>

#include "sim/cluster/recorded_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

constexpr int64_t kLeaseTtlSeconds = 1;  // etcd's minimum at the simulated election timeout
constexpr Duration kKeepAliveInterval = std::chrono::milliseconds(300);
constexpr char kPrefix[] = "lease/";
constexpr char kPrefixEnd[] = "lease0";
// The final read happens this long before the run ends, or when the clients stop if that
// is earlier: one lost message costs a client attempt (1.5 s), so the read needs room for
// retries.
constexpr Duration kFinalReadLead = std::chrono::milliseconds(1200);
// A final read that failed is retried until this long before the end.
constexpr Duration kFinalReadRetryMargin = std::chrono::milliseconds(100);
constexpr Duration kFinalReadRetryInterval = std::chrono::milliseconds(50);
constexpr Duration kFinalReadAttemptTimeout = std::chrono::milliseconds(300);
// etcd may keep a lease past its TTL: a new leader gives every lease its TTL again plus an
// election timeout (lessor.Promote), and the revoke still has to commit. So an abandoned
// lease is judged only once twice its TTL, an election timeout and this much more have passed
// since its last renewal; keys of leases abandoned later are too recent to judge.
constexpr Duration kAbandonedExpiryGrace = std::chrono::milliseconds(500);

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
    // The final read is idempotent and answered within a heartbeat round by a healthy
    // cluster: waiting 1.5 s for each lost request or answer let two losses under 1.5%
    // message loss (the property, seed 661024) outlast the whole liveness phase.
    ClientOptions reader_options = environment.client_options;
    reader_options.attempt_timeout =
        std::min(reader_options.attempt_timeout, kFinalReadAttemptTimeout);
    environment.cluster.add_client(
        "lease-final-reader", reader_options, [this, &environment](ClusterClient& client) {
          const Instant read_at =
              std::min(environment.end_at - kFinalReadLead, environment.stop_at);
          client.runtime().sleep_for(read_at - environment.cluster.world().now());
          final_read(client, environment);
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
    } else if (!outlived_.empty()) {
      expire.verdict = CheckOutcome::Verdict::kFail;
      expire.detail = std::to_string(outlived_count_) +
                      " leased keys outlived their leases, first: " + outlived_;
    } else {
      expire.detail = std::to_string(abandoned_) + " leases abandoned, none left past " +
                      "its deadline (" + std::to_string(too_recent_) + " keys too recent to judge)";
    }
    return {early, revoke, expire};
  }

 private:
  void run_client(ClusterClient& client, WorkloadEnvironment& environment, int index) {
    Random& random = client.runtime().random();
    World& world = environment.cluster.world();
    const Duration election_timeout = environment.cluster.config().member.election_timeout();
    uint64_t round = 0;
    while (world.now() < environment.stop_at) {
      ++round;
      mvcc::LeaseGrantRequest grant;
      grant.ttl_seconds = kLeaseTtlSeconds;
      // The TTL starts when the leader applies the grant: no earlier than its send, but
      // possibly long before its answer (a follower that forwarded it and was then paused
      // answers once it applies the grant itself). So the lease is only known to live
      // until the send plus the TTL.
      const Instant grant_sent = world.now();
      CallResult granted = client.call(grant);
      if (!granted.ok()) continue;
      const LeaseId lease = granted.as<mvcc::LeaseGrantResponse>().id;
      const Duration ttl = std::chrono::seconds(granted.as<mvcc::LeaseGrantResponse>().ttl_seconds);
      Instant renewed_at = grant_sent;
      // ...and it started no later than the answer: the latest it can expire is counted
      // from here.
      const Instant grant_answered = world.now();
      mvcc::PutRequest put;
      put.key = std::string(kPrefix) + std::to_string(index) + "/" + std::to_string(round);
      put.value = "x";
      put.lease = lease;
      // From here on the key may exist (an indeterminate put may have applied), so every way
      // out of this round leaves its latest possible expiry behind.
      const Duration expiry_bound = 2 * ttl + election_timeout + kAbandonedExpiryGrace;
      // While the client still renews the lease, the final read (another fiber) may see the
      // key: it is too recent to judge until the client leaves it with a deadline below.
      deadlines_[put.key] = kInstantMax;
      const CallResult stored = client.call(put);
      if (!stored.ok()) {
        deadlines_[put.key] = grant_answered + expiry_bound;
        continue;
      }
      Instant last_possible_renewal = world.now();
      const int keep_alives = static_cast<int>(random.between(0, 4));
      bool expired = false;
      for (int k = 0; k < keep_alives && !expired; ++k) {
        client.runtime().sleep_for(kKeepAliveInterval);
        const Instant sent = world.now();
        CallResult renewed = client.call(mvcc::LeaseKeepAliveRequest{lease});
        // Even unanswered, the keep-alive may have renewed the lease up to now.
        last_possible_renewal = world.now();
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
      deadlines_[put.key] = last_possible_renewal + expiry_bound;
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

  // Reads every lease key, retrying a read lost to message loss or a leader change until
  // kFinalReadRetryMargin before the end.
  void final_read(ClusterClient& client, WorkloadEnvironment& environment) {
    World& world = environment.cluster.world();
    mvcc::RangeRequest range;
    range.key = kPrefix;
    range.range_end = kPrefixEnd;
    while (!final_read_done_ && world.now() < environment.end_at - kFinalReadRetryMargin) {
      const Instant sent = world.now();
      CallResult result = client.call(range);
      if (!result.ok()) {
        client.runtime().sleep_for(kFinalReadRetryInterval);
        continue;
      }
      judge_final_keys(result.as<mvcc::RangeResponse>(), sent);
      final_read_done_ = true;
    }
  }

  // A key left in the final read counts against expiry only if its lease's latest possible
  // expiry (deadlines_) was before the read was sent.
  void judge_final_keys(const mvcc::RangeResponse& response, Instant sent) {
    for (const mvcc::KeyValue& kv : response.kvs) {
      auto deadline = deadlines_.find(kv.key);
      if (deadline != deadlines_.end() && deadline->second > sent) {
        ++too_recent_;
        continue;
      }
      ++outlived_count_;
      if (outlived_.empty()) {
        outlived_ =
            kv.key + (deadline == deadlines_.end()
                          ? std::string(" (never written by a lease client)")
                          : " (lease deadline " +
                                std::to_string((sent - deadline->second).count() / 1'000'000) +
                                " ms before the read)");
      }
    }
  }

  uint64_t keep_alives_ = 0;
  uint64_t expired_seen_ = 0;
  uint64_t revokes_checked_ = 0;
  uint64_t abandoned_ = 0;
  std::string early_expiry_;
  std::string revoke_failure_;
  std::map<std::string, Instant> deadlines_;  // leased key -> its lease's latest expiry
  size_t outlived_count_ = 0;
  size_t too_recent_ = 0;
  std::string outlived_;
  bool final_read_done_ = false;
};

}  // namespace

std::unique_ptr<Workload> make_lease_workload() {
  return std::make_unique<LeaseWorkload>();
}

}  // namespace lockstep::sim
