#include "sim/cluster/cluster.h"

#include <atomic>

#include "core/mvcc/memory_backend.h"
#include "store/raft_persistence.h"
#include "store/raft_storage_adapter.h"
#include "store/sqlite_backend.h"
#include "store/sqlite_vfs.h"

namespace lockstep::sim {
namespace {

// SQLite keeps registered VFSes in one process-wide list, so names must differ between
// clusters alive in the same OS process (tests, the determinism check). The name never
// reaches the simulation: it is neither traced nor written to disk.
std::atomic<uint64_t> next_cluster_instance{1};

// SQLite's page size in simulated members (see open_storage).
constexpr int kSimulatedSqlitePageBytes = 1024;

WorldOptions world_options(const ClusterConfig& config) {
  WorldOptions options = WorldOptions::seeded(config.seed);
  options.record_trace = config.record_trace;
  options.buggify_enabled = config.buggify;
  options.default_path = config.network;
  return options;
}

}  // namespace

struct Cluster::MemberStorage {
  std::unique_ptr<store::RaftStorageAdapter> raft;
  std::unique_ptr<store::SqliteVfs> vfs;  // kSqlite only
  std::unique_ptr<mvcc::Backend> backend;

  // Members are destroyed after this body: the backend first, while its VFS still exists.
  // Marking the VFS killed turns SQLite's close (a checkpoint, the -wal file's removal) into
  // no disk work, as for a process that died.
  ~MemberStorage() {
    if (vfs) vfs->note_killed();
  }
};

Cluster::Cluster(ClusterConfig config)
    : config_(std::move(config)),
      instance_(next_cluster_instance.fetch_add(1)),
      world_(world_options(config_)) {
  ASSERT(config_.member_count > 0, "a cluster needs members");
  for (int i = 1; i <= config_.member_count; ++i) member_ids_.push_back(NodeId(i));
  founding_ids_ = member_ids_;
  observers_.add(&safety_);
}

Cluster::~Cluster() {
  // Storage objects hold files of their process's disk, so they must go while the world's
  // processes still exist but after every member fiber is dead: crash the members first.
  for (NodeId id : member_ids_) {
    world_.crash(id, CrashMode::kKeepAll);
    retire_storage(id);
  }
}

Status Cluster::boot() {
  for (NodeId id : member_ids_) {
    RETURN_IF_ERROR(
        world_.add_process(id, "member-" + std::to_string(id.value()),
                           [this, id](env::Runtime& runtime) { run_member(id, runtime); }));
  }
  return Status::ok();
}

Status Cluster::open_storage(NodeId id, env::Runtime& runtime, MemberStorage& storage) {
  Result<std::unique_ptr<store::RaftPersistence>> persistence =
      store::RaftPersistence::open(runtime.disk());
  if (!persistence.is_ok()) return persistence.error();
  storage.raft = std::make_unique<store::RaftStorageAdapter>(std::move(*persistence));
  if (config_.backend == BackendKind::kMemory) {
    storage.backend = std::make_unique<mvcc::MemoryBackend>();
    return Status::ok();
  }
  // The daemon's settings (server/daemon): the same store code under simulation.
  store::SqliteVfsOptions vfs_options;
  vfs_options.name = "lockstep-sim-" + std::to_string(instance_) + "-member-" +
                     std::to_string(id.value()) + "-" + std::to_string(++incarnations_[id]);
  vfs_options.random_seed = runtime.random().next_u64();
  vfs_options.runtime = &runtime;
  vfs_options.clock = [&runtime] { return runtime.now(); };
  Result<std::unique_ptr<store::SqliteVfs>> vfs =
      store::SqliteVfs::register_vfs(runtime.disk(), vfs_options);
  if (!vfs.is_ok()) return vfs.error();
  storage.vfs = std::move(*vfs);
  // The daemon's durability model (etcd's): applied entries share SQLite transactions
  // (group commits, several Readies per transaction) that are not fsynced on their own, so a
  // crash may lose the last ones, whole and in order, and the member replays them from its
  // Raft log past the backend's consistent index. Simulating that recovery path is the point:
  // every crash mode of SimDisk now exercises it. And 1 KiB pages instead of 4 KiB: a
  // transaction adds a few rows, and writing (and checksumming) whole 4 KiB WAL frames for
  // them was a quarter of a simulated run. A page still spans two 512-byte sectors, so a torn
  // write can still tear a frame.
  store::SqliteBackendOptions backend_options;
  backend_options.sync_every_commit = false;
  backend_options.group_commits = true;
  backend_options.page_bytes = kSimulatedSqlitePageBytes;
  Result<std::unique_ptr<store::SqliteBackend>> backend =
      store::SqliteBackend::open(*storage.vfs, backend_options);
  if (!backend.is_ok()) return backend.error();
  storage.backend = std::move(*backend);
  return Status::ok();
}

void Cluster::retire_storage(NodeId id) {
  storage_.erase(id);
}

void Cluster::run_member(NodeId id, env::Runtime& runtime) {
  ++starts_[id];
  // A previous incarnation that stopped by itself (not through crash()) left its storage.
  retire_storage(id);
  MemberStorage& storage = *(storage_[id] = std::make_unique<MemberStorage>());
  if (Status opened = open_storage(id, runtime, storage); !opened.is_ok()) {
    member_exits_.push_back("member " + std::to_string(id.value()) +
                            " could not open its disk: " + opened.to_string());
    fail_stop(id);
    return;
  }
  node::MemberConfig member_config = config_.member;
  member_config.id = id;
  // Every member, founding or joined later, starts from the founding voters and replays the
  // membership changes after them from the log (or takes a snapshot's). That is etcd's model:
  // its founding members are the first entries of the log, which a joining member receives
  // from the leader like any others. Here the founding set is configuration instead of log
  // entries, so a joining member must be given it too; join_existing (no membership until a
  // snapshot arrives) would have it replay later conf changes onto an empty set.
  member_config.initial_voters = founding_ids_;
  node::Member member(runtime, member_config, *storage.raft, *storage.backend, &observers_);
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
  // A removed member (ok) stays stopped; any other reason is a failure the process dies of.
  if (!stopped.is_ok()) fail_stop(id);
}

// etcd does not survive a storage failure: a failed WAL write or fsync, or a failed backend
// commit, is logged as fatal and the process exits (after a failed fsync the page cache can
// no longer be trusted, so continuing or retrying could acknowledge lost data: fsyncgate).
// Here the process dies the same way. World::crash is for the driver, so the death happens
// in a callback at the same virtual instant, once this fiber has returned; kKeepAll because
// an exiting process loses no page cache (only the writes a failed fsync dropped, which the
// disk already marked lost). A restart fault, or the heal phase, starts it again like an
// operator or a supervisor would, and it recovers from what its disk kept.
void Cluster::fail_stop(NodeId id) {
  const uint64_t incarnation = starts_[id];
  world_.schedule_at(world_.now(), [this, id, incarnation] {
    if (starts_[id] != incarnation || world_.state(id) == ProcessState::kCrashed) return;
    crash(id, CrashMode::kKeepAll);
    failed_.insert(id);
    if (on_fail_stop_) on_fail_stop_(id);
  });
}

NodeId Cluster::next_member_id() const {
  return NodeId(member_ids_.back().value() + 1);
}

Status Cluster::start_joining_member(NodeId id) {
  if (id != next_member_id()) {
    return Status(ErrorCode::kInvalidInput, "members join in id order");
  }
  ASSERT(id.value() < kFirstClientId, "member ids stay below client ids");
  member_ids_.push_back(id);
  return world_.add_process(id, "member-" + std::to_string(id.value()),
                            [this, id](env::Runtime& runtime) { run_member(id, runtime); });
}

NodeId Cluster::add_client(std::string name, ClientOptions options,
                           std::function<void(ClusterClient&)> body) {
  const NodeId id(next_client_id_++);
  Status added = world_.add_process(id, std::move(name),
                                    [this, options, body = std::move(body)](env::Runtime& runtime) {
                                      ClusterClient client(runtime, member_ids_, options);
                                      client.count_requests_in(client_requests_);
                                      body(client);
                                    });
  ASSERT(added.is_ok(), "client ids are unique");
  return id;
}

void Cluster::crash(NodeId member, CrashMode mode) {
  world_.crash(member, mode);
  retire_storage(member);
}

Status Cluster::restart(NodeId member) {
  RETURN_IF_ERROR(world_.restart(member));
  failed_.erase(member);
  return Status::ok();
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
    const Term term = member->term();
    if (!best || term > best_term) {
      best = id;
      best_term = term;
    }
  }
  return best;
}

}  // namespace lockstep::sim
