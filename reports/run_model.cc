#include "reports/run_model.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "reports/json_input.h"

namespace lockstep::reports {

namespace {

using nlohmann::json;

std::string file_in(const std::string& directory, const char* name) {
  return (std::filesystem::path(directory) / name).string();
}

Error invalid(const std::string& where, const std::string& problem) {
  return Error(ErrorCode::kInvalidInput, where + ": " + problem);
}

// The first present field of `names`, as display text ("" when none is present).
std::string first_text(const json& object, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto found = object.find(name);
    if (found != object.end() && !found->is_null()) return display_text(*found);
  }
  return {};
}

// ---- summary.json ----

Result<json> load_summary(const std::string& directory) {
  const std::string path = file_in(directory, kSummaryFile);
  auto summary = read_json_file(path);
  if (!summary.is_ok()) return summary.error();
  if (!summary->is_object()) return invalid(path, "expected a JSON object");
  const auto verdict = summary->find("verdict");
  if (verdict == summary->end() || !verdict->is_string()) {
    return invalid(path, "field 'verdict' (\"pass\" or \"fail\") is missing or not a string");
  }
  return std::move(*summary);
}

// ---- history.jsonl ----

std::string operation_status(const json& line) {
  if (line.value("indeterminate", false)) return "indeterminate";
  const auto response = line.find("response");
  if (response == line.end() || response->is_null()) return "indeterminate";
  if (response->is_object() && response->contains("error")) return "failed";
  return "ok";
}

Result<json> normalise_operation(const json& line, int64_t index, const std::string& where) {
  const auto client = line.find("client");
  if (client == line.end() || !client->is_number_integer()) {
    return invalid(where, "field 'client' must be an integer");
  }
  auto invoke = read_time_ns(line, "invoke", where);
  if (!invoke.is_ok()) return invoke.error();
  if (!invoke->has_value()) return invalid(where, "field 'invoke' is missing");
  auto finish = read_time_ns(line, "return", where);
  if (!finish.is_ok()) return finish.error();
  json operation = {{"id", line.contains("id") ? line["id"] : json(index)},
                    {"client", *client},
                    {"invoke_ns", **invoke},
                    {"return_ns", finish->has_value() ? json(**finish) : json(nullptr)},
                    {"status", operation_status(line)},
                    {"request", line.value("request", json(nullptr))},
                    {"response", line.value("response", json(nullptr))}};
  return operation;
}

Result<json> load_history(const std::string& directory) {
  const std::string path = file_in(directory, kHistoryFile);
  auto lines = read_jsonl_file(path);
  if (!lines.is_ok()) return lines.error();
  json operations = json::array();
  int64_t index = 0;
  for (size_t line_index = 0; line_index < lines->size(); ++line_index) {
    const json& line = (*lines)[line_index];
    if (line.contains("lockstep_history")) continue;  // the optional header line
    // Watch and lock records (docs/HISTORY_FORMAT.md) are for their checkers, not operations.
    if (line.contains("record")) continue;
    auto operation =
        normalise_operation(line, index, path + ": operation " + std::to_string(index));
    if (!operation.is_ok()) return operation.error();
    operations.push_back(std::move(*operation));
    ++index;
  }
  return operations;
}

// ---- checks.json ----

Result<json> normalise_check(const json& check, const std::string& where) {
  if (!check.is_object()) return invalid(where, "expected a JSON object");
  const auto name = check.find("name");
  if (name == check.end() || !name->is_string()) {
    return invalid(where, "field 'name' is missing or not a string");
  }
  json counterexample = json::array();
  for (const char* field : {"counterexample", "counterexample_operations", "counterexample_ops",
                            "counterexample_op_ids"}) {
    const auto found = check.find(field);
    if (found == check.end() || found->is_null()) continue;
    if (!found->is_array())
      return invalid(where, std::string("field '") + field + "' must be an array");
    for (const json& id : *found) {
      // Ids are operation ids; an entry may also be a whole operation carrying its id.
      counterexample.push_back(id.is_object() && id.contains("id") ? id["id"] : id);
    }
  }
  return json{{"name", *name},
              {"verdict", first_text(check, {"verdict", "status", "result"})},
              {"detail", first_text(check, {"detail", "details", "message"})},
              {"counterexample", counterexample}};
}

Result<json> load_checks(const std::string& directory) {
  const std::string path = file_in(directory, kChecksFile);
  auto document = read_json_file(path);
  if (!document.is_ok()) return document.error();
  const json* list = &*document;
  if (document->is_object() && document->contains("checks")) list = &(*document)["checks"];
  if (!list->is_array())
    return invalid(path, "expected an array of checks (or {\"checks\": [...]})");
  json checks = json::array();
  for (size_t index = 0; index < list->size(); ++index) {
    auto check = normalise_check((*list)[index], path + ": check " + std::to_string(index));
    if (!check.is_ok()) return check.error();
    checks.push_back(std::move(*check));
  }
  return checks;
}

// ---- timeline.json ----

std::string member_of(const json& object) {
  return first_text(object, {"member", "node", "process", "id"});
}

struct RoleChange {
  int64_t time_ns = 0;
  std::string role;
  json term;
};

// Turns each member's role changes into segments that end where the next change begins
// (the last one at the end of the run).
json role_segments(const std::vector<RoleChange>& changes, int64_t end_ns) {
  json segments = json::array();
  for (size_t index = 0; index < changes.size(); ++index) {
    const int64_t until = index + 1 < changes.size() ? changes[index + 1].time_ns : end_ns;
    segments.push_back({{"start_ns", changes[index].time_ns},
                        {"end_ns", std::max(until, changes[index].time_ns)},
                        {"role", changes[index].role},
                        {"term", changes[index].term}});
  }
  return segments;
}

struct MemberTimeline {
  std::vector<RoleChange> changes;
  json marks = json::array();
  json outages = json::array();
  std::optional<std::pair<int64_t, std::string>> open_outage;  // start, kind
};

struct TimelineInput {
  std::map<std::string, MemberTimeline> members;  // ordered by id text for a stable page
  std::vector<std::string> member_order;
  json faults = json::array();
  int64_t end_ns = 0;
  std::optional<int64_t> heal_at_ns;
  // The history clock's time at the timeline's zero: operation times minus this are
  // timeline times. Absent when timeline.json does not say (then both are drawn as given).
  std::optional<int64_t> origin_ns;
};

MemberTimeline& member_named(TimelineInput& input, const std::string& id) {
  if (!input.members.contains(id)) input.member_order.push_back(id);
  return input.members[id];
}

Status read_role_changes(const json& roles, const std::string& path, TimelineInput& input) {
  if (!roles.is_array()) return invalid(path, "field 'roles' must be an array");
  for (size_t index = 0; index < roles.size(); ++index) {
    const std::string where = path + ": roles[" + std::to_string(index) + "]";
    const json& change = roles[index];
    if (!change.is_object()) return invalid(where, "expected a JSON object");
    auto time = read_time_ns(change, "t", where);
    if (!time.is_ok()) return time.error();
    const std::string member = member_of(change);
    if (!time->has_value() || member.empty())
      return invalid(where, "needs a time (t_ns) and a member");
    member_named(input, member)
        .changes.push_back(
            {**time, first_text(change, {"role", "state"}), change.value("term", json(nullptr))});
  }
  return Status::ok();
}

// Crash / pause start an outage that restart / resume end; every event is also a mark.
void apply_member_event(MemberTimeline& member, int64_t time_ns, const std::string& kind,
                        const std::string& detail) {
  member.marks.push_back({{"t_ns", time_ns}, {"kind", kind}, {"detail", detail}});
  if ((kind == "crash" || kind == "pause" || kind == "stop") && !member.open_outage) {
    member.open_outage = std::make_pair(time_ns, kind == "pause" ? "paused" : "down");
  } else if ((kind == "restart" || kind == "resume" || kind == "start") && member.open_outage) {
    member.outages.push_back({{"start_ns", member.open_outage->first},
                              {"end_ns", time_ns},
                              {"kind", member.open_outage->second}});
    member.open_outage.reset();
  }
}

Status read_member_events(const json& events, const std::string& path, TimelineInput& input) {
  if (!events.is_array()) return invalid(path, "field 'events' must be an array");
  for (size_t index = 0; index < events.size(); ++index) {
    const std::string where = path + ": events[" + std::to_string(index) + "]";
    const json& event = events[index];
    if (!event.is_object()) return invalid(where, "expected a JSON object");
    auto time = read_time_ns(event, "t", where);
    if (!time.is_ok()) return time.error();
    const std::string member = member_of(event);
    const std::string kind = first_text(event, {"kind", "event", "type"});
    if (!time->has_value() || member.empty() || kind.empty()) {
      return invalid(where, "needs a time (t_ns), a member and a kind");
    }
    apply_member_event(member_named(input, member), **time, kind,
                       first_text(event, {"detail", "mode"}));
  }
  return Status::ok();
}

// A fault's detail: every field but its kind and times, so new fault fields show up
// without a change here.
std::string fault_detail(const json& fault) {
  std::string detail;
  for (const auto& [key, value] : fault.items()) {
    if (key == "kind" || key == "action" || key == "type" || key.starts_with("start") ||
        key.starts_with("end")) {
      continue;
    }
    const std::string text = display_text(value);
    if (text.empty()) continue;
    detail += (detail.empty() ? "" : ", ") + key + ": " + text;
  }
  return detail;
}

Status read_faults(const json& faults, const std::string& path, TimelineInput& input) {
  if (!faults.is_array()) return invalid(path, "field 'faults' must be an array");
  for (size_t index = 0; index < faults.size(); ++index) {
    const std::string where = path + ": faults[" + std::to_string(index) + "]";
    const json& fault = faults[index];
    if (!fault.is_object()) return invalid(where, "expected a JSON object");
    auto start = read_time_ns(fault, "start", where);
    if (!start.is_ok()) return start.error();
    auto end = read_time_ns(fault, "end", where);
    if (!end.is_ok()) return end.error();
    if (!start->has_value()) return invalid(where, "needs a start time (start_ns)");
    // A negative or absent end: the fault lasted until the heal phase (or was instantaneous).
    const bool has_end = end->has_value() && **end >= 0;
    input.faults.push_back({{"kind", first_text(fault, {"kind", "action", "type"})},
                            {"start_ns", **start},
                            {"end_ns", has_end ? json(**end) : json(nullptr)},
                            {"detail", fault_detail(fault)}});
  }
  return Status::ok();
}

Status read_timeline(const std::string& directory, TimelineInput& input) {
  const std::string path = file_in(directory, kTimelineFile);
  auto timeline = read_json_file(path);
  if (!timeline.is_ok()) return timeline.error();
  if (!timeline->is_object()) return invalid(path, "expected a JSON object");
  if (const auto members = timeline->find("members"); members != timeline->end()) {
    if (!members->is_array()) return invalid(path, "field 'members' must be an array");
    for (const json& member : *members) {
      member_named(input, member.is_object() ? member_of(member) : display_text(member));
    }
  }
  auto end = read_time_ns(*timeline, "end", path);
  if (!end.is_ok()) return end.error();
  if (end->has_value()) input.end_ns = **end;
  auto heal_at = read_time_ns(*timeline, "heal_at", path);
  if (!heal_at.is_ok()) return heal_at.error();
  input.heal_at_ns = *heal_at;
  auto origin = read_time_ns(*timeline, "origin", path);
  if (!origin.is_ok()) return origin.error();
  input.origin_ns = *origin;
  for (const auto& [field, reader] :
       {std::pair{"roles", &read_role_changes}, std::pair{"events", &read_member_events},
        std::pair{"faults", &read_faults}}) {
    if (const auto found = timeline->find(field); found != timeline->end()) {
      RETURN_IF_ERROR(reader(*found, path, input));
    }
  }
  return Status::ok();
}

// ---- trace.jsonl (optional): event counts per kind and per process ----

Result<json> load_trace_counts(const std::string& directory) {
  const std::string path = file_in(directory, kTraceFile);
  if (!std::filesystem::exists(path)) return json(nullptr);
  auto lines = read_jsonl_file(path);
  if (!lines.is_ok()) return lines.error();
  std::map<std::string, int64_t> by_kind;
  std::map<std::string, int64_t> by_process;
  for (const json& line : *lines) {
    ++by_kind[first_text(line, {"kind"})];
    ++by_process[first_text(line, {"process", "node"})];
  }
  return json{{"events", lines->size()}, {"by_kind", by_kind}, {"by_process", by_process}};
}

// ---- assembling the model ----

int64_t latest_time(const json& summary, const json& operations, const TimelineInput& input) {
  int64_t end = input.end_ns;
  auto sim_time = read_time_ns(summary, "sim_time", "summary");
  if (sim_time.is_ok() && sim_time->has_value()) end = std::max(end, **sim_time);
  for (const json& operation : operations) {
    end = std::max(end, operation["invoke_ns"].get<int64_t>());
    if (operation["return_ns"].is_number())
      end = std::max(end, operation["return_ns"].get<int64_t>());
  }
  for (const auto& [id, member] : input.members) {
    for (const RoleChange& change : member.changes) end = std::max(end, change.time_ns);
  }
  for (const json& fault : input.faults) {
    end = std::max(end, fault["start_ns"].get<int64_t>());
    if (fault["end_ns"].is_number()) end = std::max(end, fault["end_ns"].get<int64_t>());
  }
  return end;
}

bool is_outage_state(const std::string& role) {
  return role == "down" || role == "crashed" || role == "stopped" || role == "paused";
}

// A timeline may report a crash or a pause as a role ("down", "paused") instead of as an
// event: such segments become outages, with a crash/pause mark where they begin and a
// restart/resume mark where the member came back.
json split_outage_segments(const json& segments, MemberTimeline& member, int64_t end_ns) {
  json roles = json::array();
  for (const json& segment : segments) {
    const std::string role = segment["role"].get<std::string>();
    if (!is_outage_state(role)) {
      roles.push_back(segment);
      continue;
    }
    const bool paused = role == "paused";
    const int64_t start = segment["start_ns"].get<int64_t>();
    const int64_t stop = segment["end_ns"].get<int64_t>();
    member.outages.push_back(
        {{"start_ns", start}, {"end_ns", stop}, {"kind", paused ? "paused" : "down"}});
    member.marks.push_back(
        {{"t_ns", start}, {"kind", paused ? "pause" : "crash"}, {"detail", role}});
    if (stop < end_ns) {
      member.marks.push_back(
          {{"t_ns", stop}, {"kind", paused ? "resume" : "restart"}, {"detail", ""}});
    }
  }
  return roles;
}

json member_lanes(TimelineInput& input, int64_t end_ns, json& notes) {
  json lanes = json::array();
  size_t segments_drawn = 0;
  size_t segments_total = 0;
  for (const std::string& id : input.member_order) {
    MemberTimeline& member = input.members[id];
    std::stable_sort(
        member.changes.begin(), member.changes.end(),
        [](const RoleChange& a, const RoleChange& b) { return a.time_ns < b.time_ns; });
    json segments = split_outage_segments(role_segments(member.changes, end_ns), member, end_ns);
    segments_total += segments.size();
    const size_t room = kMaxDrawnRoleSegments - std::min(segments_drawn, kMaxDrawnRoleSegments);
    if (segments.size() > room)
      segments.erase(segments.begin() + static_cast<std::ptrdiff_t>(room), segments.end());
    segments_drawn += segments.size();
    if (member.open_outage) {
      member.outages.push_back({{"start_ns", member.open_outage->first},
                                {"end_ns", end_ns},
                                {"kind", member.open_outage->second}});
    }
    if (member.marks.size() > kMaxDrawnMarks) {
      member.marks.erase(member.marks.begin() + kMaxDrawnMarks, member.marks.end());
      notes.push_back("member " + id + ": drew the first " + std::to_string(kMaxDrawnMarks) +
                      " crash/restart marks");
    }
    lanes.push_back({{"id", id},
                     {"segments", std::move(segments)},
                     {"outages", member.outages},
                     {"marks", member.marks}});
  }
  if (segments_total > segments_drawn) {
    notes.push_back("drew " + std::to_string(segments_drawn) + " of " +
                    std::to_string(segments_total) + " role segments (the earliest per member)");
  }
  return lanes;
}

std::set<std::string> counterexample_ids(const json& checks) {
  std::set<std::string> ids;
  for (const json& check : checks) {
    for (const json& id : check["counterexample"]) ids.insert(display_text(id));
  }
  return ids;
}

// Flags counterexample operations and keeps at most kMaxDrawnOperations: every
// counterexample operation, then the earliest others by invoke time.
json drawn_operations(json operations, const std::set<std::string>& counterexample, json& notes) {
  const size_t total = operations.size();
  json kept = json::array();
  size_t others = 0;
  const size_t flagged = std::count_if(operations.begin(), operations.end(), [&](const json& op) {
    return counterexample.contains(display_text(op["id"]));
  });
  const size_t room_for_others = kMaxDrawnOperations - std::min(flagged, kMaxDrawnOperations);
  std::stable_sort(operations.begin(), operations.end(), [](const json& a, const json& b) {
    return a["invoke_ns"].get<int64_t>() < b["invoke_ns"].get<int64_t>();
  });
  for (json& operation : operations) {
    const bool in_counterexample = counterexample.contains(display_text(operation["id"]));
    operation["counterexample"] = in_counterexample;
    if (!in_counterexample && others >= room_for_others) continue;
    if (!in_counterexample) ++others;
    kept.push_back(std::move(operation));
  }
  if (kept.size() < total) {
    notes.push_back("drew " + std::to_string(kept.size()) + " of " + std::to_string(total) +
                    " operations: every counterexample operation and the earliest others by "
                    "invoke time; history.jsonl has them all");
  }
  return kept;
}

json faults_drawn(json faults, json& notes) {
  if (faults.size() > kMaxDrawnFaults) {
    notes.push_back("drew the first " + std::to_string(kMaxDrawnFaults) + " of " +
                    std::to_string(faults.size()) + " faults");
    faults.erase(faults.begin() + kMaxDrawnFaults, faults.end());
  }
  return faults;
}

// history.jsonl keeps the recording clock (the checker needs nothing else); the timeline
// counts from the run's start. timeline.json's origin_ns says where that start lies on the
// history clock, so both can share one axis.
void shift_to_timeline_origin(json& operations, std::optional<int64_t> origin_ns, json& notes) {
  if (!origin_ns) {
    if (!operations.empty()) {
      notes.push_back(
          "timeline.json gives no origin_ns: operations are drawn at their "
          "history.jsonl times, which may be offset from member and fault times");
    }
    return;
  }
  for (json& operation : operations) {
    operation["invoke_ns"] = operation["invoke_ns"].get<int64_t>() - *origin_ns;
    if (operation["return_ns"].is_number()) {
      operation["return_ns"] = operation["return_ns"].get<int64_t>() - *origin_ns;
    }
  }
}

// probes.json (optional): which coverage probes this run hit, as [{site, name, hits}].
Result<json> load_probes(const std::string& directory) {
  const std::string path = file_in(directory, kProbesFile);
  if (!std::filesystem::exists(path)) return json(nullptr);
  auto probes = read_json_file(path);
  if (!probes.is_ok()) return probes.error();
  if (!probes->is_array()) return invalid(path, "expected an array of probes");
  json rows = json::array();
  for (const json& probe : *probes) {
    if (!probe.is_object()) return invalid(path, "expected a JSON object per probe");
    rows.push_back({{"name", first_text(probe, {"name", "site"})},
                    {"site", first_text(probe, {"site"})},
                    {"hits", probe.value("hits", json(nullptr))}});
  }
  return rows;
}

json client_ids(const json& operations) {
  std::set<int64_t> clients;
  for (const json& operation : operations) clients.insert(operation["client"].get<int64_t>());
  return json(clients);
}

}  // namespace

