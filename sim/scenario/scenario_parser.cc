#include "sim/scenario/scenario_parser.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/cluster/workload.h"

namespace lockstep::sim::scenario {
namespace {

using Json = nlohmann::json;

// A parse failure carrying the JSON path of the field at fault; caught once at the top so
// the readers below stay straight-line.
struct FieldError {
  std::string path;
  std::string message;
};

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// One JSON object being read: every field read is remembered, and finish() rejects the rest.
class ObjectReader {
 public:
  ObjectReader(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
    if (!json_.is_object()) throw FieldError{display_path(), "must be an object"};
  }

  std::string field_path(std::string_view field) const {
    return path_.empty() ? std::string(field) : path_ + "." + std::string(field);
  }

  const Json* find(std::string_view field) {
    seen_.insert(std::string(field));
    auto it = json_.find(std::string(field));
    return it == json_.end() ? nullptr : &*it;
  }

  template <typename Integer>
  void integer(std::string_view field, Integer& out, int64_t min, int64_t max) {
    const Json* value = find(field);
    if (value == nullptr) return;
    if (!value->is_number_integer()) throw FieldError{field_path(field), "must be an integer"};
    const int64_t number = value->get<int64_t>();
    if (number < min || number > max) {
      throw FieldError{field_path(field), "must be in [" + std::to_string(min) + ", " +
                                              std::to_string(max) + "], got " +
                                              std::to_string(number)};
    }
    out = static_cast<Integer>(number);
  }

  void probability(std::string_view field, double& out) {
    const Json* value = find(field);
    if (value == nullptr) return;
    if (!value->is_number()) throw FieldError{field_path(field), "must be a number"};
    const double number = value->get<double>();
    if (!(number >= 0 && number <= 1)) {
      throw FieldError{field_path(field), "must be a probability in [0, 1]"};
    }
    out = number;
  }

  void string(std::string_view field, std::string& out) {
    const Json* value = find(field);
    if (value == nullptr) return;
    if (!value->is_string()) throw FieldError{field_path(field), "must be a string"};
    out = value->get<std::string>();
  }

  void boolean(std::string_view field, bool& out) {
    const Json* value = find(field);
    if (value == nullptr) return;
    if (!value->is_boolean()) throw FieldError{field_path(field), "must be true or false"};
    out = value->get<bool>();
  }

  const Json& required(std::string_view field) {
    const Json* value = find(field);
    if (value == nullptr) throw FieldError{field_path(field), "is required"};
    return *value;
  }

  void finish() const {
    for (const auto& [key, value] : json_.items()) {
      if (!seen_.contains(key)) throw FieldError{field_path(key), "unknown field"};
    }
  }

 private:
  std::string display_path() const { return path_.empty() ? "(top level)" : path_; }

