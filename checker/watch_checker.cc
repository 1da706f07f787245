#include "checker/watch_checker.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace lockstep::checker {

namespace {

// Per watch, a runaway history would otherwise produce one message per missing revision.
constexpr size_t kMaxMissingReportedPerWatch = 5;

std::string event_type_name(WatchEventType type) {
  return type == WatchEventType::kPut ? "PUT" : "DELETE";
}

// The committed writes, indexed by revision and by key.
class WriteIndex {
 public:
  explicit WriteIndex(const WriteLog& log) : complete_(log.complete) {
    for (const CommittedChange& change : log.changes) {
      by_revision_[change.revision].push_back(&change);
      by_key_[change.key].emplace(change.revision, &change);
    }
  }
  bool complete() const { return complete_; }
  const CommittedChange* find(int64_t revision, const std::string& key) const {
    const auto found = by_key_.find(key);
    if (found == by_key_.end()) return nullptr;
    const auto at = found->second.find(revision);
    return at == found->second.end() ? nullptr : at->second;
  }
  // The key's last change before `revision`, or nullptr.
  const CommittedChange* previous(const std::string& key, int64_t revision) const {
    const auto found = by_key_.find(key);
    if (found == by_key_.end()) return nullptr;
    auto at = found->second.lower_bound(revision);
    if (at == found->second.begin()) return nullptr;
    return std::prev(at)->second;
  }
  // create_revision and version of the put at `revision` (mvccpb.KeyValue), from the key's
  // changes since its last delete; meaningful only when the log is complete.
  std::pair<int64_t, int64_t> create_and_version(const std::string& key, int64_t revision) const {
    const auto& changes = by_key_.at(key);
    int64_t create = 0;
    int64_t version = 0;
    for (auto it = changes.begin(); it != changes.end() && it->first <= revision; ++it) {
      if (it->second->type == WatchEventType::kDelete) {
        create = 0;
        version = 0;
        continue;
      }
      if (version == 0) create = it->first;
      ++version;
    }
    return {create, version};
  }
  const std::map<int64_t, std::vector<const CommittedChange*>>& by_revision() const {
    return by_revision_;
  }

 private:
  bool complete_;
  std::map<int64_t, std::vector<const CommittedChange*>> by_revision_;
  std::map<std::string, std::map<int64_t, const CommittedChange*>> by_key_;
};

// Checks one watch's responses in arrival order, collecting violations.
class WatchReplay {
 public:
  WatchReplay(const WriteIndex& writes, const WatchRecord& watch,
              std::vector<WatchViolation>& violations)
      : writes_(writes), watch_(watch), violations_(violations) {}

  void run() {
    for (size_t index = 0; index < watch_.responses.size(); ++index) {
      const WatchResponse& response = watch_.responses[index];
      if (canceled_ && (!response.events.empty() || !response.canceled)) {
        report(WatchGuarantee::kOrdered,
               "response " + std::to_string(index) + " arrived after the watch was canceled");
      }
      if (response.canceled) {
        canceled_ = true;
        continue;
      }
      if (response.events.empty()) {
        on_progress_notification(response.header_revision);
        continue;
      }
      for (const WatchEvent& event : response.events) on_event(event, index);
      check_revisions_whole(response, index);
    }
    check_no_gap(first_revision(), last_revision());
  }

  // The last revision the watcher was told about: its last event or bookmark, or, before
  // any, the revision before its start (a watch resuming another at S carries what that one
  // was told, up to S - 1; whether it resumed at the right S is checked on its own).
  int64_t last_revision() const {
    return std::max({last_event_revision_, last_bookmark_, watch_.start_revision - 1});
  }