Result<json> build_run_model(const std::string& run_directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(run_directory, error)) {
    return Error(ErrorCode::kFileNotFound, run_directory + ": not a directory");
  }
  auto summary = load_summary(run_directory);
  if (!summary.is_ok()) return summary.error();
  auto operations = load_history(run_directory);
  if (!operations.is_ok()) return operations.error();
  auto checks = load_checks(run_directory);
  if (!checks.is_ok()) return checks.error();
  TimelineInput timeline;
  RETURN_IF_ERROR(read_timeline(run_directory, timeline));
  auto trace = load_trace_counts(run_directory);
  if (!trace.is_ok()) return trace.error();
  auto probes = load_probes(run_directory);
  if (!probes.is_ok()) return probes.error();
  json scenario = nullptr;
  if (std::filesystem::exists(file_in(run_directory, kScenarioFile))) {
    auto parsed = read_json_file(file_in(run_directory, kScenarioFile));
    if (!parsed.is_ok()) return parsed.error();
    scenario = std::move(*parsed);
  }

  json notes = json::array();
  shift_to_timeline_origin(*operations, timeline.origin_ns, notes);
  const int64_t end_ns = latest_time(*summary, *operations, timeline);
  const std::set<std::string> counterexample = counterexample_ids(*checks);
  json model = {{"format", 1},
                {"summary", *summary},
                {"end_ns", end_ns},
                {"operations_total", operations->size()},
                {"clients", client_ids(*operations)},
                {"checks", *checks},
                {"counterexample_ids", counterexample},
                {"trace", *trace},
                {"probes", *probes},
                {"heal_at_ns", timeline.heal_at_ns ? json(*timeline.heal_at_ns) : json(nullptr)},
                {"scenario", scenario}};
  model["members"] = member_lanes(timeline, end_ns, notes);
  model["faults"] = faults_drawn(std::move(timeline.faults), notes);
  model["operations"] = drawn_operations(std::move(*operations), counterexample, notes);
  model["notes"] = std::move(notes);
  return model;
}

}  // namespace lockstep::reports
