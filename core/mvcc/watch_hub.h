#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/mvcc/key_range.h"
#include "core/mvcc/key_range_index.h"
#include "core/mvcc/kv_store.h"
#include "core/mvcc/watch_requests.h"

namespace lockstep::mvcc {

// etcd's watchableStore: watchers over key ranges, fed from a start revision that may be in
// the past (read back from the backend), now, or in the future.
//
// Two groups, as in etcd: a *synced* watcher has seen every revision up to the current one
// and gets each new revision's events pushed as it is applied (notify); an *unsynced*
// watcher is behind (it started in the past, or it fell behind because its queue filled up
// while nobody drained it) and catches up from the backend in bounded batches when
// responses are taken. A watcher whose next revision has been compacted is canceled with
// `compact_revision` set.
//
// Guarantees (etcd's watch API): events arrive in revision order, without gaps or
// duplicates; the events of one revision are never split across responses; a progress
// notification at revision R comes after every event at or below R.
class WatchHub {
 public:
  // One response carries the events of at most this many revisions while catching up
  // (etcd watchBatchMaxRevs). A single revision's events always travel together.
  static constexpr size_t kMaxRevisionsPerResponse = 1000;
  // Events queued for one synced watcher before it is demoted to the unsynced group and
  // left to catch up from the backend instead (etcd's victims; bounds memory).
  static constexpr size_t kMaxQueuedEventsPerWatcher = 8192;
  // Unsynced watchers handled per catch-up round (etcd maxWatchersPerSync).
  static constexpr size_t kMaxWatchersPerSync = 512;
  // Backend records read per catch-up round.
  static constexpr size_t kMaxRecordsPerSync = 10000;
  // Watchers one hub holds.
  static constexpr size_t kMaxWatchers = 100000;

  explicit WatchHub(const KvStore& store)
      : store_(store), synced_through_(store.current_revision()) {}

  // Registers a watcher. The answer is the "created" response; on failure (a duplicate
  // caller-chosen id, too many watchers) it is also canceled, with a reason (etcd sends
  // created=true, canceled=true).
  WatchResponse create(const WatchCreateRequest& request);
  // Cancels a watcher; nullopt when it does not exist.
  std::optional<WatchResponse> cancel(WatchId id);
  bool exists(WatchId id) const;

  // The store applied one write transaction at `revision` with these changes (each with
  // prev_kv). Queues events for synced watchers.
  void notify(Revision revision, const std::vector<Event>& changes);

  // A progress request (etcd RequestProgress): every synced watcher gets a response with no
  // events at the current revision, queued after its pending events.
  void request_progress();
  // A progress request for one watcher (a client's WatchProgressRequest covers its own
  // watchers): a response with no events at the current revision, queued after its pending
  // events. An unsynced watcher gets it once it has caught up, at the revision it caught up
  // to: etcd 3.4 answered at once with the current revision, ahead of events a catching-up
  // watcher had not been sent yet (etcd-io/etcd#15220, fixed in 3.5.8 by answering only
  // when synced). False when there is no such watcher.
  bool request_progress(WatchId id);
  // Periodic progress (WatchCreateRequest.progress_notify): watchers that asked for it, are
  // synced, and got nothing since the previous call get a progress response.
  void notify_idle_progress();

  // Up to `max_responses` queued responses, after letting unsynced watchers catch up from
  // the backend. Fails only when the backend fails.
  Result<std::vector<WatchResponse>> take_responses(size_t max_responses);

  // The store was rebuilt from the backend (snapshot install): revisions may have jumped,
  // so every watcher catches up from the backend again (etcd watchableStore.Restore).
  void on_restore();

  size_t watcher_count() const { return watchers_.size(); }
  size_t unsynced_count() const;

 private:
  struct Watcher {
    WatchId id = kAutoWatchId;
    KeyRange range;
    bool prev_kv = false;
    bool no_put = false;
    bool no_delete = false;
    bool progress_notify = false;
    // The first revision not yet queued for this watcher. For a synced watcher it only
    // matters while it is in the future: otherwise the watcher has seen everything up to
    // synced_through_ (advancing each synced watcher on every write would cost O(watchers)).
    Revision next_revision;
    bool synced = false;
    // Canceled (compacted) watchers stay until their queue is delivered, cancel last.
    bool canceled = false;
    bool sent_since_progress = false;
    // A progress request waits for this (unsynced) watcher to catch up.
    bool progress_requested = false;
    std::deque<WatchResponse> queue;
    size_t queued_events = 0;
  };

  bool wants(const Watcher& watcher, const Event& event) const;
  // Queues a response for delivery and marks the watcher ready.
  void push(Watcher& watcher, WatchResponse response);
  void set_synced(Watcher& watcher, bool synced);
  Status sync_unsynced();
  Status catch_up(Watcher& watcher, const std::vector<Event>& history, Revision history_end);
  Status fill_prev_kv(Event& event) const;
  WatchResponse response_for(const Watcher& watcher, Revision revision) const;

  void index_watcher(const Watcher& watcher);
  void unindex_watcher(const Watcher& watcher);
  std::map<WatchId, Watcher>::iterator erase_watcher(std::map<WatchId, Watcher>::iterator it);

  const KvStore& store_;
  std::map<WatchId, Watcher> watchers_;
  // Which watchers an event may concern, so notify() costs O(log n + matching watchers)
  // (etcd's watcherGroup: a map for single keys, an interval tree for ranges).
  std::multimap<std::string, WatchId> single_key_watchers_;
  KeyRangeIndex range_watchers_;
  // Watchers with queued responses, and watchers behind (so draining and catching up cost
  // O(watchers involved), not O(all watchers)).
  std::set<WatchId> ready_;
  std::set<WatchId> unsynced_;
  // The last revision notify() reported to the synced group.
  Revision synced_through_;
  WatchId next_auto_id_ = 0;
};

}  // namespace lockstep::mvcc
