#pragma once

#include <string>

#include "core/node/member.h"
#include "core/node/member_observer.h"
#include "server/api/admin_api.h"
#include "server/daemon/daemon_options.h"
#include "server/daemon/member_client_api.h"
#include "server/daemon/member_directory.h"
#include "server/tcp_network.h"
#include "store/sqlite_backend.h"

namespace lockstep::daemon {

// How long MoveLeader waits for the transferee to win (etcd: the request timeout).
inline constexpr Duration kMoveLeaderPollInterval = std::chrono::milliseconds(20);

// server/api's AdminApi (etcd's Cluster and Maintenance services) for `lockstep serve`:
//   - membership changes and the member list go through the member's client protocol
//     (MemberClientApi::submit), so a follower forwards what only the leader may decide;
//   - the names and URLs etcd shows come from the MemberDirectory, kept current by this
//     class as the MemberObserver that sees every applied ConfChange;
//   - status, defragment, hash, snapshot and move-leader read the running member and its
//     SQLite backend directly, on the loop thread (attach()).
class DaemonAdminApi final : public api::AdminApi, public node::MemberObserver {
 public:
  DaemonAdminApi(MemberClientApi& client_api, server::EventLoop& loop, env::Runtime& runtime,
                 server::TcpNetwork& peers, const DaemonPlan& plan);

  // Before the loop runs: the members as the data dir last saved them (MemberDirectory::save),
  // which replace --initial-cluster's view, as etcd ignores --initial-cluster on a restart.
  Status restore_members();

  // Loop thread: the running member and backend (nullptr when the member stopped).
  void attach(node::Member* member, store::SqliteBackend* backend);

  // api::AdminApi
  void member_list(api::Completion<etcdserverpb::MemberListResponse> done) override;
  void member_add(const etcdserverpb::MemberAddRequest& request,
                  api::Completion<etcdserverpb::MemberAddResponse> done) override;
  void member_remove(const etcdserverpb::MemberRemoveRequest& request,
                     api::Completion<etcdserverpb::MemberRemoveResponse> done) override;
  void member_promote(const etcdserverpb::MemberPromoteRequest& request,
                      api::Completion<etcdserverpb::MemberPromoteResponse> done) override;
  void member_update(const etcdserverpb::MemberUpdateRequest& request,
                     api::Completion<etcdserverpb::MemberUpdateResponse> done) override;
  void status(api::Completion<etcdserverpb::StatusResponse> done) override;
  void alarm(const etcdserverpb::AlarmRequest& request,
             api::Completion<etcdserverpb::AlarmResponse> done) override;
  void defragment(api::Completion<etcdserverpb::DefragmentResponse> done) override;
  void hash(api::Completion<etcdserverpb::HashResponse> done) override;
  void hash_kv(const etcdserverpb::HashKVRequest& request,
               api::Completion<etcdserverpb::HashKVResponse> done) override;
  void move_leader(const etcdserverpb::MoveLeaderRequest& request,
                   api::Completion<etcdserverpb::MoveLeaderResponse> done) override;
  void snapshot(api::Completion<SnapshotImage> done) override;

  // node::MemberObserver (the member's fibers, on the loop thread)
  void on_role(NodeId, Term, raft::RoleKind, NodeId) override {}
  void on_persisted(NodeId, const raft::HardState&, LogIndex) override {}
  void on_applied(NodeId member, const raft::Entry& entry) override;
  void on_snapshot_installed(NodeId, const raft::SnapshotMetadata&) override {}

 private:
  // Runs `task` on the loop with the attached member, or fails `on_stopped` with kStopped.
  void with_member(std::function<void(node::Member&, store::SqliteBackend&)> task,
                   std::function<void(Error)> on_stopped);
  void learn_member(NodeId id, MemberAttributes attributes);
  // The attributes an applied ConfChange carries for `id` merged into what is known: an add
  // brings them all, an update (etcd's UpdateRaftAttributes) only new peer URLs.
  void apply_member_change(raft::ConfChangeType type, NodeId id, const std::string& context);
  void update_peer_urls(NodeId id, std::vector<std::string> peer_urls);
  void save_members();
  void fill_members(const node::MemberListResponse& list,
                    google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members) const;
  void wait_for_leader(NodeId target, Instant deadline,
                       api::Completion<etcdserverpb::MoveLeaderResponse> done);

  MemberClientApi& client_api_;
  server::EventLoop& loop_;
  env::Runtime& runtime_;
  server::TcpNetwork& peers_;
  const DaemonPlan& plan_;
  MemberDirectory directory_;  // loop thread only
  node::Member* member_ = nullptr;
  store::SqliteBackend* backend_ = nullptr;
};

}  // namespace lockstep::daemon
