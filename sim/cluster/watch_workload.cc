// The watch workload: one writer, several watchers on a prefix. Checks etcd's documented
// watch guarantees (https://etcd.io/docs/v3.5/learning/api_guarantees/#watch-apis):
// ordered (events by revision), unique (no event twice), reliable (no gap: nothing between
// two delivered events is missing), accurate (each event is a write that happened, with its
// revision), and, once writes stop, every watcher catches up to the last acknowledged write.
// The watches also ask for progress notifications (bookmarkable), periodic and on demand;
// every response is recorded for checker/watch_checker.h, which judges them all.
#include <algorithm>
#include <map>
#include <set>

#include "sim/cluster/recorded_client.h"
#include "sim/cluster/watch_stream.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

constexpr int kWatchKeys = 4;
constexpr int kWatchers = 2;
constexpr char kPrefix[] = "watch/";
constexpr char kPrefixEnd[] = "watch0";  // '/' + 1
// A watcher that heard nothing for this long checks that its member is alive.
constexpr Duration kWatcherIdleCheck = std::chrono::milliseconds(500);
constexpr Duration kWriterPause = std::chrono::milliseconds(15);
// The writer compacts history this many revisions behind its latest write, every this many
// writes, so that a watcher re-created after a failover can find its start revision
// compacted (etcd cancels it with the compaction revision; the watcher resumes from there).
constexpr int64_t kCompactionLagRevisions = 6;
constexpr uint64_t kWritesPerCompaction = 10;
// Watcher 0 asks for periodic progress notifications (WatchCreateRequest.progress_notify);
// watcher 1 asks for one on demand (WatchProgressRequest) after this many event responses,
// so that the checker's "bookmarkable" judges both kinds.
constexpr int kPeriodicProgressWatcher = 0;
constexpr int kOnDemandProgressWatcher = 1;
constexpr uint64_t kResponsesPerProgressRequest = 8;

checker::WatchKeyValue to_checker_key_value(const mvcc::KeyValue& kv) {
  return checker::WatchKeyValue{kv.key, kv.value, kv.create_revision.value(),
                                kv.mod_revision.value(), kv.version};
}

checker::WatchResponse to_checker_watch_response(const mvcc::WatchResponse& response) {
  checker::WatchResponse out;
  out.header_revision = response.header.revision.value();
  out.canceled = response.canceled;
  out.compact_revision = response.compact_revision.value();
  for (const mvcc::Event& event : response.events) {
    checker::WatchEvent converted;
    converted.type = event.type == mvcc::EventType::kPut ? checker::WatchEventType::kPut
                                                         : checker::WatchEventType::kDelete;
    converted.kv = to_checker_key_value(event.kv);
    if (event.prev_kv) converted.prev_kv = to_checker_key_value(*event.prev_kv);
    out.events.push_back(std::move(converted));
  }
  return out;
}

struct AcknowledgedWrite {
  mvcc::EventType type = mvcc::EventType::kPut;
  std::string key;
  std::string value;
  int64_t revision = 0;  // 0 when indeterminate
};

struct WatcherLog {
  std::vector<RecordedWatchEvent> events;
  int recreated = 0;
  // [from, to): revisions the member told this watcher were compacted before it saw them.
  std::vector<std::pair<int64_t, int64_t>> compacted_windows;
};

class WatchWorkload final : public Workload {
 public:
  std::string_view name() const override { return "watch"; }
  bool records_every_write() const override { return true; }

  void start(WorkloadEnvironment& environment) override {
    recorder_ = &environment.recorder;
    environment.cluster.add_client(
        "watch-writer", environment.client_options, [this, &environment](ClusterClient& client) {
          RecordedClient recorded(client, environment.recorder, environment.cluster.world(),
                                  environment.first_history_id);
          write(recorded, environment.stop_at);
        });
    watchers_.resize(kWatchers);
    // A watch create, cancel or progress request is answered by the member itself, without
    // Raft: waiting for one longer than an idle check only stalls a watcher whose request the
    // network lost (two such losses used to outlast the liveness phase under 1.8% loss).
    ClientOptions watcher_options = environment.client_options;
    watcher_options.attempt_timeout = std::min(watcher_options.attempt_timeout, kWatcherIdleCheck);
    for (int i = 0; i < kWatchers; ++i) {
      environment.cluster.add_client("watcher-" + std::to_string(i), watcher_options,
                                     [this, &environment, i](ClusterClient& client) {
                                       watch(client, environment, i,
                                             environment.first_history_id + 1 + i);
                                     });
    }
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment& environment) override;

