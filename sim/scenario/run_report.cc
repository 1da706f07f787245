#include "sim/scenario/run_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "checker/history_format.h"
#include "sim/scenario/scenario_parser.h"

namespace lockstep::sim::scenario {
namespace {

using Json = nlohmann::json;

Json check_json(const CheckReport& check) {
  Json json = {{"name", check.name},
               {"verdict", std::string(verdict_name(check.verdict))},
               {"detail", check.detail}};
  json["counterexample_operations"] = check.counterexample_operations;
  return json;
}

Json timeline_json(const ScenarioResult& result) {
  Json json;
  json["members"] = Json::array();
  for (NodeId id : scenario_member_ids(result.scenario)) json["members"].push_back(id.value());
  // Where the timeline's zero lies on history.jsonl's clock (reports/ shifts operations by it).
  json["origin_ns"] = result.origin_ns;
  json["duration_ms"] = result.scenario.duration_ms;
  json["heal_at_ms"] = result.scenario.duration_ms;
  json["end_ms"] = result.sim_time_ms;
  json["roles"] = Json::array();
  for (const TimelineEvent& event : result.timeline) {
    json["roles"].push_back({{"t_ms", event.t_ms},
                             {"member", event.member},
                             {"state", event.what},
                             {"term", event.term}});
  }
  json["faults"] = Json::array();
  for (const AppliedFault& fault : result.faults) {
    json["faults"].push_back({{"start_ms", fault.start_ms},
                              {"end_ms", fault.end_ms},
                              {"action", fault.action},
                              {"targets", fault.targets},
                              {"detail", fault.detail}});
  }
  json["member_exits"] = result.member_exits;
  return json;
}

std::string trace_jsonl(const ScenarioResult& result) {
  std::string out;
  for (const TraceRecord& record : result.trace) {
    out += Json({{"t_ns", record.time.nanoseconds()},
                 {"process", record.node},
                 {"kind", std::string(trace_kind_name(record.kind))},
                 {"detail", record.detail}})
               .dump();
    out += "\n";
  }
  return out;
}

}  // namespace

std::string format_trace_hash(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string human_summary(const ScenarioResult& result) {
  std::string out = "scenario " + result.scenario.name + ", seed " + std::to_string(result.seed) +
                    ", " + std::to_string(result.scenario.cluster.members) + " members\n";
  for (const AppliedFault& fault : result.faults) {
    out += "  fault " + std::to_string(fault.start_ms) + "ms";
    if (fault.end_ms > fault.start_ms) out += "-" + std::to_string(fault.end_ms) + "ms";
    out += " " + fault.action;
    if (!fault.targets.empty()) out += " [" + fault.targets + "]";
    if (!fault.detail.empty()) out += " " + fault.detail;
    out += "\n";
  }
  for (const std::string& exit : result.member_exits) out += "  exit " + exit + "\n";
  out += "  operations ok " + std::to_string(result.operations_ok) + ", failed " +
         std::to_string(result.operations_failed) + ", indeterminate " +
         std::to_string(result.operations_indeterminate) + "; messages delivered " +
         std::to_string(result.messages_delivered) + ", dropped " +
         std::to_string(result.messages_dropped) + "; events " + std::to_string(result.events) +
         "\n";
  for (const CheckReport& check : result.checks) {
    out += "  check " + std::string(verdict_name(check.verdict)) + ": " + check.name;
    if (!check.detail.empty()) out += " — " + check.detail;
    out += "\n";
  }
  out += "  trace_hash " + format_trace_hash(result.trace_hash) + "\n";
  return out;
}

std::string replay_command(const std::string& scenario_path, const ScenarioResult& result) {
  return "lockstep sim replay " + scenario_path + " --seed " + std::to_string(result.seed) +
         " --expect-hash " + format_trace_hash(result.trace_hash);
}

std::string summary_json(const ScenarioResult& result, int64_t wall_ms) {
  Json json;
  json["scenario"] = result.scenario.name;
  json["seed"] = result.seed;
  json["verdict"] = result.passed() ? "pass" : "fail";
  json["checks"] = Json::array();
  for (const CheckReport& check : result.checks) {
    json["checks"].push_back(
        {{"name", check.name}, {"verdict", std::string(verdict_name(check.verdict))}});
  }
  json["failed_checks"] = result.failed_checks();
  json["trace_hash"] = format_trace_hash(result.trace_hash);
  json["sim_time_ms"] = result.sim_time_ms;
  json["wall_ms"] = wall_ms;
  json["ops"] = result.operations();
  json["requests"] = result.client_requests;
  json["ops_ok"] = result.operations_ok;
  json["ops_failed"] = result.operations_failed;
  json["ops_indeterminate"] = result.operations_indeterminate;
  json["events"] = result.events;
  json["faults_applied"] = result.faults.size();
  return json.dump();
}

std::vector<ReportFile> report_files(const ScenarioResult& result, int64_t wall_ms) {
  std::vector<ReportFile> files;
  files.push_back({"summary.json", Json::parse(summary_json(result, wall_ms)).dump(2) + "\n"});
  files.push_back(
      {"history.jsonl", checker::to_jsonl(result.history, "etcd") + result.guarantee_records});
  files.push_back({"trace.jsonl", trace_jsonl(result)});
  files.push_back({"timeline.json", timeline_json(result).dump(2) + "\n"});
  Json checks = Json::array();
  for (const CheckReport& check : result.checks) checks.push_back(check_json(check));
  files.push_back({"checks.json", checks.dump(2) + "\n"});
  files.push_back({"scenario.json", scenario_to_json(result.scenario)});
  Json probes = Json::array();
  for (const ProbeHit& probe : result.probes) {
    probes.push_back({{"site", probe.site}, {"name", probe.name}, {"hits", probe.hits}});
  }
  files.push_back({"probes.json", probes.dump(2) + "\n"});
  return files;
}

}  // namespace lockstep::sim::scenario
