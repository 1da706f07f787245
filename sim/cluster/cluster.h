#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env/runtime.h"
#include "core/mvcc/backend.h"
#include "core/node/member.h"
#include "core/node/member_config.h"
#include "sim/cluster/backend_kind.h"
#include "sim/cluster/cluster_client.h"
#include "sim/cluster/observer_fanout.h"
#include "sim/cluster/safety_monitor.h"
#include "sim/world.h"

namespace lockstep::sim {

// Member process ids are 1..member_count; clients start here.
inline constexpr uint64_t kFirstClientId = 1000;

struct ClusterConfig {
  uint64_t seed = 1;
  int member_count = 5;
  // Template for every member (timeouts, limits); id and voters are filled per member.
  node::MemberConfig member = node::MemberConfig::for_simulation(NodeId{}, {});
  BackendKind backend = BackendKind::kSqlite;
  PathModel network;  // every path's latency, loss, duplication and reordering
  bool record_trace = false;
  bool buggify = false;
};

// A simulated cluster: N member processes on one sim::World, each with its SimDisk (WAL,
// snapshots and, with BackendKind::kSqlite, the MVCC database through store/), plus client
// processes. The driver (a test, the CLI, the scenario runner) calls the fault hooks between
// World::run_* steps.
class Cluster {
 public:
  explicit Cluster(ClusterConfig config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Adds and starts the member processes.
  Status boot();

  // Membership changes (etcd's runtime reconfiguration): the id a new member gets, and its
  // start once the cluster accepted its MemberAdd. It learns the membership changes and the
  // data from the leader, and is a member like the founding ones from then on (faults,
  // convergence, clients created later).
  NodeId next_member_id() const;
  Status start_joining_member(NodeId id);

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
  // Requests the clients of add_client sent so far (every workload's, checked or not).
  uint64_t client_requests() const { return client_requests_; }
  bool is_up(NodeId member) const;
  // The running member objects (nullptr when crashed), for observation only.
  const node::Member* member(NodeId id) const;
  // A running member that believes it leads, with the highest term among such; nullopt if
  // none does.
  std::optional<NodeId> leader() const;
  SafetyMonitor& safety() { return safety_; }
  // Adds an observer of every member's reports (roles, applied entries), called from member
  // fibers after the safety monitor; it must outlive the cluster.
  void add_observer(node::MemberObserver* observer) { observers_.add(observer); }
  // Why members stopped on their own (storage failures, removal), in order.
  const std::vector<std::string>& member_exits() const { return member_exits_; }
  // The member's process died of a failure of its own (a storage error, see fail_stop) and
  // has not been restarted since.
  bool failed(NodeId member) const { return failed_.contains(member); }
  // Called (from a world callback, at the instant of the death) whenever a member's process
  // dies of a failure of its own, so that a driver can play the operator or supervisor.
  void on_fail_stop(std::function<void(NodeId)> callback) { on_fail_stop_ = std::move(callback); }

 private:
  // What one incarnation of a member persists through. Owned by the cluster, not by the
  // member's fiber: a crash kills the member's fibers one by one, and a fiber killed while
  // blocked inside SQLite (or the WAL) unwinds through it, so both must outlive every fiber
  // of the incarnation. Released once the incarnation is dead (retire_storage).
  struct MemberStorage;

  void run_member(NodeId id, env::Runtime& runtime);
  // Ends the member's process after it stopped on a failure (called from its main fiber).
  void fail_stop(NodeId id);
  Status open_storage(NodeId id, env::Runtime& runtime, MemberStorage& storage);
  // Drops a dead incarnation's storage without closing anything on disk: the process is
  // gone, as after a power cut (and etcd exits without closing on a fatal error).
  void retire_storage(NodeId id);

  ClusterConfig config_;
  // Distinguishes this cluster's SQLite VFS names from other clusters' in the OS process.
  uint64_t instance_ = 0;
  std::map<NodeId, uint64_t> incarnations_;
  std::map<NodeId, std::unique_ptr<MemberStorage>> storage_;
  std::vector<NodeId> member_ids_;
  // The members the cluster was founded with: every founding member boots with this voter
  // set (configuration, not disk state), whatever joined or left since.
  std::vector<NodeId> founding_ids_;
  uint64_t next_client_id_ = kFirstClientId;
  uint64_t client_requests_ = 0;
  SafetyMonitor safety_;
  ObserverFanout observers_;  // safety_, then add_observer()'s
  std::map<NodeId, node::Member*> running_;
  std::vector<std::string> member_exits_;
  std::map<NodeId, uint64_t> starts_;  // incarnations of each member's process main
  std::set<NodeId> failed_;
  std::function<void(NodeId)> on_fail_stop_;
  // Last, so that it is destroyed first: killing the processes unwinds member fibers that
  // still reference the fields above.
  World world_;
};

}  // namespace lockstep::sim
