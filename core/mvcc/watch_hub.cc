#include "core/mvcc/watch_hub.h"

#include <algorithm>

#include "core/base/known_bugs.h"

namespace lockstep::mvcc {
namespace {

bool is_create(const Event& event) {
  return event.type == EventType::kPut && event.kv.create_revision == event.kv.mod_revision;
}

constexpr std::string_view kDuplicateWatchIdReason =
    "mvcc: duplicate watch ID provided on the WatchStream";
constexpr std::string_view kTooManyWatchersReason = "mvcc: too many watchers";

}  // namespace

void WatchHub::index_watcher(const Watcher& watcher) {
  if (watcher.range.is_single_key()) {
    single_key_watchers_.emplace(watcher.range.key, watcher.id);
  } else {
    range_watchers_.insert(watcher.range, watcher.id);
  }
}

void WatchHub::unindex_watcher(const Watcher& watcher) {
  if (!watcher.range.is_single_key()) {
    const bool erased = range_watchers_.erase(watcher.range, watcher.id);
    ASSERT(erased, "every range watcher is indexed");
    return;
  }
  auto [begin, end] = single_key_watchers_.equal_range(watcher.range.key);
  for (auto it = begin; it != end; ++it) {
    if (it->second == watcher.id) {
      single_key_watchers_.erase(it);
      return;
    }
  }
  UNREACHABLE("every watcher is indexed");
}

std::map<WatchId, WatchHub::Watcher>::iterator WatchHub::erase_watcher(
    std::map<WatchId, Watcher>::iterator it) {
  unindex_watcher(it->second);
  ready_.erase(it->first);
  unsynced_.erase(it->first);
  return watchers_.erase(it);
}

bool WatchHub::exists(WatchId id) const {
  auto it = watchers_.find(id);
  return it != watchers_.end() && !it->second.canceled;
}

size_t WatchHub::unsynced_count() const {
  return unsynced_.size();
}

WatchResponse WatchHub::response_for(const Watcher& watcher, Revision revision) const {
  WatchResponse response;
  response.watch_id = watcher.id;
  response.header.revision = revision;
  return response;
}

WatchResponse WatchHub::create(const WatchCreateRequest& request) {
  WatchResponse response;
  response.header.revision = store_.current_revision();
  response.created = true;
  WatchId id = request.watch_id;
  if (id == kAutoWatchId) {
    // etcd 3.4+: automatic ids count up from 0, skipping ids in use.
    while (watchers_.contains(next_auto_id_)) ++next_auto_id_;
    id = next_auto_id_++;
  }
  response.watch_id = id;
  if (watchers_.contains(id)) {
    response.canceled = true;
    response.cancel_reason = std::string(kDuplicateWatchIdReason);
    return response;
  }
  if (watchers_.size() >= kMaxWatchers) {
    response.canceled = true;
    response.cancel_reason = std::string(kTooManyWatchersReason);
    return response;
  }
  Watcher watcher;
  watcher.id = id;
  // etcd's watch server: an empty key means "\0", the smallest key.
  watcher.range =
      KeyRange{request.key.empty() ? std::string(1, '\0') : request.key, request.range_end};
  watcher.prev_kv = request.prev_kv;
  watcher.progress_notify = request.progress_notify;
  for (WatchFilter filter : request.filters) {
    if (filter == WatchFilter::kNoPut) watcher.no_put = true;
    if (filter == WatchFilter::kNoDelete) watcher.no_delete = true;
  }
  const Revision next = store_.current_revision().next();
  bool synced = true;
  if (request.start_revision <= Revision(0)) {
    watcher.next_revision = next;
  } else {
    watcher.next_revision = request.start_revision;
    // A start in the future waits in the synced group (etcd watchableStore.watch).
    synced = request.start_revision >= next;
  }
  index_watcher(watcher);
  Watcher& stored = watchers_.emplace(id, std::move(watcher)).first->second;
  set_synced(stored, synced);
  return response;
}

std::optional<WatchResponse> WatchHub::cancel(WatchId id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end() || it->second.canceled) return std::nullopt;
  WatchResponse response = response_for(it->second, store_.current_revision());
  response.canceled = true;
  erase_watcher(it);
  return response;
}

void WatchHub::on_restore() {
  const Revision current = store_.current_revision();
  for (auto& [id, watcher] : watchers_) {
    if (watcher.canceled || !watcher.synced) continue;
    watcher.next_revision = std::max(watcher.next_revision, synced_through_.next());
    set_synced(watcher, watcher.next_revision > current);
  }
  synced_through_ = current;
}