 private:
  void write(RecordedClient& client, Instant stop_at) {
    Random& random = client.client().runtime().random();
    uint64_t written = 0;
    while (client.now() < stop_at) {
      const std::string key = kPrefix + std::to_string(random.below(kWatchKeys));
      AcknowledgedWrite write;
      write.key = key;
      CallResult result;
      if (random.below(8) == 0) {
        mvcc::DeleteRangeRequest del;
        del.key = key;
        write.type = mvcc::EventType::kDelete;
        result = client.delete_range(del);
        // A delete of an absent key writes nothing and produces no event.
        if (result.ok() && result.as<mvcc::DeleteRangeResponse>().deleted == 0) continue;
        if (result.ok())
          write.revision = result.as<mvcc::DeleteRangeResponse>().header.revision.value();
      } else {
        mvcc::PutRequest put;
        put.key = key;
        put.value = "w" + std::to_string(++written);
        write.value = put.value;
        result = client.put(put);
        if (result.ok()) write.revision = result.as<mvcc::PutResponse>().header.revision.value();
      }
      if (result.outcome != CallOutcome::kFailed) {
        writes_.push_back(write);
        recorder_->record_watched_write(WatchedWrite{write.type == mvcc::EventType::kPut
                                                         ? checker::WatchEventType::kPut
                                                         : checker::WatchEventType::kDelete,
                                                     write.key, write.value, write.revision});
      }
      if (write.revision > kCompactionLagRevisions && written % kWritesPerCompaction == 0) {
        mvcc::CompactionRequest compaction;
        compaction.revision = Revision(write.revision - kCompactionLagRevisions);
        (void)client.client().call(compaction);  // best effort: a failed one changes nothing
      }
      client.client().runtime().sleep_for(kWriterPause);
    }
  }