 private:
  int64_t first_revision() const {
    return watch_.start_revision > 0 ? watch_.start_revision : first_event_revision_;
  }
  bool in_range(const std::string& key) const {
    if (watch_.range_end.empty()) return key == watch_.key;
    if (watch_.range_end == std::string(1, '\0')) return key >= watch_.key;
    return key >= watch_.key && key < watch_.range_end;
  }
  bool filtered(WatchEventType type) const {
    return type == WatchEventType::kPut ? watch_.filter_noput : watch_.filter_nodelete;
  }
  bool expected(const CommittedChange& change) const {
    return in_range(change.key) && !filtered(change.type);
  }
  void report(WatchGuarantee guarantee, std::string message) {
    violations_.push_back(WatchViolation{
        guarantee, watch_.watch_id, "watch " + std::to_string(watch_.watch_id) + ": " + message});
  }
  static std::string describe(const WatchEvent& event) {
    return event_type_name(event.type) + " " + event.kv.key + " at revision " +
           std::to_string(event.kv.mod_revision);
  }

  void on_progress_notification(int64_t revision) {
    if (revision < last_bookmark_) {
      report(WatchGuarantee::kBookmarkable,
             "progress notification at revision " + std::to_string(revision) +
                 " after one at revision " + std::to_string(last_bookmark_) + " (went backwards)");
    }
    if (revision < last_event_revision_) {
      report(WatchGuarantee::kBookmarkable, "progress notification at revision " +
                                                std::to_string(revision) + " after an event at " +
                                                std::to_string(last_event_revision_));
    }
    // A bookmark promises that everything up to it has been delivered already. What an
    // earlier bookmark covered was checked then, so each revision is checked once.
    check_no_gap(std::max(first_revision(), last_bookmark_ + 1), revision,
                 WatchGuarantee::kBookmarkable);
    last_bookmark_ = std::max(last_bookmark_, revision);
  }

  void on_event(const WatchEvent& event, size_t response_index) {
    const int64_t revision = event.kv.mod_revision;
    if (first_event_revision_ == 0) first_event_revision_ = revision;
    check_filters(event);
    if (revision < last_event_revision_) {
      report(WatchGuarantee::kOrdered, describe(event) + " delivered after an event at revision " +
                                           std::to_string(last_event_revision_));
    }
    if (revision <= last_bookmark_) {
      report(WatchGuarantee::kBookmarkable, describe(event) +
                                                " delivered after a progress notification at " +
                                                std::to_string(last_bookmark_));
    }
    if (!delivered_.emplace(revision, event.kv.key).second) {
      report(WatchGuarantee::kUnique, describe(event) + " delivered twice");
    }
    const auto [slot, inserted] = response_of_revision_.emplace(revision, response_index);
    if (!inserted && slot->second != response_index) {
      report(WatchGuarantee::kAtomic,
             "revision " + std::to_string(revision) + " split across responses " +
                 std::to_string(slot->second) + " and " + std::to_string(response_index));
    }
    check_matches_write(event);
    check_prev_kv(event);
    last_event_revision_ = std::max(last_event_revision_, revision);
  }

  void check_filters(const WatchEvent& event) {
    if (!in_range(event.kv.key)) {
      report(WatchGuarantee::kFilters, describe(event) + " is outside the watched range");
    }
    if (filtered(event.type)) {
      report(WatchGuarantee::kFilters,
             describe(event) + " delivered despite the " +
                 (event.type == WatchEventType::kPut ? "NOPUT" : "NODELETE") + " filter");
    }
    if (watch_.start_revision > 0 && event.kv.mod_revision < watch_.start_revision) {
      report(WatchGuarantee::kFilters, describe(event) + " precedes the start revision " +
                                           std::to_string(watch_.start_revision));
    }
    if (event.prev_kv && !watch_.prev_kv) {
      report(WatchGuarantee::kFilters, describe(event) + " carries a prev_kv nobody asked for");
    }
  }

  void check_matches_write(const WatchEvent& event) {
    const CommittedChange* change = writes_.find(event.kv.mod_revision, event.kv.key);
    if (change == nullptr) {
      if (writes_.complete()) {
        report(WatchGuarantee::kMatchesWrites, describe(event) + " matches no committed write");
      }
      return;
    }
    if (change->type != event.type) {
      report(WatchGuarantee::kMatchesWrites, describe(event) +
                                                 " but the write at that revision was a " +
                                                 event_type_name(change->type));
    } else if (event.type == WatchEventType::kPut && change->value != event.kv.value) {
      report(WatchGuarantee::kMatchesWrites, describe(event) + " carries value \"" +
                                                 event.kv.value + "\", the write put \"" +
                                                 change->value + "\"");
    }
  }

