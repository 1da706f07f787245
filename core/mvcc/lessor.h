#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/base/limits.h"
#include "core/base/time.h"
#include "core/mvcc/backend.h"
#include "core/mvcc/lease_requests.h"

namespace lockstep::mvcc {

struct LessorOptions {
  // etcd raises a TTL below the minimum to it; etcd derives the minimum from the election
  // timeout (ceil(1.5 * election timeout), 2 s by default), which the node passes in.
  int64_t min_ttl_seconds = limits::kMinLeaseTtlSeconds;
  // After a leader reports a lease as expired it waits this long before reporting it again
  // if the revoke did not get through (etcd expiredLeaseRetryInterval).
  Duration expired_lease_retry_interval = std::chrono::seconds(3);
  // How often the leader checkpoints remaining TTLs through Raft (etcd
  // --experimental-lease-checkpoint-interval, 5 minutes by default).
  Duration checkpoint_interval = std::chrono::minutes(5);
};

// etcd's lessor. The lease set and attachments are replicated state, changed only by applied
// entries (grant, revoke, checkpoint, and the puts/deletes that attach and detach keys).
// Expiry is not: only the primary (the leader's lessor) keeps deadlines, from times the
// caller passes in, and it reports expired leases so the leader can propose revokes through
// Raft. A follower never expires a lease by its own clock. On promotion every deadline is
// extended (etcd lessor.Promote), because the old leader's deadlines were lost with it.
class Lessor {
 public:
  struct Lease {
    LeaseId id;
    int64_t ttl_seconds = 0;            // granted TTL (raised to the minimum)
    int64_t remaining_ttl_seconds = 0;  // last checkpoint; 0 = none
    Instant expiry = kInstantMax;       // meaningful on the primary only
    Instant report_again_after = kInstantZero;
    Instant next_checkpoint = kInstantMax;
    std::set<std::string> keys;
  };

  explicit Lessor(LessorOptions options = {}) : options_(options) {}

  // ---- Replicated state (called while applying entries) ----

  // etcd lessor.Grant: id 0 is refused (kLeaseNotFound), a TTL above the maximum is refused
  // (kLeaseTtlTooLarge), an existing id is refused (kLeaseExists), a TTL below the minimum is
  // raised. Returns the granted lease.
  Result<LeaseGrantResponse> grant(LeaseId id, int64_t ttl_seconds, WriteBatch& batch);
  // Removes the lease record (the caller deletes the attached keys in the same batch first).
  Status remove(LeaseId id, WriteBatch& batch);
  // Records remaining TTLs (etcd lessor.Checkpoint); unknown ids are ignored, as in etcd.
  void checkpoint(const LeaseCheckpointRequest& request, WriteBatch& batch);
  void attach(LeaseId id, const std::string& key);
  void detach(LeaseId id, const std::string& key);

  bool exists(LeaseId id) const { return leases_.contains(id); }
  const Lease* find(LeaseId id) const;
  // Attached keys in ascending order (etcd revokes them sorted).
  std::vector<std::string> keys_of(LeaseId id) const;
  std::vector<LeaseId> lease_ids() const;
  size_t size() const { return leases_.size(); }

  // Rebuilds the lease set from the backend's lease bucket (attachments are added by the
  // caller from the live keys). On a follower leases have no deadline; a primary stays
  // primary and gives every lease a fresh deadline from clock() (as promote()).
  Status restore(const Backend& backend);

  // ---- Leader-local (never replicated) ----

  // The time a grant applied on the primary starts counting from. Monotonic.
  void advance_clock(Instant now);
  Instant clock() const { return clock_; }

  // Become the primary at `now`: every lease gets a fresh deadline `extend` plus its
  // remaining (checkpointed) or full TTL in the future.
  void promote(Instant now, Duration extend);
  void demote();
  bool is_primary() const { return primary_; }

  struct Renewal {
    int64_t ttl_seconds = 0;
    // The lease had a checkpointed remaining TTL: the leader should propose a checkpoint with
    // remaining 0 so that a later leader does not cut the renewed lease short (etcd Renew).
    bool clear_checkpoint = false;
  };
  // Keep-alive (etcd lessor.Renew): kNotLeader on a follower, kLeaseNotFound for an unknown
  // or already expired lease (its revoke is on its way). Renews to the full TTL.
  Result<Renewal> renew(LeaseId id, Instant now);

  // etcd LeaseTimeToLive: remaining whole seconds (truncated), -1 once expired.
  Result<LeaseTimeToLiveResponse> time_to_live(LeaseId id, bool with_keys, Instant now) const;

  // Leases whose deadline is at or before `now`, earliest deadline first, at most `limit`.
  // Each reported lease is not reported again until the retry interval has passed.
  std::vector<LeaseId> take_expired(Instant now, size_t limit);

  // Leases due for a checkpoint at `now` (primary only), with their remaining TTL; each is
  // scheduled again one interval later.
  std::vector<LeaseCheckpoint> take_checkpoints(Instant now, size_t limit);

 private:
  void persist(const Lease& lease, WriteBatch& batch) const;
  int64_t remaining_or_full_seconds(const Lease& lease) const;

  LessorOptions options_;
  std::map<LeaseId, Lease> leases_;
  bool primary_ = false;
  Instant clock_ = kInstantZero;
};

}  // namespace lockstep::mvcc
