#include "sim/cluster/workload.h"

namespace lockstep::sim {

std::string_view verdict_name(CheckOutcome::Verdict verdict) {
  switch (verdict) {
    case CheckOutcome::Verdict::kPass:
      return "pass";
    case CheckOutcome::Verdict::kFail:
      return "FAIL";
    case CheckOutcome::Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

std::vector<std::string_view> workload_names() {
  return {"kv", "txn", "watch", "lease", "lock", "election", "config"};
}

std::unique_ptr<Workload> make_workload(std::string_view name) {
  if (name == "kv") return make_kv_workload();
  if (name == "txn") return make_txn_workload();
  if (name == "watch") return make_watch_workload();
  if (name == "lease") return make_lease_workload();
  if (name == "lock") return make_lock_workload();
  if (name == "election") return make_election_workload();
  if (name == "config") return make_config_workload();
  return nullptr;
}

}  // namespace lockstep::sim
