#include "checker/lock_checker.h"

#include <algorithm>
#include <limits>
#include <map>

namespace lockstep::checker {

namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

// When the client stopped believing it held the lock: its release, or the moment it learned
// its lease was gone, whichever came first.
int64_t belief_end(const LockHold& hold) {
  int64_t end = hold.release_invoke.value_or(kForever);
  if (hold.lease_lost_time) end = std::min(end, *hold.lease_lost_time);
  return end;
}

std::string describe_time(int64_t time) {
  return time == kForever ? std::string("the end") : std::to_string(time);
}

std::string describe(const LockHold& hold) {
  return "client " + std::to_string(hold.client) + " (key revision " +
         std::to_string(hold.key_create_revision) + ", held " +
         std::to_string(hold.acquire_return) + ".." + describe_time(belief_end(hold)) + ")";
}

class LockReplay {
 public:
  LockReplay(const std::string& lock_name, std::vector<const LockHold*> holds,
             std::vector<LockViolation>& violations)
      : lock_name_(lock_name), holds_(std::move(holds)), violations_(violations) {
    // By the time the client learned it held the lock; ties by revision, for determinism.
    std::sort(holds_.begin(), holds_.end(), [](const LockHold* a, const LockHold* b) {
      if (a->acquire_return != b->acquire_return) return a->acquire_return < b->acquire_return;
      return a->key_create_revision < b->key_create_revision;
    });
  }

  void check_holds() {
    for (size_t i = 0; i < holds_.size(); ++i) {
      for (size_t j = i + 1; j < holds_.size(); ++j) check_pair(*holds_[i], *holds_[j]);
    }
  }

  // etcd's lock hands out fencing tokens (the ownership key's create revision); a resource
  // applying a write whose token is older than a holder that had already acquired is exactly
  // the stale-holder write fencing exists to stop.
  void check_write(const FencedWrite& write) {
    if (!write.accepted || write.indeterminate) return;
    const bool token_was_held = std::any_of(holds_.begin(), holds_.end(), [&](const LockHold* h) {
      return h->client == write.client && h->key_create_revision == write.fencing_revision &&
             h->acquire_return <= write.invoke_time;
    });
    const std::string what = "write by client " + std::to_string(write.client) + " at " +
                             std::to_string(write.invoke_time) + " fenced with revision " +
                             std::to_string(write.fencing_revision);
    if (!token_was_held) {
      report(LockGuarantee::kFencing, what + " uses a revision that client had not acquired");
    }
    for (const LockHold* hold : holds_) {
      if (hold->key_create_revision > write.fencing_revision &&
          hold->acquire_return < write.invoke_time) {
        report(LockGuarantee::kFencing,
               what + " was accepted after " + describe(*hold) + " had acquired the lock");
        return;
      }
    }
  }

 private:
  void check_pair(const LockHold& earlier, const LockHold& later) {
    // A client whose lease was already gone when its acquire returned never held the lock.
    if (later.lease_lost_time && *later.lease_lost_time <= later.acquire_return) return;
    if (earlier.lease_lost_time && *earlier.lease_lost_time <= earlier.acquire_return) return;
    const int64_t earlier_end = belief_end(earlier);
    if (earlier.client != later.client && later.acquire_return < earlier_end) {
      report(LockGuarantee::kMutualExclusion,
             describe(later) + " acquired while " + describe(earlier) + " still held it");
      return;
    }
    // Waiters are served in create-revision order (clientv3/concurrency.Mutex waits for the
    // keys with lower revisions to go), so successive holders have increasing revisions.
    if (earlier_end <= later.acquire_return &&
        earlier.key_create_revision >= later.key_create_revision) {
      report(LockGuarantee::kGrantOrder, describe(later) + " acquired after " + describe(earlier) +
                                             " with an ownership key that is not newer");
    }
  }
  void report(LockGuarantee guarantee, std::string message) {
    violations_.push_back(
        LockViolation{guarantee, lock_name_, "lock " + lock_name_ + ": " + std::move(message)});
  }

  const std::string& lock_name_;
  std::vector<const LockHold*> holds_;
  std::vector<LockViolation>& violations_;
};

}  // namespace

std::string_view lock_guarantee_name(LockGuarantee guarantee) {
  switch (guarantee) {
    case LockGuarantee::kMutualExclusion:
      return "mutual exclusion";
    case LockGuarantee::kGrantOrder:
      return "grant order";
    case LockGuarantee::kFencing:
      return "fencing";
  }
  return "unknown";
}

LockCheckResult check_locks(const std::vector<LockHold>& holds,
                            const std::vector<FencedWrite>& writes) {
  std::map<std::string, std::vector<const LockHold*>> holds_by_lock;
  std::map<std::string, std::vector<const FencedWrite*>> writes_by_lock;
  for (const LockHold& hold : holds) holds_by_lock[hold.lock_name].push_back(&hold);
  for (const FencedWrite& write : writes) {
    writes_by_lock[write.lock_name].push_back(&write);
    holds_by_lock.try_emplace(write.lock_name);
  }
  LockCheckResult result;
  for (auto& [name, lock_holds] : holds_by_lock) {
    LockReplay replay(name, std::move(lock_holds), result.violations);
    replay.check_holds();
    for (const FencedWrite* write : writes_by_lock[name]) replay.check_write(*write);
  }
  return result;
}

}  // namespace lockstep::checker
