#include "tests/property/cluster_case.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lockstep::property {
namespace {

// Workloads whose checks are exact without further knobs; config and election add
// membership churn and campaign clients, exercised by their own tests.
const std::vector<std::string> kWorkloadChoices = {"kv", "txn", "watch", "lease", "lock"};

std::string join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) joined += (joined.empty() ? "" : ",") + part;
  return joined;
}

}  // namespace

sim::RunOptions to_run_options(const ClusterCase& run_case) {
  sim::RunOptions options;
  options.cluster.seed = run_case.seed;
  options.cluster.member_count = run_case.members;
  options.cluster.member.election_timeout_ticks = run_case.election_timeout_ticks;
  options.cluster.member.heartbeat_interval_ticks = run_case.heartbeat_interval_ticks;
  options.cluster.network.loss_probability = run_case.loss;
  options.workloads = run_case.workloads;
  options.clients_per_workload = run_case.clients;
  options.duration = std::chrono::milliseconds(run_case.duration_ms);
  options.settle = std::chrono::seconds(5);
  options.faults.crashes = run_case.crashes;
  options.faults.partitions = run_case.partitions;
  options.faults.pauses = run_case.pauses;
  options.faults.message_loss = run_case.fault_window_loss;
  // A property run must end in pass or fail: a bounded search that gives up is reported as
  // unknown by run_workloads, which fails the property too (never a silent pass).
  options.max_check_steps = 20'000'000;
  return options;
}

std::string describe_case(const ClusterCase& run_case) {
  nlohmann::ordered_json json;
  json["name"] = "property-counterexample";
  json["seed"] = run_case.seed;
  json["cluster"] = {{"members", run_case.members},
                     {"election_timeout_ticks", run_case.election_timeout_ticks},
                     {"heartbeat_interval_ticks", run_case.heartbeat_interval_ticks}};
  json["network"] = {{"loss", run_case.loss}};
  nlohmann::ordered_json workloads = nlohmann::ordered_json::array();
  for (const std::string& workload : run_case.workloads) {
    workloads.push_back({{"type", workload}, {"clients", run_case.clients}});
  }
  json["workloads"] = workloads;
  json["duration_ms"] = run_case.duration_ms;
  json["fault_plan"] = {{"crashes", run_case.crashes},
                        {"partitions", run_case.partitions},
                        {"pauses", run_case.pauses},
                        {"message_loss", run_case.fault_window_loss}};
  std::string text = json.dump(2);
  text +=
      "\nreplay (exact): rerun this test with RC_PARAMS=\"reproduce=...\" as printed by "
      "RapidCheck below";
  const bool default_knobs = run_case.election_timeout_ticks == 10 &&
                             run_case.heartbeat_interval_ticks == 1 && run_case.loss == 0;
  if (default_knobs && run_case.crashes == 0 && run_case.partitions == 0 && run_case.pauses == 0) {
    text += "\nreplay (cli): lockstep sim cluster --seed " + std::to_string(run_case.seed) +
            " --members " + std::to_string(run_case.members) + " --duration-ms " +
            std::to_string(run_case.duration_ms) + " --workload " + join(run_case.workloads) +
            " --clients " + std::to_string(run_case.clients) + " --faults none";
  }
  return text + "\n";
}

std::string failed_checks(const sim::RunResult& result) {
  std::string failed;
  for (const sim::CheckOutcome& check : result.checks) {
    if (check.passed()) continue;
    if (!failed.empty()) failed += "; ";
    failed +=
        check.name + " [" + std::string(sim::verdict_name(check.verdict)) + "] " + check.detail;
  }
  return failed;
}

}  // namespace lockstep::property

namespace rc {

using lockstep::property::ClusterCase;

Gen<ClusterCase> Arbitrary<ClusterCase>::arbitrary() {
  // Loss in per-mille so it shrinks toward zero in whole steps.
  auto per_mille = [](int low, int high) {
    return gen::map(gen::inRange(low, high + 1), [](int value) { return value / 1000.0; });
  };
  // One to three distinct workloads; shrinks toward a single one.
  auto workloads = gen::map(gen::pair(gen::elementOf(lockstep::property::kWorkloadChoices),
                                      gen::container<std::vector<std::string>>(
                                          gen::elementOf(lockstep::property::kWorkloadChoices))),
                            [](const std::pair<std::string, std::vector<std::string>>& drawn) {
                              std::vector<std::string> chosen = {drawn.first};
                              for (const std::string& more : drawn.second) {
                                if (chosen.size() == 3) break;
                                if (std::find(chosen.begin(), chosen.end(), more) == chosen.end())
                                  chosen.push_back(more);
                              }
                              return chosen;
                            });
  return gen::build<ClusterCase>(
      gen::set(&ClusterCase::seed, gen::inRange<uint64_t>(1, 1'000'000)),
      gen::set(&ClusterCase::members, gen::inRange(3, 6)),
      gen::set(&ClusterCase::election_timeout_ticks, gen::inRange(5, 21)),
      gen::set(&ClusterCase::heartbeat_interval_ticks, gen::inRange(1, 3)),
      gen::set(&ClusterCase::loss, per_mille(0, 30)),
      gen::set(&ClusterCase::crashes, gen::inRange(0, 4)),
      gen::set(&ClusterCase::partitions, gen::inRange(0, 4)),
      gen::set(&ClusterCase::pauses, gen::inRange(0, 3)),
      gen::set(&ClusterCase::fault_window_loss, per_mille(0, 50)),
      gen::set(&ClusterCase::workloads, workloads),
      gen::set(&ClusterCase::clients, gen::inRange(1, 4)),
      gen::set(&ClusterCase::duration_ms, gen::inRange<int64_t>(1'000, 4'001)));
}

}  // namespace rc