  const Json& json_;
  std::string path_;
  std::set<std::string> seen_;
};

void read_cluster(ObjectReader& top, ClusterSpec& cluster) {
  const Json* json = top.find("cluster");
  if (json == nullptr) return;
  ObjectReader reader(*json, "cluster");
  reader.integer("members", cluster.members, 1, kMaxMembers);
  reader.integer("tick_ms", cluster.tick_ms, 1, 1000);
  reader.integer("election_timeout_ticks", cluster.election_timeout_ticks, 2, 1000);
  reader.integer("heartbeat_interval_ticks", cluster.heartbeat_interval_ticks, 1, 100);
  reader.integer("snapshot_count", cluster.snapshot_count, 1, 100'000'000);
  reader.integer("snapshot_catch_up_entries", cluster.snapshot_catch_up_entries, 1, 100'000'000);
  reader.integer("request_timeout_ms", cluster.request_timeout_ms, 10, 600'000);
  reader.integer("max_append_bytes", cluster.max_append_bytes, 1, 64 * 1024 * 1024);
  std::string backend(backend_kind_name(cluster.backend));
  reader.string("backend", backend);
  std::optional<BackendKind> kind = backend_kind_from_name(backend);
  if (!kind) {
    throw FieldError{"cluster.backend",
                     "unknown backend " + in_quotes(backend) + " (sqlite, memory)"};
  }
  cluster.backend = *kind;
  reader.finish();
  if (cluster.heartbeat_interval_ticks >= cluster.election_timeout_ticks) {
    throw FieldError{"cluster.heartbeat_interval_ticks",
                     "must be below election_timeout_ticks (Raft §5.2)"};
  }
}

void read_network(ObjectReader& top, NetworkSpec& network) {
  const Json* json = top.find("network");
  if (json == nullptr) return;
  ObjectReader reader(*json, "network");
  reader.integer("latency_min_us", network.latency_min_us, 0, 10'000'000);
  reader.integer("jitter_mean_us", network.jitter_mean_us, 0, 10'000'000);
  reader.probability("loss", network.loss);
  reader.probability("duplicate", network.duplicate);
  reader.probability("reorder", network.reorder);
  reader.integer("reorder_delay_max_us", network.reorder_delay_max_us, 0, 10'000'000);
  reader.finish();
}

CrashMode read_crash_mode(const Json& json, const std::string& path) {
  if (!json.is_string()) throw FieldError{path, "must be a string"};
  std::optional<CrashMode> mode = parse_crash_mode(json.get<std::string>());
  if (!mode) {
    throw FieldError{path, "unknown crash mode " + in_quotes(json.get<std::string>()) +
                               " (drop_all, keep_all, torn, random)"};
  }
  return *mode;
}

void read_disk(ObjectReader& top, DiskSpec& disk) {
  const Json* json = top.find("disk");
  if (json == nullptr) return;
  ObjectReader reader(*json, "disk");
  reader.integer("latency_min_us", disk.latency_min_us, 0, 10'000'000);
  reader.integer("latency_max_us", disk.latency_max_us, 0, 10'000'000);
  if (const Json* mode = reader.find("crash_mode")) {
    disk.crash_mode = read_crash_mode(*mode, "disk.crash_mode");
  }
  reader.finish();
  if (disk.latency_max_us < disk.latency_min_us) {
    throw FieldError{"disk.latency_max_us", "must be at least latency_min_us"};
  }
}

void read_workloads(ObjectReader& top, std::vector<WorkloadSpec>& workloads) {
  const Json& json = top.required("workloads");
  if (!json.is_array()) throw FieldError{"workloads", "must be an array"};
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string path = "workloads[" + std::to_string(i) + "]";
    ObjectReader reader(json[i], path);
    WorkloadSpec workload;
    const Json& type = reader.required("type");
    if (!type.is_string()) throw FieldError{path + ".type", "must be a string"};
    workload.type = type.get<std::string>();
    if (!make_workload(workload.type)) {
      std::string known;
      for (std::string_view name : workload_names())
        known += (known.empty() ? "" : ", ") + std::string(name);
      throw FieldError{path + ".type",
                       "unknown workload " + in_quotes(workload.type) + " (" + known + ")"};
    }
    reader.integer("clients", workload.clients, 1, kMaxClientsPerWorkload);
    reader.finish();
    workloads.push_back(std::move(workload));
  }
}

FaultTarget read_target(const Json& json, const std::string& path) {
  if (!json.is_string()) throw FieldError{path, "must be a string"};
  std::optional<FaultTarget> target = parse_target(json.get<std::string>());
  if (!target) {
    throw FieldError{path, "unknown target " + in_quotes(json.get<std::string>()) +
                               " (leader, follower, minority, majority, node:N, random, all, "
                               "previous_leader, event_member)"};
  }
  return *target;
}

void check_target_in_cluster(const FaultTarget& target, int members, const std::string& path) {
  if (target.kind == FaultTarget::Kind::kNode && target.node > static_cast<uint64_t>(members)) {
    throw FieldError{path, "node " + std::to_string(target.node) +
                               " is not a member (cluster.members is " + std::to_string(members) +
                               ")"};
  }
}

// Which optional fields each action takes, so a field given to the wrong action is an error.
std::set<std::string> action_fields(FaultAction action) {
  switch (action) {
    case FaultAction::kCrash:
      return {"crash_mode"};
    case FaultAction::kPartitionOneWay:
      return {"to"};
    case FaultAction::kNetwork:
      return {"loss", "duplicate", "reorder"};
    case FaultAction::kDiskWriteError:
    case FaultAction::kDiskFsyncError:
      return {"probability", "count"};
    case FaultAction::kDiskFull:
      return {"bytes"};
    case FaultAction::kClockOffset:
    case FaultAction::kClockJump:
      return {"offset_ms"};
    case FaultAction::kClockDrift:
      return {"drift_ppm"};
    default:
      return {};
  }
}

// `on`, `occurrence`, `delay_ms`: the event trigger (FaultSpec::on). The event-only target
// `event_member` needs one.
void read_trigger(ObjectReader& reader, const std::string& path, FaultSpec& fault) {
  if (const Json* on = reader.find("on")) {
    if (!on->is_string()) throw FieldError{path + ".on", "must be a string"};
    fault.on = parse_fault_event(on->get<std::string>());
    if (!fault.on) {
      std::string known;
      for (std::string_view name : fault_event_names())
        known += (known.empty() ? "" : ", ") + std::string(name);
      throw FieldError{path + ".on",
                       "unknown event " + in_quotes(on->get<std::string>()) + " (" + known + ")"};
    }
  }
  for (const char* field : {"occurrence", "delay_ms"}) {
    if (!fault.on && reader.find(field) != nullptr) {
      throw FieldError{path + "." + field, "applies only to a fault with \"on\" (an event)"};
    }
  }
  reader.integer("occurrence", fault.occurrence, 1, 1'000'000);
  reader.integer("delay_ms", fault.delay_ms, 0, kMaxDurationMs);
  const bool event_target = fault.target.kind == FaultTarget::Kind::kEventMember ||
                            (fault.to && fault.to->kind == FaultTarget::Kind::kEventMember);
  if (event_target && !fault.on) {
    throw FieldError{
        path + (fault.target.kind == FaultTarget::Kind::kEventMember ? ".target" : ".to"),
        "event_member needs \"on\" (the event whose member it is)"};
  }
}

FaultSpec read_fault(const Json& json, const std::string& path, const Scenario& scenario) {
  ObjectReader reader(json, path);
  FaultSpec fault;
  const Json& action = reader.required("action");
  if (!action.is_string()) throw FieldError{path + ".action", "must be a string"};
  std::optional<FaultAction> parsed = parse_fault_action(action.get<std::string>());
  if (!parsed) {
    std::string known;
    for (std::string_view name : fault_action_names())
      known += (known.empty() ? "" : ", ") + std::string(name);
    throw FieldError{path + ".action",
                     "unknown action " + in_quotes(action.get<std::string>()) + " (" + known + ")"};
  }
  fault.action = *parsed;
  reader.integer("at_ms", fault.at_ms, 0, kMaxDurationMs);
  reader.integer("duration_ms", fault.duration_ms, 0, kMaxDurationMs);
  if (const Json* target = reader.find("target")) {
    if (fault.action == FaultAction::kAddMember) {
      throw FieldError{path + ".target", "does not apply to add_member (it adds a new member)"};
    }
    fault.target = read_target(*target, path + ".target");
  }
  // Members added by earlier add_member faults can be targets too (promote_member node:N).
  const int added =
      static_cast<int>(std::ranges::count_if(scenario.faults, [](const FaultSpec& earlier) {
        return earlier.action == FaultAction::kAddMember;
      }));
  check_target_in_cluster(fault.target, scenario.cluster.members + added, path + ".target");
  const std::set<std::string> allowed = action_fields(fault.action);
  for (const auto& [key, value] : json.items()) {
    static const std::set<std::string> kActionSpecific = {
        "crash_mode",  "to",    "loss",  "duplicate", "reorder",
        "probability", "count", "bytes", "offset_ms", "drift_ppm"};
    if (kActionSpecific.contains(key) && !allowed.contains(key)) {
      throw FieldError{path + "." + key,
                       "does not apply to action " + in_quotes(fault_action_name(fault.action))};
    }
  }
  if (const Json* mode = reader.find("crash_mode"))
    fault.crash_mode = read_crash_mode(*mode, path + ".crash_mode");
  if (const Json* to = reader.find("to")) {
    fault.to = read_target(*to, path + ".to");
    check_target_in_cluster(*fault.to, scenario.cluster.members, path + ".to");
  } else if (fault.action == FaultAction::kPartitionOneWay) {
    throw FieldError{path + ".to", "is required for partition_one_way"};
  }
  double value = 0;
  if (reader.find("loss")) {
    reader.probability("loss", value);
    fault.loss = value;
  }
  if (reader.find("duplicate")) {
    reader.probability("duplicate", value);
    fault.duplicate = value;
  }
  if (reader.find("reorder")) {
    reader.probability("reorder", value);
    fault.reorder = value;
  }
  reader.probability("probability", fault.probability);
  reader.integer("count", fault.count, 0, 1'000'000);
  reader.integer("bytes", fault.bytes, 0, int64_t{1} << 40);
  reader.integer("offset_ms", fault.offset_ms, -kMaxDurationMs, kMaxDurationMs);
  reader.integer("drift_ppm", fault.drift_ppm, -500'000, 500'000);
  read_trigger(reader, path, fault);
  reader.finish();
  if ((fault.action == FaultAction::kDiskWriteError ||
       fault.action == FaultAction::kDiskFsyncError) &&
      fault.probability == 0 && fault.count == 0) {
    throw FieldError{path + ".probability", "give a probability or a count of failing operations"};
  }
  if (fault.at_ms >= scenario.duration_ms) {
    throw FieldError{path + ".at_ms", "must be before duration_ms (" +
                                          std::to_string(scenario.duration_ms) +
                                          "): faults belong to the safety phase"};
  }
  return fault;
}

void read_checks(ObjectReader& top, std::vector<std::string>& checks) {
  const Json* json = top.find("checks");
  if (json == nullptr) return;
  if (!json->is_array()) throw FieldError{"checks", "must be an array of check names"};
  const std::vector<std::string_view> known = check_names();
  for (size_t i = 0; i < json->size(); ++i) {
    const std::string path = "checks[" + std::to_string(i) + "]";
    if (!(*json)[i].is_string()) throw FieldError{path, "must be a string"};
    const std::string name = (*json)[i].get<std::string>();
    if (std::ranges::find(known, name) == known.end()) {
      std::string list;
      for (std::string_view check : known) list += (list.empty() ? "" : ", ") + std::string(check);
      throw FieldError{path, "unknown check " + in_quotes(name) + " (" + list + ")"};
    }
    checks.push_back(name);
  }
}

Scenario read_scenario(const Json& json) {
  ObjectReader reader(json, "");
  Scenario scenario;
  const Json& name = reader.required("name");
  if (!name.is_string() || name.get<std::string>().empty()) {
    throw FieldError{"name", "must be a non-empty string"};
  }
  scenario.name = name.get<std::string>();
  reader.string("description", scenario.description);
  reader.find("$schema");  // editors' schema link, allowed and ignored
  read_cluster(reader, scenario.cluster);
  read_network(reader, scenario.network);
  read_disk(reader, scenario.disk);
  read_workloads(reader, scenario.workloads);
  reader.integer("duration_ms", scenario.duration_ms, 100, kMaxDurationMs);
  reader.integer("heal_ms", scenario.heal_ms, 0, kMaxDurationMs);
  reader.integer("liveness_bound_ms", scenario.liveness_bound_ms, 1, kMaxDurationMs);
  reader.boolean("swarm", scenario.swarm);
  reader.boolean("buggify", scenario.buggify);
  read_checks(reader, scenario.checks);
  if (const Json* faults = reader.find("faults")) {
    if (!faults->is_array()) throw FieldError{"faults", "must be an array"};
    if (faults->size() > kMaxFaults) throw FieldError{"faults", "more than 1000 faults"};
    for (size_t i = 0; i < faults->size(); ++i) {
      scenario.faults.push_back(
          read_fault((*faults)[i], "faults[" + std::to_string(i) + "]", scenario));
    }
  }
  reader.finish();
  if (scenario.requires_check(kCheckLiveness) && scenario.liveness_bound_ms > scenario.heal_ms) {
    throw FieldError{"liveness_bound_ms",
                     "must not exceed heal_ms, or liveness can never be shown"};
  }
  return scenario;
}

Json target_json(const FaultTarget& target) {
  return target_name(target);
}

Json fault_json(const FaultSpec& fault) {
  Json json = {{"at_ms", fault.at_ms}, {"action", fault_action_name(fault.action)}};
  if (fault.action != FaultAction::kAddMember) json["target"] = target_json(fault.target);
  if (fault.duration_ms != 0) json["duration_ms"] = fault.duration_ms;
  if (fault.crash_mode) json["crash_mode"] = crash_mode_name(*fault.crash_mode);
  if (fault.to) json["to"] = target_json(*fault.to);
  if (fault.loss) json["loss"] = *fault.loss;
  if (fault.duplicate) json["duplicate"] = *fault.duplicate;
  if (fault.reorder) json["reorder"] = *fault.reorder;
  if (fault.probability != 0) json["probability"] = fault.probability;
  if (fault.count != 0) json["count"] = fault.count;
  if (fault.bytes != 0) json["bytes"] = fault.bytes;
  if (fault.offset_ms != 0) json["offset_ms"] = fault.offset_ms;
  if (fault.drift_ppm != 0) json["drift_ppm"] = fault.drift_ppm;
  if (fault.on) {
    json["on"] = fault_event_name(*fault.on);
    if (fault.occurrence != 1) json["occurrence"] = fault.occurrence;
    if (fault.delay_ms != 0) json["delay_ms"] = fault.delay_ms;
  }
  return json;
}

}  // namespace

Result<Scenario> parse_scenario(std::string_view text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::parse_error& error) {
    return Error(ErrorCode::kInvalidInput, std::string("not valid JSON: ") + error.what());
  }
  try {
    return read_scenario(json);
  } catch (const FieldError& error) {
    return Error(ErrorCode::kInvalidInput, error.path + ": " + error.message);
  }
}