  void watch(ClusterClient& client, WorkloadEnvironment& environment, int index,
             int64_t history_id) {
    WatcherLog& log = watchers_[static_cast<size_t>(index)];
    const std::vector<NodeId>& members = client.members();
    size_t member_index = static_cast<size_t>(index) % members.size();
    int64_t next_revision = 1;  // from the beginning of history
    // The recorded watch whose events set next_revision: the one a new watch resumes
    // (checker: resumable). None after a compaction cancel: the watcher was told the
    // revisions in between are gone, so what follows is a fresh watch.
    std::optional<int64_t> resumes;
    // Watcher 1 asks for prev_kv, so that the checker judges it too.
    const bool prev_kv = index == 1;
    const bool progress_notify = index == kPeriodicProgressWatcher;
    const Instant watch_until = environment.end_at - std::chrono::milliseconds(500);
    WatchStream stream(kWatcherIdleCheck);
    while (environment.cluster.world().now() < watch_until) {
      const NodeId member = members[member_index];
      mvcc::WatchCreateRequest create;
      create.key = kPrefix;
      create.range_end = kPrefixEnd;
      create.start_revision = Revision(next_revision);
      create.prev_kv = prev_kv;
      create.progress_notify = progress_notify;
      CallResult created = client.call_member(member, create);
      if (created.ok() && told_compacted(log, created.as<mvcc::WatchResponse>(), next_revision)) {
        resumes.reset();
        continue;  // resume from the compaction revision on the same member
      }
      if (!created.ok() || created.as<mvcc::WatchResponse>().canceled) {
        member_index = (member_index + 1) % members.size();
        client.runtime().sleep_for(kWatcherIdleCheck / 5);
        continue;
      }
      ++log.recreated;
      const mvcc::WatchId watch_id = created.as<mvcc::WatchResponse>().watch_id;
      checker::WatchRecord record;
      record.key = create.key;
      record.range_end = create.range_end;
      record.start_revision = next_revision;
      record.prev_kv = prev_kv;
      record.progress_notify = progress_notify;
      record.resumes_watch_id = resumes;
      const size_t recorded_watch = environment.recorder.begin_watch(
          history_id, environment.cluster.world().now(), std::move(record));
      stream.start(member, watch_id, client.runtime().now());
      bool alive = true;
      bool switch_member = true;
      uint64_t event_responses = 0;
      bool compacted_here = false;
      while (alive && environment.cluster.world().now() < watch_until) {
        const std::vector<node::WatchStreamMessage> messages =
            client.take_watch_messages(stream.silent_at());
        for (const node::WatchStreamMessage& message : messages) {
          const WatchStream::Kind kind = stream.classify(message, client.runtime().now());
          if (kind == WatchStream::Kind::kStray) continue;
          // A lost stream message is a broken stream: start over from the last revision,
          // and close this watch as a client closes its stream (left open, it would keep
          // streaming to this client, progress notifications every interval).
          if (kind == WatchStream::Kind::kBroken) {
            (void)client.call_member(member, mvcc::WatchCancelRequest{watch_id});
            alive = false;
            switch_member = false;
            break;
          }
          environment.recorder.watch_response(recorded_watch, environment.cluster.world().now(),
                                              to_checker_watch_response(message.response));
          if (!message.response.events.empty()) {
            resumes = environment.recorder.watch_id(recorded_watch);
            ++event_responses;
          } else if (!message.response.canceled &&
                     message.response.header.revision.value() >= next_revision) {
            // A progress notification past what was seen: everything up to its revision was
            // delivered, so a re-created watch starts after it (as Kubernetes resumes from a
            // bookmark). A false promise then loses events, which the checks below and the
            // checker see. (One at or below it, e.g. from a member behind a watch that starts
            // in its future, tells nothing new.)
            next_revision = message.response.header.revision.value() + 1;
            resumes = environment.recorder.watch_id(recorded_watch);
          }
          for (const mvcc::Event& event : message.response.events) {
            RecordedWatchEvent recorded;
            recorded.client = history_id;
            recorded.watch = index;
            recorded.time_ns = environment.cluster.world().now().nanoseconds();
            recorded.type = event.type;
            recorded.key = event.kv.key;
            recorded.value = event.kv.value;
            recorded.mod_revision = event.kv.mod_revision.value();
            next_revision = std::max(next_revision, recorded.mod_revision + 1);
            environment.recorder.record_watch_event(recorded);
            log.events.push_back(std::move(recorded));
          }
          if (message.response.canceled) {
            alive = false;
            // A compaction cancel is not a failure of the member: resume on it.
            compacted_here = told_compacted(log, message.response, next_revision);
            if (compacted_here) resumes.reset();
          }
        }
        for (const auto& [stray_member, stray_id] : stream.stray_cancels(client.runtime().now())) {
          (void)client.call_member(stray_member, mvcc::WatchCancelRequest{stray_id});
        }
        if (alive && stream.silent(client.runtime().now())) {
          // Silence from this watch (strays do not count): the watch may be gone (the member
          // restarted and lost it, or its cancel notice was lost) or the member may be
          // unreachable. (A real client has its TCP connection.) Cancel it and start over
          // from the last revision seen: on the same member if it answered, on the next one
          // otherwise.
          const CallResult canceled =
              client.call_member(member, mvcc::WatchCancelRequest{watch_id});
          alive = false;
          switch_member = canceled.error == ErrorCode::kTimeoutDueToConnectionLost;
          continue;
        }
        if (alive && index == kOnDemandProgressWatcher &&
            event_responses >= kResponsesPerProgressRequest) {
          // The answer only acknowledges; the notification follows on the watch's stream
          // (any failure shows as silence there).
          event_responses = 0;
          (void)client.call_member(member, mvcc::WatchProgressRequest{});
        }
      }
      stream.stop();
      if (!alive && !compacted_here && switch_member)
        member_index = (member_index + 1) % members.size();
    }
  }

  // etcd: a watch whose start revision was compacted is canceled with compact_revision set;
  // the revisions before it are gone for this watcher, and it may resume from there.
  static bool told_compacted(WatcherLog& log, const mvcc::WatchResponse& response,
                             int64_t& next_revision) {
    if (!response.canceled || response.compact_revision.value() <= 0) return false;
    const int64_t compacted = response.compact_revision.value();
    if (compacted > next_revision) log.compacted_windows.emplace_back(next_revision, compacted);
    next_revision = std::max(next_revision, compacted);
    return true;
  }

