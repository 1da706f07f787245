#include "server/daemon/daemon_admin_api.h"

#include <openssl/sha.h>

#include <cstdio>

#include "core/base/crc32c.h"
#include "core/mvcc/meta_keys.h"
#include "core/node/entry_payload.h"
#include "core/raft/message_codec.h"
#include "server/api/proto_convert.h"
#include "server/daemon/etcd_hash_kv.h"
#include "server/daemon/member_id.h"

namespace lockstep::daemon {
namespace {

// etcd's version strings, as the JSON gateway's /version answers them.
constexpr const char* kServerVersion = "3.4.23";

template <typename Response>
MemberClientApi::AnyCompletion expect(std::function<void(Result<Response>)> done) {
  return [done = std::move(done)](Result<node::ClientResponseBody> result) {
    if (!result.is_ok()) return done(result.error());
    if (auto* response = std::get_if<Response>(&*result)) return done(std::move(*response));
    done(Error(ErrorCode::kInternal, "the member answered with another response type"));
  };
}

// etcd's Cluster service answers with cluster id, member id and raft term only (its
// ClusterServer.header()): no revision, unlike the KV services.
etcdserverpb::ResponseHeader cluster_header(const mvcc::ResponseHeader& header) {
  etcdserverpb::ResponseHeader converted = api::to_proto(header);
  converted.clear_revision();
  return converted;
}

std::string sha256(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

// The compaction revision this member's backend records (etcd's compactMainRev: -1 when the
// store was never compacted).
Result<Revision> compact_revision(const store::SqliteBackend& backend) {
  Result<std::map<std::string, std::string>> meta = backend.read_meta();
  if (!meta.is_ok()) return meta.error();
  auto found = meta->find(std::string(mvcc::kMetaCompactRevision));
  if (found == meta->end()) return Revision(-1);
  return mvcc::decode_meta_revision(found->second);
}

}  // namespace

DaemonAdminApi::DaemonAdminApi(MemberClientApi& client_api, server::EventLoop& loop,
                               env::Runtime& runtime, server::TcpNetwork& peers,
                               const DaemonPlan& plan)
    : client_api_(client_api), loop_(loop), runtime_(runtime), peers_(peers), plan_(plan) {
  for (const ClusterMember& member : plan.members) {
    MemberAttributes attributes;
    attributes.name = member.name;
    attributes.peer_urls = member.peer_urls;
    if (member.id == plan.self) attributes.client_urls = plan.advertise_client_urls;
    directory_.set(member.id, std::move(attributes));
  }
}

void DaemonAdminApi::attach(node::Member* member, store::SqliteBackend* backend) {
  member_ = member;
  backend_ = backend;
}

void DaemonAdminApi::with_member(std::function<void(node::Member&, store::SqliteBackend&)> task,
                                 std::function<void(Error)> on_stopped) {
  const bool posted = client_api_.run_on_loop([this, task, on_stopped] {
    if (member_ == nullptr || backend_ == nullptr) return on_stopped(Error(ErrorCode::kStopped));
    task(*member_, *backend_);
  });
  if (!posted) on_stopped(Error(ErrorCode::kStopped));
}

// ---- Membership ----

void DaemonAdminApi::learn_member(NodeId id, MemberAttributes attributes) {
  if (id == plan_.self && attributes.client_urls.empty()) {
    attributes.client_urls = plan_.advertise_client_urls;
  }
  if (!attributes.peer_urls.empty() && id != plan_.self) {
    Result<server::PeerAddress> address = parse_http_url(attributes.peer_urls.front());
    if (address.is_ok()) (void)peers_.set_peer_address(id, *address);
  }
  directory_.set(id, std::move(attributes));
}

Status DaemonAdminApi::restore_members() {
  Result<bool> loaded = directory_.load(runtime_.disk());
  if (!loaded.is_ok()) return loaded.error();
  if (!*loaded) return Status::ok();
  const std::map<NodeId, MemberAttributes> saved = directory_.members();
  for (const auto& [id, attributes] : saved) {
    MemberAttributes current = attributes;
    if (id == plan_.self) {
      current.name = plan_.name;
      current.client_urls = plan_.advertise_client_urls;
    }
    learn_member(id, std::move(current));
  }
  return Status::ok();
}

void DaemonAdminApi::on_applied(NodeId, const raft::Entry& entry) {
  if (entry.type != raft::EntryType::kConfChange) return;
  Result<raft::ConfChange> change = raft::decode_conf_change(entry.data);
  if (!change.is_ok()) return;
  for (const raft::ConfChangeSingle& single : change->changes) {
    apply_member_change(single.type, single.node, change->context);
  }
  if (!change->changes.empty()) save_members();
}

void DaemonAdminApi::apply_member_change(raft::ConfChangeType type, NodeId id,
                                         const std::string& context_bytes) {
  if (type == raft::ConfChangeType::kRemoveNode) return directory_.remove(id);
  Result<node::ConfChangeContext> context = node::decode_conf_change_context(context_bytes);
  if (!context.is_ok() || context->attributes.empty()) return;  // a promotion
  Result<MemberAttributes> attributes = decode_member_attributes(context->attributes);
  if (!attributes.is_ok()) return;
  if (type != raft::ConfChangeType::kUpdateNode) return learn_member(id, std::move(*attributes));
  update_peer_urls(id, std::move(attributes->peer_urls));
}

// etcd's UpdateRaftAttributes: only the peer URLs of a known member change.
void DaemonAdminApi::update_peer_urls(NodeId id, std::vector<std::string> peer_urls) {
  if (directory_.members().count(id) == 0) return;
  MemberAttributes updated = directory_.get(id);
  if (updated.peer_urls == peer_urls) return;
  updated.peer_urls = std::move(peer_urls);
  learn_member(id, std::move(updated));
}

// etcd panics when its membership store cannot be written; lockstep's copy is a cache of the
// log (a restart replays the ConfChanges since the last Raft snapshot over it), so a failure
// to save is reported and the member goes on.
void DaemonAdminApi::save_members() {
  Status saved = directory_.save(runtime_.disk());
  if (!saved.is_ok()) {
    std::fprintf(stderr, "lockstep serve: cannot save the member directory: %s\n",
                 saved.to_string().c_str());
  }
}

void DaemonAdminApi::fill_members(
    const node::MemberListResponse& list,
    google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members) const {
  for (const node::MemberInfo& info : list.members) {
    const MemberAttributes attributes = directory_.get(info.id);
    etcdserverpb::Member* member = members->Add();
    member->set_id(info.id.value());
    member->set_name(attributes.name);
    for (const std::string& url : attributes.peer_urls) member->add_peerurls(url);
    for (const std::string& url : attributes.client_urls) member->add_clienturls(url);
    member->set_islearner(info.is_learner);
  }
}

void DaemonAdminApi::member_list(api::Completion<etcdserverpb::MemberListResponse> done) {
  client_api_.submit(
      node::MemberListRequest{},
      expect<node::MemberListResponse>([this, done](Result<node::MemberListResponse> list) {
        if (!list.is_ok()) return done(list.error());
        etcdserverpb::MemberListResponse response;
        *response.mutable_header() = cluster_header(list->header);
        fill_members(*list, response.mutable_members());
        done(std::move(response));
      }));
}

void DaemonAdminApi::member_add(const etcdserverpb::MemberAddRequest& request,
                                api::Completion<etcdserverpb::MemberAddResponse> done) {
  std::vector<std::string> peer_urls(request.peerurls().begin(), request.peerurls().end());
  if (peer_urls.empty()) return done(Error(ErrorCode::kMemberBadUrls));
  for (const std::string& url : peer_urls) {
    if (!parse_http_url(url).is_ok()) return done(Error(ErrorCode::kMemberBadUrls, url));
  }
  // The id the new member derives for itself from the same URLs and the cluster token
  // (member_id.h), so that it can find itself in --initial-cluster when it starts.
  const NodeId id = compute_member_id(peer_urls, plan_.cluster_token);
  const bool is_learner = request.islearner();
  client_api_.run_on_loop([this, id, is_learner, peer_urls, done] {
    for (const std::string& url : peer_urls) {
      if (directory_.find_by_peer_url(url) != kNoNode) {
        return done(Error(ErrorCode::kPeerUrlExists));
      }
    }
    MemberAttributes attributes;
    attributes.peer_urls = peer_urls;
    node::MemberAddRequest add{id, is_learner, encode_member_attributes(attributes)};
    client_api_.submit(std::move(add),
                       expect<node::MemberListResponse>([this, id, is_learner, attributes, done](
                                                            Result<node::MemberListResponse> list) {
                         if (!list.is_ok()) return done(list.error());
                         // The member answers from inside the apply, before this class observed it.
                         learn_member(id, attributes);
                         etcdserverpb::MemberAddResponse response;
                         *response.mutable_header() = cluster_header(list->header);
                         etcdserverpb::Member* added = response.mutable_member();
                         added->set_id(id.value());
                         for (const std::string& url : attributes.peer_urls)
                           added->add_peerurls(url);
                         added->set_islearner(is_learner);
                         fill_members(*list, response.mutable_members());
                         done(std::move(response));
                       }));
  });
}

void DaemonAdminApi::member_remove(const etcdserverpb::MemberRemoveRequest& request,
                                   api::Completion<etcdserverpb::MemberRemoveResponse> done) {
  client_api_.submit(
      node::MemberRemoveRequest{NodeId(request.id())},
      expect<node::MemberListResponse>([this, done](Result<node::MemberListResponse> list) {
        if (!list.is_ok()) return done(list.error());
        etcdserverpb::MemberRemoveResponse response;
        *response.mutable_header() = cluster_header(list->header);
        fill_members(*list, response.mutable_members());
        done(std::move(response));
      }));
}

void DaemonAdminApi::member_promote(const etcdserverpb::MemberPromoteRequest& request,
                                    api::Completion<etcdserverpb::MemberPromoteResponse> done) {
  client_api_.submit(
      node::MemberPromoteRequest{NodeId(request.id())},
      expect<node::MemberListResponse>([this, done](Result<node::MemberListResponse> list) {
        if (!list.is_ok()) return done(list.error());
        etcdserverpb::MemberPromoteResponse response;
        *response.mutable_header() = cluster_header(list->header);
        fill_members(*list, response.mutable_members());
        done(std::move(response));
      }));
}

// etcd 3.4's MemberUpdate: the member's new peer URLs travel in the context of a
// ConfChangeUpdateNode, which every member applies (its peers then dial the new URLs); names
// and client URLs stay. Like MemberAdd, a URL another member already has is refused.
void DaemonAdminApi::member_update(const etcdserverpb::MemberUpdateRequest& request,
                                   api::Completion<etcdserverpb::MemberUpdateResponse> done) {
  std::vector<std::string> peer_urls(request.peerurls().begin(), request.peerurls().end());
  if (peer_urls.empty()) return done(Error(ErrorCode::kMemberBadUrls));
  for (const std::string& url : peer_urls) {
    if (!parse_http_url(url).is_ok()) return done(Error(ErrorCode::kMemberBadUrls, url));
  }
  const NodeId id(request.id());
  const bool posted = client_api_.run_on_loop([this, id, peer_urls, done] {
    for (const std::string& url : peer_urls) {
      const NodeId owner = directory_.find_by_peer_url(url);
      if (owner != kNoNode && owner != id) return done(Error(ErrorCode::kPeerUrlExists));
    }
    MemberAttributes attributes;
    attributes.peer_urls = peer_urls;
    node::MemberUpdateRequest update{id, encode_member_attributes(attributes)};
    client_api_.submit(std::move(update),
                       expect<node::MemberListResponse>(
                           [this, id, peer_urls, done](Result<node::MemberListResponse> list) {
                             if (!list.is_ok()) return done(list.error());
                             // The member answers from inside the apply, before this class
                             // observed it.
                             update_peer_urls(id, peer_urls);
                             etcdserverpb::MemberUpdateResponse response;
                             *response.mutable_header() = cluster_header(list->header);
                             fill_members(*list, response.mutable_members());
                             done(std::move(response));
                           }));
  });
  if (!posted) done(Error(ErrorCode::kStopped));
}

// ---- Maintenance ----

void DaemonAdminApi::status(api::Completion<etcdserverpb::StatusResponse> done) {
  with_member(
      [done](node::Member& member, store::SqliteBackend& backend) {
        const node::StatusResponse status = member.status();
        etcdserverpb::StatusResponse response;
        *response.mutable_header() = api::to_proto(status.header);
        response.set_version(kServerVersion);
        response.set_dbsize(static_cast<int64_t>(backend.size_bytes()));
        response.set_dbsizeinuse(static_cast<int64_t>(backend.size_in_use_bytes()));
        response.set_leader(status.leader.value());
        response.set_raftindex(status.raft_index.value());
        response.set_raftterm(status.header.raft_term.value());
        response.set_raftappliedindex(status.raft_applied_index.value());
        response.set_islearner(status.is_learner);
        done(std::move(response));
      },
      done);
}

void DaemonAdminApi::alarm(const etcdserverpb::AlarmRequest& request,
                           api::Completion<etcdserverpb::AlarmResponse> done) {
  // The member keeps etcd's alarms (core/node AlarmSet): a get answers from its applied set,
  // activate/deactivate (etcdctl alarm disarm) go through the Raft log.
  node::AlarmRequest alarm;
  alarm.action = static_cast<node::AlarmAction>(request.action());
  alarm.member = NodeId(request.memberid());
  alarm.alarm = static_cast<node::AlarmType>(request.alarm());
  if (request.action() > etcdserverpb::AlarmRequest::DEACTIVATE ||
      request.alarm() > etcdserverpb::CORRUPT) {
    return done(Error(ErrorCode::kInvalidInput, "unknown alarm action or type"));
  }
  client_api_.submit(alarm, expect<node::AlarmResponse>([done](Result<node::AlarmResponse> answer) {
                       if (!answer.is_ok()) return done(answer.error());
                       etcdserverpb::AlarmResponse response;
                       *response.mutable_header() = api::to_proto(answer->header);
                       for (const node::AlarmMember& raised : answer->alarms) {
                         etcdserverpb::AlarmMember* member = response.add_alarms();
                         member->set_memberid(raised.member.value());
                         member->set_alarm(static_cast<etcdserverpb::AlarmType>(raised.alarm));
                       }
                       done(std::move(response));
                     }));
}

void DaemonAdminApi::defragment(api::Completion<etcdserverpb::DefragmentResponse> done) {
  with_member(
      [done](node::Member& member, store::SqliteBackend& backend) {
        Status defragmented = backend.defragment();
        if (!defragmented.is_ok()) return done(defragmented.error());
        etcdserverpb::DefragmentResponse response;
        *response.mutable_header() = api::to_proto(member.status().header);
        done(std::move(response));
      },
      done);
}

void DaemonAdminApi::hash(api::Completion<etcdserverpb::HashResponse> done) {
  with_member(
      [done](node::Member& member, store::SqliteBackend& backend) {
        Result<std::string> image = backend.dump();
        if (!image.is_ok()) return done(image.error());
        etcdserverpb::HashResponse response;
        *response.mutable_header() = api::to_proto(member.status().header);
        response.set_hash(crc32c(*image));
        done(std::move(response));
      },
      done);
}

void DaemonAdminApi::hash_kv(const etcdserverpb::HashKVRequest& request,
                             api::Completion<etcdserverpb::HashKVResponse> done) {
  const Revision requested(request.revision());
  with_member(
      [requested, done](node::Member& member, store::SqliteBackend& backend) {
        // On the loop between two applies: one consistent state of this member's backend.
        Result<Revision> compacted = compact_revision(backend);
        if (!compacted.is_ok()) return done(compacted.error());
        const Revision current = member.current_revision();
        // etcd's hashKV: 0 is the current revision; at or below the compaction revision is
        // compacted, beyond the current one is a future revision.
        if (requested > Revision(0) && requested <= *compacted) {
          return done(Error(ErrorCode::kCompacted));
        }
        if (requested > current) return done(Error(ErrorCode::kFutureRevision));
        const Revision at = requested > Revision(0) ? requested : current;
        Result<uint32_t> hash = etcd_hash_kv(backend, at, *compacted);
        if (!hash.is_ok()) return done(hash.error());
        etcdserverpb::HashKVResponse response;
        *response.mutable_header() = api::to_proto(member.status().header);
        response.mutable_header()->set_revision(current.value());
        response.set_hash(*hash);
        response.set_compact_revision(compacted->value());
        done(std::move(response));
      },
      done);
}

void DaemonAdminApi::move_leader(const etcdserverpb::MoveLeaderRequest& request,
                                 api::Completion<etcdserverpb::MoveLeaderResponse> done) {
  const NodeId target(request.targetid());
  with_member(
      [this, target, done](node::Member& member, store::SqliteBackend&) {
        if (directory_.get(target).peer_urls.empty()) {
          return done(Error(ErrorCode::kBadLeaderTransferee));
        }
        Status started = member.transfer_leadership(target);
        if (!started.is_ok()) return done(started.error());
        wait_for_leader(target, runtime_.now() + plan_.member.request_timeout, done);
      },
      done);
}

// etcd's MoveLeader answers once the transferee leads (or the request times out).
void DaemonAdminApi::wait_for_leader(NodeId target, Instant deadline,
                                     api::Completion<etcdserverpb::MoveLeaderResponse> done) {
  runtime_.spawn("move-leader", [this, target, deadline, done] {
    while (true) {
      if (member_ == nullptr) return done(Error(ErrorCode::kStopped));
      const node::StatusResponse status = member_->status();
      if (status.leader == target) {
        etcdserverpb::MoveLeaderResponse response;
        *response.mutable_header() = api::to_proto(status.header);
        return done(std::move(response));
      }
      if (runtime_.now() >= deadline) return done(Error(ErrorCode::kTimeout));
      runtime_.sleep_for(kMoveLeaderPollInterval);
    }
  });
}

void DaemonAdminApi::snapshot(api::Completion<SnapshotImage> done) {
  with_member(
      [done](node::Member& member, store::SqliteBackend& backend) {
        // Serialised on the loop between two applies, so the copy is one consistent revision.
        Result<std::string> database = backend.serialize_database();
        if (!database.is_ok()) return done(database.error());
        SnapshotImage image;
        image.header = member.status().header;
        image.bytes = std::move(*database);
        image.bytes += sha256(image.bytes);
        done(std::move(image));
      },
      done);
}

}  // namespace lockstep::daemon
