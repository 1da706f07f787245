#include "sim/cluster/history_recorder.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/base/assert.h"

namespace lockstep::sim {

size_t HistoryRecorder::invoke(int64_t client, Instant at, checker::Request request) {
  Slot slot;
  slot.operation.client = client;
  slot.operation.invoke_time = at.nanoseconds();
  slot.operation.request = std::move(request);
  slots_.push_back(std::move(slot));
  return slots_.size() - 1;
}

void HistoryRecorder::complete(size_t handle, Instant at, checker::Response response) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.operation.return_time = at.nanoseconds();
  slot.operation.response = std::move(response);
  ++completed_;
}

void HistoryRecorder::indeterminate(size_t handle, Instant at) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.operation.indeterminate = true;
  slot.operation.return_time = at.nanoseconds();
  ++indeterminate_;
}

void HistoryRecorder::fail(size_t handle) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.dropped = true;
  ++failed_;
}

checker::History HistoryRecorder::history() const {
  checker::History history;
  history.model_hint = "etcd";
  for (const Slot& slot : slots_) {
    if (slot.dropped) continue;
    checker::Operation operation = slot.operation;
    // An operation still open when the run ended never got its answer.
    if (slot.open) operation.indeterminate = true;
    history.operations.push_back(std::move(operation));
  }
  return history;
}

size_t HistoryRecorder::begin_watch(int64_t client, Instant at, checker::WatchRecord watch) {
  watch.watch_id = static_cast<int64_t>(watches_.size()) + 1;
  watches_.push_back(RecordedWatch{client, at.nanoseconds(), std::move(watch), {}});
  return watches_.size() - 1;
}

void HistoryRecorder::watch_response(size_t watch, Instant at, checker::WatchResponse response) {
  RecordedWatch& recorded = watches_.at(watch);
  recorded.watch.responses.push_back(std::move(response));
  recorded.response_times_ns.push_back(at.nanoseconds());
}

size_t HistoryRecorder::record_lock_hold(checker::LockHold hold) {
  lock_holds_.push_back(std::move(hold));
  return lock_holds_.size() - 1;
}

ResolvedWriteLog HistoryRecorder::resolved_write_log() const {
  // What the watchers saw: each put by its (key, value), each delete by key. A put is also
  // seen through a later event's prev_kv: a watcher whose watch a compaction cancelled skips
  // the compacted revisions (etcd cannot deliver them), so a put committed there reaches no
  // watcher as an event, but the key's next change names it as its previous version.
  std::map<std::pair<std::string, std::string>, int64_t> seen_puts;
  std::map<std::string, std::set<int64_t>> seen_deletes;
  for (const RecordedWatch& recorded : watches_) {
    for (const checker::WatchResponse& response : recorded.watch.responses) {
      for (const checker::WatchEvent& event : response.events) {
        if (event.type == checker::WatchEventType::kPut) {
          seen_puts.emplace(std::pair{event.kv.key, event.kv.value}, event.kv.mod_revision);
        } else {
          seen_deletes[event.kv.key].insert(event.kv.mod_revision);
        }
        if (event.prev_kv) {
          seen_puts.emplace(std::pair{event.prev_kv->key, event.prev_kv->value},
                            event.prev_kv->mod_revision);
        }
      }
    }
  }
  ResolvedWriteLog resolved;
  resolved.log.complete = true;
  std::set<int64_t> taken;
  auto add = [&](const WatchedWrite& write, int64_t revision) {
    resolved.log.changes.push_back(
        checker::CommittedChange{revision, write.key, write.type, write.value});
    taken.insert(revision);
  };
  for (const WatchedWrite& write : watched_writes_) {
    if (write.revision > 0) add(write, write.revision);
  }
  for (const WatchedWrite& write : watched_writes_) {
    if (write.revision > 0) continue;
    std::optional<int64_t> revision;
    if (write.type == checker::WatchEventType::kPut) {
      auto seen = seen_puts.find({write.key, write.value});
      if (seen != seen_puts.end() && !taken.contains(seen->second)) revision = seen->second;
    } else if (auto seen = seen_deletes.find(write.key); seen != seen_deletes.end()) {
      for (int64_t candidate : seen->second) {
        if (!taken.contains(candidate)) {
          revision = candidate;
          break;
        }
      }
    }
    if (revision) {
      add(write, *revision);
      ++resolved.resolved_from_events;
    } else {
      ++resolved.assumed_not_committed;
    }
  }
  return resolved;
}