  std::vector<AcknowledgedWrite> writes_;
  std::vector<WatcherLog> watchers_;
  HistoryRecorder* recorder_ = nullptr;
};

std::vector<CheckOutcome> WatchWorkload::check(const WorkloadEnvironment&) {
  CheckOutcome order{"watch: ordered, unique, accurate", CheckOutcome::Verdict::kPass, ""};
  CheckOutcome complete{"watch: no gaps, caught up", CheckOutcome::Verdict::kPass, ""};
  auto fail = [](CheckOutcome& outcome, std::string why) {
    if (outcome.verdict == CheckOutcome::Verdict::kFail) return;
    outcome.verdict = CheckOutcome::Verdict::kFail;
    outcome.detail = std::move(why);
  };
  // Writes by revision (determinate) and by (key, value) for puts (values are unique).
  std::map<int64_t, const AcknowledgedWrite*> by_revision;
  std::map<std::pair<std::string, std::string>, const AcknowledgedWrite*> puts;
  int64_t last_acknowledged = 0;
  for (const AcknowledgedWrite& write : writes_) {
    if (write.revision > 0) {
      by_revision[write.revision] = &write;
      last_acknowledged = std::max(last_acknowledged, write.revision);
    }
    if (write.type == mvcc::EventType::kPut) puts[{write.key, write.value}] = &write;
  }
  size_t total_events = 0;
  for (size_t w = 0; w < watchers_.size(); ++w) {
    const std::vector<RecordedWatchEvent>& events = watchers_[w].events;
    total_events += events.size();
    const std::string who = "watcher " + std::to_string(w);
    std::set<int64_t> seen;
    int64_t previous = 0;
    for (const RecordedWatchEvent& event : events) {
      if (event.mod_revision <= previous) {
        fail(order, who + " got revision " + std::to_string(event.mod_revision) + " after " +
                        std::to_string(previous));
      }
      previous = std::max(previous, event.mod_revision);
      seen.insert(event.mod_revision);
      if (event.type == mvcc::EventType::kPut) {
        auto put = puts.find({event.key, event.value});
        if (put == puts.end()) {
          fail(order, who + " saw a put of " + event.key + "=" + event.value + " nobody wrote");
        } else if (put->second->revision != 0 && put->second->revision != event.mod_revision) {
          fail(order, who + " saw " + event.key + "=" + event.value + " at revision " +
                          std::to_string(event.mod_revision) + ", written at " +
                          std::to_string(put->second->revision));
        }
      } else if (auto write = by_revision.find(event.mod_revision);
                 write != by_revision.end() && (write->second->type != mvcc::EventType::kDelete ||
                                                write->second->key != event.key)) {
        fail(order, who + " saw a delete of " + event.key + " at revision " +
                        std::to_string(event.mod_revision) + " where another write happened");
      }
    }
    // Reliable delivery: every acknowledged write up to the last revision seen was seen.
    for (const auto& [revision, write] : by_revision) {
      if (revision > previous) break;
      const bool told = std::ranges::any_of(
          watchers_[w].compacted_windows,
          [&](const auto& window) { return revision >= window.first && revision < window.second; });
      if (!seen.contains(revision) && !told) {
        fail(complete, who + " missed the " +
                           (write->type == mvcc::EventType::kPut ? "put" : "delete") + " of " +
                           write->key + " at revision " + std::to_string(revision) + " (gap)");
      }
    }
    if (previous < last_acknowledged) {
      fail(complete, who + " stopped at revision " + std::to_string(previous) +
                         ", last acknowledged write is at " + std::to_string(last_acknowledged));
    }
  }
  const std::string counts = std::to_string(writes_.size()) + " writes, " +
                             std::to_string(total_events) + " events delivered";
  if (order.passed()) order.detail = counts;
  if (complete.passed()) complete.detail = counts;
  if (writes_.empty()) {
    complete.verdict = CheckOutcome::Verdict::kUnknown;
    complete.detail = "no writes completed; nothing to watch";
  }
  return {order, complete};
}

}  // namespace

std::unique_ptr<Workload> make_watch_workload() {
  return std::make_unique<WatchWorkload>();
}

}  // namespace lockstep::sim
