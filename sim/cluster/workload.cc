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
  return {"kv", "txn"};
}

std::unique_ptr<Workload> make_workload(std::string_view name) {
  if (name == "kv") return make_kv_workload();
  if (name == "txn") return make_txn_workload();
  return nullptr;
}

}  // namespace lockstep::sim