namespace {

using Json = nlohmann::json;

std::string_view event_type_name(checker::WatchEventType type) {
  return type == checker::WatchEventType::kPut ? "PUT" : "DELETE";
}

Json key_value_json(const checker::WatchKeyValue& kv) {
  return Json{{"key", kv.key},
              {"value", kv.value},
              {"create_revision", kv.create_revision},
              {"mod_revision", kv.mod_revision},
              {"version", kv.version}};
}

Json watch_json(const RecordedWatch& recorded) {
  const checker::WatchRecord& watch = recorded.watch;
  Json json{{"record", "watch"},
            {"watch_id", watch.watch_id},
            {"client", recorded.client},
            {"created", recorded.created_ns},
            {"key", watch.key},
            {"range_end", watch.range_end},
            {"start_revision", watch.start_revision},
            {"prev_kv", watch.prev_kv},
            {"filter_noput", watch.filter_noput},
            {"filter_nodelete", watch.filter_nodelete},
            {"progress_notify", watch.progress_notify}};
  if (watch.resumes_watch_id) json["resumes"] = *watch.resumes_watch_id;
  Json responses = Json::array();
  for (size_t i = 0; i < watch.responses.size(); ++i) {
    const checker::WatchResponse& response = watch.responses[i];
    Json events = Json::array();
    for (const checker::WatchEvent& event : response.events) {
      Json line{{"type", event_type_name(event.type)}, {"kv", key_value_json(event.kv)}};
      if (event.prev_kv) line["prev_kv"] = key_value_json(*event.prev_kv);
      events.push_back(std::move(line));
    }
    responses.push_back(Json{{"time", recorded.response_times_ns[i]},
                             {"header_revision", response.header_revision},
                             {"canceled", response.canceled},
                             {"compact_revision", response.compact_revision},
                             {"events", std::move(events)}});
  }
  json["responses"] = std::move(responses);
  return json;
}

Json lock_hold_json(const checker::LockHold& hold) {
  Json json{{"record", "lock_hold"},
            {"client", hold.client},
            {"lock", hold.lock_name},
            {"acquire_invoke", hold.acquire_invoke},
            {"acquire_return", hold.acquire_return},
            {"key_create_revision", hold.key_create_revision}};
  if (hold.release_invoke) json["release_invoke"] = *hold.release_invoke;
  if (hold.lease_lost_time) json["lease_lost"] = *hold.lease_lost_time;
  return json;
}

Json fenced_write_json(const checker::FencedWrite& write) {
  return Json{{"record", "fenced_write"},    {"client", write.client},
              {"lock", write.lock_name},     {"invoke", write.invoke_time},
              {"return", write.return_time}, {"fencing_revision", write.fencing_revision},
              {"accepted", write.accepted},  {"indeterminate", write.indeterminate}};
}

}  // namespace

std::string guarantee_records_jsonl(const HistoryRecorder& recorder) {
  std::string out;
  auto line = [&out](const Json& json) {
    out += json.dump();
    out += "\n";
  };
  if (!recorder.watches().empty() || !recorder.watched_writes().empty()) {
    const ResolvedWriteLog resolved = recorder.resolved_write_log();
    line(Json{{"record", "write_log"},
              {"complete", resolved.log.complete},
              {"resolved_from_events", resolved.resolved_from_events},
              {"assumed_not_committed", resolved.assumed_not_committed}});
    for (const checker::CommittedChange& change : resolved.log.changes) {
      line(Json{{"record", "committed"},
                {"revision", change.revision},
                {"key", change.key},
                {"type", event_type_name(change.type)},
                {"value", change.value}});
    }
    for (const RecordedWatch& watch : recorder.watches()) line(watch_json(watch));
  }
  for (const checker::LockHold& hold : recorder.lock_holds()) line(lock_hold_json(hold));
  for (const checker::FencedWrite& write : recorder.fenced_writes()) {
    line(fenced_write_json(write));
  }
  return out;
}

