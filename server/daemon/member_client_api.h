#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/env/runtime.h"
#include "core/node/client_protocol.h"
#include "core/node/member.h"
#include "server/api/call_queue.h"
#include "server/api/client_api.h"
#include "server/daemon/local_client_network.h"
#include "server/event_loop.h"

namespace lockstep::daemon {

struct SessionState;

// How long the bridge waits for an answer before giving up with kTimeout. The member answers
// every request by its own deadline (MemberConfig::request_timeout); this bounds requests
// forwarded to a leader that died, whose answer can never come.
inline constexpr Duration kBridgeAnswerGrace = std::chrono::seconds(1);
inline constexpr Duration kBridgeSweepInterval = std::chrono::milliseconds(100);

// server/api's ClientApi over the member: every call is posted from its gRPC thread into the
// event loop (EventLoop::post), becomes a ClientRequest frame from an in-process client id
// (LocalClientNetwork), and the member's ClientResponse completes it — on the loop thread.
//
// Requests the member can serve only as leader (lease keep-alive and time-to-live) and that
// come back kNotLeader with a leader hint are forwarded once to that leader over the peer
// network, as etcd's followers forward them (etcdserver v3_server.go LeaseRenew).
//
// Answers (and watch messages) are not handed to gRPC where the member gives them, in the
// middle of its Ready, but queued and handed over together by the loop's flush hook, in the
// order given. gRPC's Finish writes to the socket and wakes a completion thread (about half
// of the loop thread's CPU at 100 clients), so done in the Ready it delayed the WAL write
// behind it; deferred, it runs while the SyncWorker's helper flushes the WAL (sync_worker.h),
// and a batch of several runs on a thread of the gRPC server's (answer_on), in parallel with
// the loop.
class MemberClientApi final : public api::ClientApi, private server::FlushHandler {
 public:
  MemberClientApi(env::Runtime& runtime, server::EventLoop& loop, LocalClientNetwork& network,
                  Duration request_timeout);
  ~MemberClientApi() override;

  // Spawns the sweeper that times out unanswered requests. Call on the loop thread.
  void start();
  // Hands batches of answers to the gRPC server's completion-queue thread (api::CallQueue::post
  // says why); until then every answer is delivered on the loop. Call before the member
  // starts; `calls` must outlive close_and_drain().
  void answer_on(api::CallQueue* calls) { answer_queue_ = calls; }
  // Fails every waiting request with `code` (the member stopped). Loop thread.
  void fail_all(ErrorCode code);
  // After the loop stopped: later calls fail at once with kStopped instead of queueing tasks
  // that would never run, and the tasks queued before are run now (failing their requests),
  // so that every gRPC call gets its answer and the server can shut down.
  void close_and_drain();

  void range(mvcc::RangeRequest request, api::Completion<mvcc::RangeResponse> done) override;
  void put(mvcc::PutRequest request, api::Completion<mvcc::PutResponse> done) override;
  void delete_range(mvcc::DeleteRangeRequest request,
                    api::Completion<mvcc::DeleteRangeResponse> done) override;
  void txn(mvcc::TxnRequest request, api::Completion<mvcc::TxnResponse> done) override;
  void compact(mvcc::CompactionRequest request,
               api::Completion<mvcc::CompactionResponse> done) override;
  void lease_grant(mvcc::LeaseGrantRequest request,
                   api::Completion<mvcc::LeaseGrantResponse> done) override;
  void lease_revoke(mvcc::LeaseRevokeRequest request,
                    api::Completion<mvcc::LeaseRevokeResponse> done) override;
  void lease_keep_alive(mvcc::LeaseKeepAliveRequest request,
                        api::Completion<mvcc::LeaseKeepAliveResponse> done) override;
  void lease_time_to_live(mvcc::LeaseTimeToLiveRequest request,
                          api::Completion<mvcc::LeaseTimeToLiveResponse> done) override;
  void lease_leases(mvcc::LeaseLeasesRequest request,
                    api::Completion<mvcc::LeaseLeasesResponse> done) override;
  std::unique_ptr<api::WatchSession> open_watch_session(api::WatchSink sink) override;

  // Cluster and maintenance requests (member list/add/remove/promote, status) for the
  // daemon's AdminApi (daemon_admin_api.h).
  using AnyCompletion = std::function<void(Result<node::ClientResponseBody>)>;
  // `done` runs on the loop thread (the admin API relies on it).
  void submit(node::ClientRequestBody body, AnyCompletion done);

  // Loop thread: the running member, for what it serves from local state without a request
  // (lease list); nullptr once it stopped.
  void attach_member(const node::Member* member) { member_ = member; }

  // Runs `task` on the loop thread (false, and `task` is dropped, once closed). Any thread.
  bool run_on_loop(std::function<void()> task) { return post(std::move(task)); }

  class Session;

 private:
  struct Waiting {
    AnyCompletion done;
    node::ClientRequestBody body;  // kept for a forward to the leader
    Instant deadline;
    bool forwarded = false;
    // The answer may be delivered by a gRPC queue's thread (ClientApi's and WatchSink's
    // contracts allow any thread); false: at once, on the loop thread.
    bool any_thread = false;
  };
  // Batches of at least this many deferred answers go to the answer queue; smaller ones
  // (a single client's answer) are delivered on the loop, without a thread wake-up.
  static constexpr size_t kAnswerQueueMinBatch = 4;

  // submit() for the ClientApi calls, whose completions may run on any thread.
  void submit_answered_anywhere(node::ClientRequestBody body, AnyCompletion done);

  // Queues `task` on the loop unless closed (false then). Any thread.
  bool post(std::function<void()> task);

  // Loop thread only from here on.
  void start_request(NodeId client, node::ClientRequestBody body, AnyCompletion done,
                     bool any_thread = false);
  void on_frame(NodeId from, NodeId to, std::string payload);
  void on_response(node::ClientResponse response);
  void sweep();
  // Queues `delivery` for the next flush (answers in the order the member gave them).
  void defer(std::function<void()> delivery);
  void on_flush() override;
  bool has_pending_flush() const override { return !deferred_.empty(); }

  env::Runtime& runtime_;
  server::EventLoop& loop_;
  LocalClientNetwork& network_;
  Duration request_timeout_;
  uint64_t next_request_id_ = 1;
  std::map<uint64_t, Waiting> waiting_;                       // by request id
  std::map<NodeId, std::shared_ptr<SessionState>> sessions_;  // by session client id
  api::CallQueue::Batch deferred_;                            // answers for the next flush
  std::atomic<uint64_t> next_session_{0};  // open_watch_session runs on gRPC threads
  bool stopped_ = false;
  const node::Member* member_ = nullptr;  // loop thread only
  std::mutex post_mutex_;
  bool closed_ = false;                     // guarded by post_mutex_
  api::CallQueue* answer_queue_ = nullptr;  // set by answer_on()
};

}  // namespace lockstep::daemon
