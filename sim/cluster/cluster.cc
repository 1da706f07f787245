#include "sim/cluster/cluster.h"

#include "core/mvcc/memory_backend.h"
#include "sim/cluster/raft_storage_adapter.h"
#include "store/raft_persistence.h"

namespace lockstep::sim {
namespace {

WorldOptions world_options(const ClusterConfig& config) {
  WorldOptions options = WorldOptions::seeded(config.seed);
  options.record_trace = config.record_trace;
  options.buggify_enabled = config.buggify;
  options.default_path = config.network;
  return options;
}

}  // namespace

Cluster::Cluster(ClusterConfig config)
    : config_(std::move(config)), world_(world_options(config_)) {
  ASSERT(config_.member_count > 0, "a cluster needs members");
  for (int i = 1; i <= config_.member_count; ++i) member_ids_.push_back(NodeId(i));
}

Cluster::~Cluster() = default;

Status Cluster::boot() {
  for (NodeId id : member_ids_) {
    RETURN_IF_ERROR(
        world_.add_process(id, "member-" + std::to_string(id.value()),
                           [this, id](env::Runtime& runtime) { run_member(id, runtime); }));
  }
  return Status::ok();
}

void Cluster::run_member(NodeId id, env::Runtime& runtime) {
  Result<std::unique_ptr<store::RaftPersistence>> persistence =
      store::RaftPersistence::open(runtime.disk());
  if (!persistence.is_ok()) {
    member_exits_.push_back("member " + std::to_string(id.value()) +
                            " could not open its disk: " + persistence.error().to_string());
    return;
  }
  RaftStorageAdapter storage(std::move(*persistence));
  mvcc::MemoryBackend backend;
  node::MemberConfig member_config = config_.member;
  member_config.id = id;
  member_config.initial_voters = member_ids_;
  node::Member member(runtime, member_config, storage, backend, &safety_);
  // Registered for observation while this incarnation lives; the guard also runs when a
  // crash unwinds this fiber's stack.
  running_[id] = &member;
  struct Unregister {
    std::map<NodeId, node::Member*>& running;
    NodeId id;
    ~Unregister() { running.erase(id); }
  } unregister{running_, id};
  Status stopped = member.run();
  member_exits_.push_back("member " + std::to_string(id.value()) +
                          " stopped: " + stopped.to_string());
}

NodeId Cluster::add_client(std::string name, ClientOptions options,
                           std::function<void(ClusterClient&)> body) {
  const NodeId id(next_client_id_++);
  Status added = world_.add_process(id, std::move(name),
                                    [this, options, body = std::move(body)](env::Runtime& runtime) {
                                      ClusterClient client(runtime, member_ids_, options);
                                      body(client);
                                    });
  ASSERT(added.is_ok(), "client ids are unique");
  return id;
}

void Cluster::crash(NodeId member, CrashMode mode) {
  world_.crash(member, mode);
}

Status Cluster::restart(NodeId member) {
  return world_.restart(member);
}

void Cluster::isolate(NodeId member) {
  std::vector<NodeId> others;
  for (NodeId id : member_ids_) {
    if (id != member) others.push_back(id);
  }
  world_.partition({{member}, others});
}

bool Cluster::is_up(NodeId member) const {
  return world_.state(member) == ProcessState::kRunning && running_.contains(member);
}

const node::Member* Cluster::member(NodeId id) const {
  auto it = running_.find(id);
  return it == running_.end() ? nullptr : it->second;
}

std::optional<NodeId> Cluster::leader() const {
  std::optional<NodeId> best;
  Term best_term;
  for (const auto& [id, member] : running_) {
    if (world_.state(id) != ProcessState::kRunning || !member->is_leader()) continue;
    const Term term = member->status().header.raft_term;
    if (!best || term > best_term) {
      best = id;
      best_term = term;
    }
  }
  return best;
}

}  // namespace lockstep::sim
