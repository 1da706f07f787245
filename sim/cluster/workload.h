#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/random.h"
#include "core/base/time.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/history_recorder.h"

namespace lockstep::sim {

// The verdict of one check at the end of a run.
struct CheckOutcome {
  enum class Verdict : uint8_t { kPass, kFail, kUnknown };
  std::string name;
  Verdict verdict = Verdict::kPass;
  std::string detail;

  bool passed() const { return verdict == Verdict::kPass; }
};
std::string_view verdict_name(CheckOutcome::Verdict verdict);

// What every workload gets: the cluster to add clients to, the shared history, and the
// schedule. Clients issue operations until `stop_at` (world time), then wind down; checks
// run after `end_at`, when faults have healed and the cluster had time to settle.
struct WorkloadEnvironment {
  Cluster& cluster;
  HistoryRecorder& recorder;
  Instant stop_at;
  Instant end_at;
  int clients = 3;  // client processes per workload (some workloads add observers)
  ClientOptions client_options;
  int64_t first_history_id = 0;  // distinct per workload, so history ids never collide
};

// A workload: client processes with a purpose and, for purposes linearizability alone does
// not judge (watch delivery, lock fencing, lease expiry, configuration convergence), its own
// check over what its clients recorded.
class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string_view name() const = 0;
  // Adds the workload's client processes.
  virtual void start(WorkloadEnvironment& environment) = 0;
  // Runs after the simulation ended. Workloads judged by linearizability alone return none.
  virtual std::vector<CheckOutcome> check(const WorkloadEnvironment& environment) = 0;
  // Whether the workload's writes are all recorded in the linearizability history (and no
  // lease expiry deletes keys behind the checker's back), so revisions can be checked too.
  virtual bool records_every_write() const = 0;
};

// "kv", "txn", "watch", "lease", "lock", "election", "config"; nullptr for other names.
std::unique_ptr<Workload> make_workload(std::string_view name);
std::vector<std::string_view> workload_names();

// One workload per file; their factories.
std::unique_ptr<Workload> make_kv_workload();
std::unique_ptr<Workload> make_txn_workload();
std::unique_ptr<Workload> make_watch_workload();
std::unique_ptr<Workload> make_lease_workload();
std::unique_ptr<Workload> make_lock_workload();
std::unique_ptr<Workload> make_election_workload();
std::unique_ptr<Workload> make_config_workload();

}  // namespace lockstep::sim