bool WatchHub::wants(const Watcher& watcher, const Event& event) const {
  if (event.type == EventType::kPut && watcher.no_put) return false;
  if (event.type == EventType::kDelete && watcher.no_delete) return false;
  return watcher.range.contains(event.kv.key);
}

void WatchHub::push(Watcher& watcher, WatchResponse response) {
  watcher.queued_events += response.events.size();
  if (!response.events.empty()) watcher.sent_since_progress = true;
  watcher.queue.push_back(std::move(response));
  ready_.insert(watcher.id);
}

void WatchHub::set_synced(Watcher& watcher, bool synced) {
  watcher.synced = synced;
  if (synced || watcher.canceled) {
    unsynced_.erase(watcher.id);
  } else {
    unsynced_.insert(watcher.id);
  }
}

void WatchHub::notify(Revision revision, const std::vector<Event>& changes) {
  ASSERT(revision > synced_through_, "each write transaction is reported once, in order");
  std::map<WatchId, WatchResponse> matched;  // ordered: responses queue in watch id order
  auto offer = [&](WatchId id, const Event& change) {
    Watcher& watcher = watchers_.at(id);
    if (!watcher.synced || watcher.canceled) return;
    if (revision < watcher.next_revision) return;  // starts in the future
    if (!wants(watcher, change)) return;
    auto [it, inserted] = matched.try_emplace(id);
    if (inserted) it->second = response_for(watcher, revision);
    it->second.events.push_back(change);
    if (!watcher.prev_kv) it->second.events.back().prev_kv.reset();
  };
  for (const Event& change : changes) {
    auto [begin, end] = single_key_watchers_.equal_range(change.kv.key);
    for (auto it = begin; it != end; ++it) offer(it->second, change);
    range_watchers_.for_each_containing(change.kv.key, [&](int64_t id) { offer(id, change); });
  }
  for (auto& [id, response] : matched) {
    Watcher& watcher = watchers_.at(id);
    if (watcher.queued_events + response.events.size() > kMaxQueuedEventsPerWatcher) {
      // Nobody is draining this watcher: stop buffering and catch up from the backend
      // later, starting with this revision (etcd moves such a watcher to its victims).
      set_synced(watcher, false);
      watcher.next_revision = revision;
      continue;
    }
    push(watcher, std::move(response));
  }
  synced_through_ = revision;
}

void WatchHub::request_progress() {
  const Revision current = store_.current_revision();
  for (auto& [id, watcher] : watchers_) {
    if (!watcher.synced || watcher.canceled) continue;
    push(watcher, response_for(watcher, current));
  }
}

bool WatchHub::request_progress(WatchId id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end() || it->second.canceled) return false;
  Watcher& watcher = it->second;
  if (watcher.synced) {
    push(watcher, response_for(watcher, store_.current_revision()));
  } else {
    watcher.progress_requested = true;  // answered by catch_up once synced
  }
  return true;
}

void WatchHub::notify_idle_progress() {
  const Revision current = store_.current_revision();
  for (auto& [id, watcher] : watchers_) {
    if (!watcher.progress_notify || !watcher.synced || watcher.canceled) continue;
    if (!watcher.sent_since_progress) push(watcher, response_for(watcher, current));
    watcher.sent_since_progress = false;
  }
}

Status WatchHub::fill_prev_kv(Event& event) const {
  // etcd's watch server reads the previous version at mod_revision - 1; a created key has
  // none, and a compacted one is left out.
  if (is_create(event)) return Status::ok();
  RangeOptions options;
  options.revision = event.kv.mod_revision.previous();
  Result<RangeResult> previous = store_.range(KeyRange{event.kv.key, ""}, options);
  if (!previous.is_ok()) {
    if (previous.code() == ErrorCode::kCompacted) return Status::ok();
    return previous.error();
  }
  if (!previous->kvs.empty()) event.prev_kv = std::move(previous->kvs.front());
  return Status::ok();
}

