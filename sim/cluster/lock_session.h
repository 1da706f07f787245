#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/base/time.h"
#include "sim/cluster/history_recorder.h"

namespace lockstep::sim {

// How long a lock client may believe it holds the lock, recorded as checker::LockHold.
//
// A lock of etcd's recipe (clientv3/concurrency.Mutex) lives as long as the client's session
// lease. The store may expire that lease TTL after the last renewal it saw, and the client
// cannot know when that was, only when it sent the request: the lease cannot end before the
// invoke of the grant or of the last successful keep-alive plus the TTL, but it may end right
// then. So the client must stop relying on the lock at that instant (clientv3's session
// reports itself done when keep-alives stop getting through), and a successor acquiring
// after it is no mutual-exclusion violation, only something fencing must guard against.
//
// The hold therefore always carries that deadline as its lease_lost_time, advanced by every
// successful keep-alive, and pulled earlier when the client learns the lease is gone (a
// fenced write refused). This holds however the hold ends: a release, or the run ending while
// the client still waits on a call.
class LockSession {
 public:
  LockSession(HistoryRecorder& recorder, int64_t client, Duration ttl)
      : recorder_(recorder), client_(client), ttl_(ttl) {}

  // A new session: its lease grant is invoked at `at`. Any previous hold is over.
  void granting(Instant at);
  // A keep-alive invoked at `invoked` renewed the lease (it still existed).
  void renewed(Instant invoked);
  // The acquire invoked at `invoked` returned at `returned` with the lock held through the
  // ownership key created at `key_create_revision`; records the hold and returns its handle.
  size_t acquired(std::string lock_name, Instant invoked, Instant returned,
                  int64_t key_create_revision);
  // The client learned at `at` that its lease is gone (its fenced write was refused).
  void lost(Instant at);
  // The client starts releasing the lock at `at`: it no longer relies on it.
  void releasing(Instant at);

  // Until when the lease is certainly alive, as far as the client knows.
  Instant valid_until() const { return renewed_ + ttl_; }
  int64_t client() const { return client_; }
  HistoryRecorder& recorder() { return recorder_; }

 private:
  HistoryRecorder& recorder_;
  int64_t client_;
  Duration ttl_;
  Instant renewed_;
  std::optional<size_t> hold_;  // the open hold: acquired, not yet released
  bool lost_ = false;           // the open hold's lease is known to be gone
};

}  // namespace lockstep::sim
