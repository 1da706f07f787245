#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::checker {

// etcd's lock (v3lock / clientv3/concurrency.Mutex): a client holds a lock while its
// ownership key (created under the lock's prefix, attached to its session lease) has the
// lowest create revision among the waiters. etcd documents that a lock alone cannot give
// mutual exclusion to the outside world, because a holder may be paused past its lease
// expiry; writes to a protected resource must be fenced by the ownership key's revision
// ("the revision of the lock key can be used as a fencing token", etcd API guarantees; see
// also Kleppmann, "How to do distributed locking", 2016).
enum class LockGuarantee {
  kMutualExclusion,  // two clients believed they held the lock at the same time
  kGrantOrder,       // a later holder's ownership key is older than an earlier holder's
  kFencing,          // a stale fencing revision was accepted after a newer holder acquired
};
std::string_view lock_guarantee_name(LockGuarantee guarantee);

// One successful acquire and what ended it. The client believes it holds the lock from the
// acquire's return until it invokes the release (whether or not the release's outcome was
// learned: an indeterminate release still ends the client's belief), or until it learned its
// lease had expired. An acquire whose outcome is unknown is not a hold: its client never
// believed it held the lock, so leave it out.
struct LockHold {
  int64_t client = 0;
  std::string lock_name;
  int64_t acquire_invoke = 0;
  int64_t acquire_return = 0;
  int64_t key_create_revision = 0;        // the ownership key's create revision: the fencing token
  std::optional<int64_t> release_invoke;  // nullopt = still held when the history ends
  // When the client's session lease was known to be gone (a failed keep-alive, a fenced
  // write refused), or may have been: its last renewal's invoke plus the TTL, since the
  // store can expire the lease then and the client must assume it did (nullopt = no such
  // bound, the client believes until its release). From then on another client may
  // legitimately acquire, and only fencing protects the resource.
  std::optional<int64_t> lease_lost_time;
};

// A write to the resource the lock protects, carrying a fencing revision. The resource is
// meant to reject a write whose token is older than one it has seen.
struct FencedWrite {
  int64_t client = 0;
  std::string lock_name;
  int64_t invoke_time = 0;
  int64_t return_time = 0;
  int64_t fencing_revision = 0;
  bool accepted = true;        // the resource applied it (false: rejected as stale)
  bool indeterminate = false;  // outcome unknown: it may have been applied
};

struct LockViolation {
  LockGuarantee guarantee = LockGuarantee::kMutualExclusion;
  std::string lock_name;
  std::string message;
};

struct LockCheckResult {
  std::vector<LockViolation> violations;  // by lock name, then by time
  bool ok() const { return violations.empty(); }
};

// Times order events as in History (equal times are concurrent).
LockCheckResult check_locks(const std::vector<LockHold>& holds,
                            const std::vector<FencedWrite>& writes);

}  // namespace lockstep::checker