Status WatchHub::catch_up(Watcher& watcher, const std::vector<Event>& history,
                          Revision history_end) {
  const Revision current = store_.current_revision();
  WatchResponse response;
  size_t revisions_in_response = 0;
  Revision last_revision_in_response{0};
  auto flush = [&](Revision covered_through) {
    if (response.events.empty()) return;
    response.watch_id = watcher.id;
    response.header.revision = covered_through;
    push(watcher, std::move(response));
    response = WatchResponse();
    revisions_in_response = 0;
  };
  for (size_t index = 0; index < history.size(); ++index) {
    const Event& event = history[index];
    const Revision revision = event.kv.mod_revision;
    if (revision < watcher.next_revision || !wants(watcher, event)) continue;
    if (revision != last_revision_in_response) {
      if (revisions_in_response == kMaxRevisionsPerResponse) {
        flush(last_revision_in_response);
      }
      if (watcher.queued_events + response.events.size() >= kMaxQueuedEventsPerWatcher) {
        // Queue full: deliver what is there and continue from this revision next round.
        flush(last_revision_in_response);
        watcher.next_revision = revision;
        return Status::ok();
      }
      ++revisions_in_response;
      last_revision_in_response = revision;
    }
    Event copy = event;
    if (watcher.prev_kv) RETURN_IF_ERROR(fill_prev_kv(copy));
    response.events.push_back(std::move(copy));
  }
  // Every event below history_end is now queued. The header revision promises no event at
  // or below it is missing, so it is the end of what was read, not the current revision
  // (unless the read reached it).
  flush(history_end.previous());
  watcher.next_revision = std::max(watcher.next_revision, history_end);
  if (watcher.next_revision > current) {
    set_synced(watcher, true);
    if (watcher.progress_requested) {
      // Every revision up to `current` is queued now: the promise holds.
      watcher.progress_requested = false;
      push(watcher, response_for(watcher, current));
    }
  }
  return Status::ok();
}

Status WatchHub::sync_unsynced() {
  std::vector<Watcher*> batch;
  const Revision compact = store_.compact_revision();
  const std::vector<WatchId> behind(unsynced_.begin(), unsynced_.end());
  for (WatchId id : behind) {
    Watcher& watcher = watchers_.at(id);
#ifdef LOCKSTEP_KNOWN_BUGS
    // KNOWN BUG watch-drop-at-compaction: skips the compacted events silently instead of
    // canceling the watcher, so it sees a gap it is never told about.
    if (known_bug_active(KnownBug::kWatchDropAtCompaction) && watcher.next_revision < compact) {
      watcher.next_revision = compact;
    }
#endif
    if (watcher.next_revision < compact) {
      // etcd: the watcher's next revision is gone; cancel with the compaction revision.
      WatchResponse response = response_for(watcher, store_.current_revision());
      response.canceled = true;
      response.compact_revision = compact;
      response.cancel_reason = std::string(error_message(ErrorCode::kCompacted));
      watcher.canceled = true;
      set_synced(watcher, false);  // leaves the unsynced group: canceled
      push(watcher, std::move(response));
      continue;
    }
    if (batch.size() < kMaxWatchersPerSync) batch.push_back(&watcher);
  }
  if (batch.empty()) return Status::ok();
  Revision from = batch.front()->next_revision;
  for (const Watcher* watcher : batch) from = std::min(from, watcher->next_revision);
  const Revision until = store_.current_revision().next();
  Revision history_end;
  Result<std::vector<Event>> history = store_.history(from, until, kMaxRecordsPerSync, history_end);
  if (!history.is_ok()) return history.error();
  for (Watcher* watcher : batch) RETURN_IF_ERROR(catch_up(*watcher, *history, history_end));
  return Status::ok();
}

Result<std::vector<WatchResponse>> WatchHub::take_responses(size_t max_responses) {
  RETURN_IF_ERROR(sync_unsynced());
  std::vector<WatchResponse> responses;
  // Round robin over the ready watchers, one response each per round, in id order.
  while (responses.size() < max_responses && !ready_.empty()) {
    const std::vector<WatchId> round(ready_.begin(), ready_.end());
    for (WatchId id : round) {
      if (responses.size() >= max_responses) break;
      auto it = watchers_.find(id);
      ASSERT(it != watchers_.end(), "a ready watcher exists");
      Watcher& watcher = it->second;
      ASSERT(!watcher.queue.empty(), "a ready watcher has a queued response");
      WatchResponse response = std::move(watcher.queue.front());
      watcher.queue.pop_front();
      watcher.queued_events -= response.events.size();
      responses.push_back(std::move(response));
      if (watcher.queue.empty()) {
        ready_.erase(id);
        if (watcher.canceled) erase_watcher(it);
      }
    }
  }
  return responses;
}

}  // namespace lockstep::mvcc