  // etcd: "prev_kv ... the key-value pair before the event happens"; it may be absent when
  // that version was compacted, so only a wrong one is a violation.
  void check_prev_kv(const WatchEvent& event) {
    if (!event.prev_kv) return;
    const WatchKeyValue& prev = *event.prev_kv;
    const std::string where = describe(event) + ": prev_kv ";
    if (prev.key != event.kv.key || prev.mod_revision >= event.kv.mod_revision) {
      report(WatchGuarantee::kPrevKv,
             where + "names key " + prev.key + " at revision " + std::to_string(prev.mod_revision));
      return;
    }
    const CommittedChange* previous = writes_.previous(event.kv.key, event.kv.mod_revision);
    const CommittedChange* claimed = writes_.find(prev.mod_revision, prev.key);
    if (claimed != nullptr &&
        (claimed->type != WatchEventType::kPut || claimed->value != prev.value)) {
      report(WatchGuarantee::kPrevKv, where + "\"" + prev.value + "\" at revision " +
                                          std::to_string(prev.mod_revision) +
                                          " is not what was written there");
      return;
    }
    if (!writes_.complete()) return;
    if (previous == nullptr || previous->type == WatchEventType::kDelete) {
      report(WatchGuarantee::kPrevKv, where + "given, but the key did not exist before");
      return;
    }
    if (previous->revision != prev.mod_revision) {
      report(WatchGuarantee::kPrevKv,
             where + "is the version at revision " + std::to_string(prev.mod_revision) +
                 ", the previous version is at revision " + std::to_string(previous->revision));
      return;
    }
    const auto [create, version] = writes_.create_and_version(prev.key, prev.mod_revision);
    if ((prev.create_revision != 0 && prev.create_revision != create) ||
        (prev.version != 0 && prev.version != version)) {
      report(WatchGuarantee::kPrevKv,
             where + "has create_revision " + std::to_string(prev.create_revision) + " version " +
                 std::to_string(prev.version) + ", expected " + std::to_string(create) + " and " +
                 std::to_string(version));
    }
  }

  // Atomic: a response holding some event of a revision holds all of that revision's events.
  void check_revisions_whole(const WatchResponse& response, size_t response_index) {
    if (!writes_.complete()) return;
    std::map<int64_t, size_t> delivered_per_revision;
    for (const WatchEvent& event : response.events) ++delivered_per_revision[event.kv.mod_revision];
    for (const auto& [revision, delivered] : delivered_per_revision) {
      const auto found = writes_.by_revision().find(revision);
      if (found == writes_.by_revision().end()) continue;
      const size_t wanted = static_cast<size_t>(
          std::count_if(found->second.begin(), found->second.end(),
                        [&](const CommittedChange* change) { return expected(*change); }));
      if (delivered < wanted) {
        report(WatchGuarantee::kAtomic, "response " + std::to_string(response_index) + " holds " +
                                            std::to_string(delivered) + " of the " +
                                            std::to_string(wanted) + " events of revision " +
                                            std::to_string(revision));
      }
    }
  }