namespace {

checker::KeyValue to_checker_key_value(const mvcc::KeyValue& kv, RevisionRecording recording) {
  checker::KeyValue out;
  out.key = kv.key;
  out.value = kv.value;
  if (recording == RevisionRecording::kStrict) {
    out.create_revision = kv.create_revision.value();
    out.mod_revision = kv.mod_revision.value();
    out.version = kv.version;
  }
  return out;
}

int64_t header_revision(const mvcc::ResponseHeader& header, RevisionRecording recording) {
  return recording == RevisionRecording::kStrict ? header.revision.value() : 0;
}

checker::CompareTarget to_checker_target(mvcc::CompareTarget target) {
  switch (target) {
    case mvcc::CompareTarget::kValue:
      return checker::CompareTarget::kValue;
    case mvcc::CompareTarget::kVersion:
      return checker::CompareTarget::kVersion;
    case mvcc::CompareTarget::kCreate:
      return checker::CompareTarget::kCreateRevision;
    case mvcc::CompareTarget::kMod:
      return checker::CompareTarget::kModRevision;
    case mvcc::CompareTarget::kLease:
      break;
  }
  UNREACHABLE("workloads never compare leases");
}

checker::CompareResult to_checker_result(mvcc::CompareResult result) {
  switch (result) {
    case mvcc::CompareResult::kEqual:
      return checker::CompareResult::kEqual;
    case mvcc::CompareResult::kNotEqual:
      return checker::CompareResult::kNotEqual;
    case mvcc::CompareResult::kLess:
      return checker::CompareResult::kLess;
    case mvcc::CompareResult::kGreater:
      return checker::CompareResult::kGreater;
  }
  UNREACHABLE("compare result out of range");
}

checker::Request op_to_request(const mvcc::RequestOp& op) {
  return std::visit(
      [](const auto& typed) -> checker::Request {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnRequest>>) {
          return to_checker_request(*typed);
        } else {
          return to_checker_request(typed);
        }
      },
      op.request);
}

checker::Response op_to_response(const mvcc::ResponseOp& op, RevisionRecording recording) {
  return std::visit(
      [&](const auto& typed) -> checker::Response {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnResponse>>) {
          return to_checker_response(*typed, recording);
        } else {
          return to_checker_response(typed, recording);
        }
      },
      op.response);
}

}  // namespace

checker::Request to_checker_request(const mvcc::RangeRequest& request) {
  checker::Request out;
  out.kind = request.range_end.empty() ? checker::RequestKind::kGet : checker::RequestKind::kRange;
  out.key = request.key;
  out.range_end = request.range_end;
  return out;
}

checker::Request to_checker_request(const mvcc::PutRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kPut;
  out.key = request.key;
  out.value = request.value;
  return out;
}

checker::Request to_checker_request(const mvcc::DeleteRangeRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kDelete;
  out.key = request.key;
  out.range_end = request.range_end;
  return out;
}

checker::Request to_checker_request(const mvcc::TxnRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kTxn;
  for (const mvcc::Compare& compare : request.compare) {
    checker::Compare converted;
    converted.key = compare.key;
    converted.target = to_checker_target(compare.target);
    converted.result = to_checker_result(compare.result);
    converted.value = compare.value;
    switch (compare.target) {
      case mvcc::CompareTarget::kVersion:
        converted.number = compare.version;
        break;
      case mvcc::CompareTarget::kCreate:
        converted.number = compare.create_revision.value();
        break;
      case mvcc::CompareTarget::kMod:
        converted.number = compare.mod_revision.value();
        break;
      default:
        break;
    }
    out.compares.push_back(std::move(converted));
  }
  for (const mvcc::RequestOp& op : request.success) out.success.push_back(op_to_request(op));
  for (const mvcc::RequestOp& op : request.failure) out.failure.push_back(op_to_request(op));
  return out;
}

checker::Response to_checker_response(const mvcc::RangeResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  if (!response.kvs.empty()) out.value = response.kvs.front().value;
  // Without revisions the model can still judge a single key's value; the kvs list (with its
  // revisions) is recorded only when revisions are.
  if (recording == RevisionRecording::kStrict) {
    out.has_kvs = true;
    for (const mvcc::KeyValue& kv : response.kvs) {
      out.kvs.push_back(to_checker_key_value(kv, recording));
    }
  }
  return out;
}

checker::Response to_checker_response(const mvcc::PutResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  return out;
}

checker::Response to_checker_response(const mvcc::DeleteRangeResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  out.deleted = response.deleted;
  return out;
}

checker::Response to_checker_response(const mvcc::TxnResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  out.succeeded = response.succeeded;
  for (const mvcc::ResponseOp& op : response.responses) {
    checker::Response inner = op_to_response(op, recording);
    // Inner responses carry the txn's revision; the model checks the outer one.
    inner.revision = 0;
    out.responses.push_back(std::move(inner));
  }
  return out;
}

}  // namespace lockstep::sim
