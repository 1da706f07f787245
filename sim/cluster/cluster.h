#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env/runtime.h"
#include "core/mvcc/backend.h"
#include "core/node/member.h"
#include "core/node/member_config.h"
#include "sim/cluster/cluster_client.h"
#include "sim/cluster/safety_monitor.h"
#include "sim/world.h"

namespace lockstep::sim {

// Which MVCC backend each member keeps its state in.
enum class BackendKind : uint8_t {
  // mvcc::MemoryBackend, rebuilt from the Raft snapshot + log at each restart. Interim:
  // used until store/'s SQLite backend over env::Disk is available to the cluster.
  kMemory,
};

// Member process ids are 1..member_count; clients start here.
inline constexpr uint64_t kFirstClientId = 1000;

struct ClusterConfig {
  uint64_t seed = 1;
  int member_count = 5;
  // Template for every member (timeouts, limits); id and voters are filled per member.
  node::MemberConfig member = node::MemberConfig::for_simulation(NodeId{}, {});
  BackendKind backend = BackendKind::kMemory;
  PathModel network;  // every path's latency, loss, duplication and reordering
  bool record_trace = false;
  bool buggify = false;
};

// A simulated cluster: N member processes on one sim::World, each with its SimDisk (WAL
// and snapshots through store/), plus client processes. The driver (a test, the CLI, the
// scenario runner) calls the fault hooks between World::run_* steps.
class Cluster {
 public:
  explicit Cluster(ClusterConfig config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Adds and starts the member processes.
  Status boot();

  // Adds a client process whose main runs `body` with a ClusterClient for the members.
  NodeId add_client(std::string name, ClientOptions options,
                    std::function<void(ClusterClient&)> body);

  // ---- faults ----
  void crash(NodeId member, CrashMode mode = CrashMode::kTorn);
  Status restart(NodeId member);
  void pause(NodeId member) { world_.pause(member); }
  void resume(NodeId member) { world_.resume(member); }
  // Cuts every path between the groups (clients keep their paths to everyone).
  void partition(const std::vector<std::vector<NodeId>>& groups) { world_.partition(groups); }
  // Cuts `member` off from the other members.
  void isolate(NodeId member);
  void heal() { world_.heal(); }

  // ---- observing ----
  World& world() { return world_; }
  const ClusterConfig& config() const { return config_; }
  const std::vector<NodeId>& member_ids() const { return member_ids_; }
  bool is_up(NodeId member) const;
  // The running member objects (nullptr when crashed), for observation only.
  const node::Member* member(NodeId id) const;
  // A running member that believes it leads, with the highest term among such; nullopt if
  // none does.
  std::optional<NodeId> leader() const;
  SafetyMonitor& safety() { return safety_; }
  // Why members stopped on their own (storage failures, removal), in order.
  const std::vector<std::string>& member_exits() const { return member_exits_; }

 private:
  void run_member(NodeId id, env::Runtime& runtime);

  ClusterConfig config_;
  std::vector<NodeId> member_ids_;
  uint64_t next_client_id_ = kFirstClientId;
  SafetyMonitor safety_;
  std::map<NodeId, node::Member*> running_;
  std::vector<std::string> member_exits_;
  // Last, so that it is destroyed first: killing the processes unwinds member fibers that
  // still reference the fields above.
  World world_;
};

}  // namespace lockstep::sim