  // Reliable: every expected change in [from, to] whose revision the watcher never saw at
  // all (partial revisions are the atomic check's business) must have been delivered. A
  // resumed watch's loss is reported as a resumability failure.
  void check_no_gap(int64_t from, int64_t to, std::optional<WatchGuarantee> as = std::nullopt) {
    if (!writes_.complete() || from == 0 || to < from) return;
    const WatchGuarantee guarantee = as.value_or(
        watch_.resumes_watch_id ? WatchGuarantee::kResumable : WatchGuarantee::kReliable);
    size_t reported = 0;
    const auto& revisions = writes_.by_revision();
    for (auto it = revisions.lower_bound(from); it != revisions.end() && it->first <= to; ++it) {
      if (response_of_revision_.contains(it->first)) continue;
      for (const CommittedChange* change : it->second) {
        if (!expected(*change) ||
            !missing_reported_.emplace(change->revision, change->key).second) {
          continue;
        }
        if (reported++ == kMaxMissingReportedPerWatch) return;
        const std::string what = event_type_name(change->type) + " " + change->key +
                                 " at revision " + std::to_string(change->revision);
        if (guarantee == WatchGuarantee::kBookmarkable) {
          report(guarantee, what + " was not delivered before the progress notification at " +
                                std::to_string(to));
        } else {
          report(guarantee, what + " was never delivered (watched " + std::to_string(from) + ".." +
                                std::to_string(to) + ")");
        }
      }
    }
  }

  const WriteIndex& writes_;
  const WatchRecord& watch_;
  std::vector<WatchViolation>& violations_;
  int64_t first_event_revision_ = 0;
  int64_t last_event_revision_ = 0;
  int64_t last_bookmark_ = 0;
  bool canceled_ = false;
  std::set<std::pair<int64_t, std::string>> delivered_;
  std::set<std::pair<int64_t, std::string>> missing_reported_;
  std::map<int64_t, size_t> response_of_revision_;
};

// A watch restarted after a broken stream must ask for the revision after the last one it
// was told about (etcd clientv3 does so); asking later skips revisions nobody will deliver.
void check_resumption(const WatchRecord& watch, int64_t resumed_last_revision,
                      std::vector<WatchViolation>& violations) {
  const std::string prefix = "watch " + std::to_string(watch.watch_id) + ": ";
  if (watch.start_revision == 0 || watch.start_revision > resumed_last_revision + 1) {
    violations.push_back(WatchViolation{
        WatchGuarantee::kResumable, watch.watch_id,
        prefix + "resumes watch " + std::to_string(*watch.resumes_watch_id) + " at revision " +
            (watch.start_revision == 0 ? std::string("'now'")
                                       : std::to_string(watch.start_revision)) +
            ", but that watch was told about revisions up to " +
            std::to_string(resumed_last_revision) + ": revisions in between are lost"});
  }
}

}  // namespace

std::string_view watch_guarantee_name(WatchGuarantee guarantee) {
  switch (guarantee) {
    case WatchGuarantee::kOrdered:
      return "ordered";
    case WatchGuarantee::kUnique:
      return "unique";
    case WatchGuarantee::kAtomic:
      return "atomic";
    case WatchGuarantee::kReliable:
      return "reliable";
    case WatchGuarantee::kResumable:
      return "resumable";
    case WatchGuarantee::kBookmarkable:
      return "bookmarkable";
    case WatchGuarantee::kPrevKv:
      return "prev_kv";
    case WatchGuarantee::kFilters:
      return "filters";
    case WatchGuarantee::kMatchesWrites:
      return "matches writes";
  }
  return "unknown";
}

WatchCheckResult check_watches(const WriteLog& writes, const std::vector<WatchRecord>& watches) {
  const WriteIndex index(writes);
  WatchCheckResult result;
  std::map<int64_t, int64_t> last_revision_of_watch;
  for (const WatchRecord& watch : watches) {
    if (watch.resumes_watch_id) {
      const auto resumed = last_revision_of_watch.find(*watch.resumes_watch_id);
      if (resumed == last_revision_of_watch.end()) {
        result.violations.push_back(WatchViolation{
            WatchGuarantee::kResumable, watch.watch_id,
            "watch " + std::to_string(watch.watch_id) + ": resumes watch " +
                std::to_string(*watch.resumes_watch_id) + ", which is not earlier in the history"});
      } else {
        check_resumption(watch, resumed->second, result.violations);
      }
    }
    WatchReplay replay(index, watch, result.violations);
    replay.run();
    last_revision_of_watch[watch.watch_id] = replay.last_revision();
  }
  return result;
}

}  // namespace lockstep::checker