std::string scenario_to_json(const Scenario& scenario) {
  Json json;
  json["name"] = scenario.name;
  if (!scenario.description.empty()) json["description"] = scenario.description;
  const ClusterSpec& cluster = scenario.cluster;
  json["cluster"] = {{"members", cluster.members},
                     {"tick_ms", cluster.tick_ms},
                     {"election_timeout_ticks", cluster.election_timeout_ticks},
                     {"heartbeat_interval_ticks", cluster.heartbeat_interval_ticks},
                     {"snapshot_count", cluster.snapshot_count},
                     {"snapshot_catch_up_entries", cluster.snapshot_catch_up_entries},
                     {"request_timeout_ms", cluster.request_timeout_ms},
                     {"max_append_bytes", cluster.max_append_bytes},
                     {"backend", backend_kind_name(cluster.backend)}};
  const NetworkSpec& network = scenario.network;
  json["network"] = {{"latency_min_us", network.latency_min_us},
                     {"jitter_mean_us", network.jitter_mean_us},
                     {"loss", network.loss},
                     {"duplicate", network.duplicate},
                     {"reorder", network.reorder},
                     {"reorder_delay_max_us", network.reorder_delay_max_us}};
  json["disk"] = {{"latency_min_us", scenario.disk.latency_min_us},
                  {"latency_max_us", scenario.disk.latency_max_us},
                  {"crash_mode", crash_mode_name(scenario.disk.crash_mode)}};
  json["workloads"] = Json::array();
  for (const WorkloadSpec& workload : scenario.workloads) {
    json["workloads"].push_back({{"type", workload.type}, {"clients", workload.clients}});
  }
  json["duration_ms"] = scenario.duration_ms;
  json["heal_ms"] = scenario.heal_ms;
  json["liveness_bound_ms"] = scenario.liveness_bound_ms;
  if (scenario.swarm) json["swarm"] = true;
  if (scenario.buggify) json["buggify"] = true;
  json["faults"] = Json::array();
  for (const FaultSpec& fault : scenario.faults) json["faults"].push_back(fault_json(fault));
  if (!scenario.checks.empty()) json["checks"] = scenario.checks;
  return json.dump(2) + "\n";
}

}  // namespace lockstep::sim::scenario
