#include "server/api/election_service.h"

#include <deque>
#include <memory>
#include <mutex>

#include "server/api/proto_convert.h"
#include "server/api/queued_key_call.h"
#include "server/api/server_stream.h"
#include "server/api/unary_call.h"
#include "server/api/wait_deletes.h"

namespace lockstep::api {
namespace {

// etcd's concurrency errors, passed through to the client as they are (gRPC UNKNOWN).
const grpc::Status kNotLeader(grpc::StatusCode::UNKNOWN, "election: not leader");
const grpc::Status kNoLeader(grpc::StatusCode::UNKNOWN, "election: no leader");
const grpc::Status kMissingLeaderKey(grpc::StatusCode::UNKNOWN,
                                     "\"leader\" field must be provided");

mvcc::RangeRequest first_candidate(const std::string& name) {
  mvcc::RangeRequest first;
  first.key = name + "/";
  first.range_end = prefix_range_end(first.key);
  first.sort_target = mvcc::SortTarget::kCreate;
  first.sort_order = mvcc::SortOrder::kAscend;
  first.limit = 1;
  return first;
}

// Observe: sends the leader's key-value now and after every change of leader or of its
// value, until the client goes away (etcd's Election.Observe). Loop: read the first
// candidate; with one, send it and watch its key (a put: send the new value; a delete: read
// again); with none, watch the prefix for the next candidate's put and read again.
class ObserveStream final
    : public ServerStream<v3electionpb::LeaderRequest, v3electionpb::LeaderResponse> {
 public:
  ObserveStream(std::shared_ptr<CallQueue::Gate> gate, ClientApi& api)
      : ServerStream(std::move(gate)), api_(api) {}

 private:
  // What the member's answers reach: the stream weakly, and a stopped flag, so that nothing
  // is asked of the member once the stream has ended.
  struct State {
    ClientApi& api;
    std::string name;
    std::weak_ptr<ServerStream> stream;
    std::mutex mutex;
    bool stopped = false;                   // guarded by mutex
    std::unique_ptr<WatchSession> session;  // guarded by mutex
    std::string leader_key;                 // guarded by mutex
  };

  void started(const v3electionpb::LeaderRequest& request) override {
    state_ = std::make_shared<State>(api_, request.name(), weak_from_this());
    find_leader(state_);
  }

  // The watch session ends outside the lock: its sink may be waiting for the lock.
  void on_done() override {
    std::unique_ptr<WatchSession> ended;
    if (state_ == nullptr) return;
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    ended = std::move(state_->session);
  }

  static void send(const std::shared_ptr<State>& state, v3electionpb::LeaderResponse response) {
    if (std::shared_ptr<ServerStream> stream = state->stream.lock()) {
      stream->send(std::move(response));
    }
  }
  static void stop(const std::shared_ptr<State>& state, grpc::Status status) {
    if (std::shared_ptr<ServerStream> stream = state->stream.lock()) {
      stream->finish(std::move(status));
    }
  }

  static void find_leader(const std::shared_ptr<State>& state) {
    state->api.range(first_candidate(state->name), [state](Result<mvcc::RangeResponse> range) {
      std::unique_ptr<WatchSession> ended;
      std::lock_guard lock(state->mutex);
      if (state->stopped) return;
      if (!range.is_ok()) return stop(state, to_concurrency_status(range.error()));
      ended = std::move(state->session);
      mvcc::WatchCreateRequest watch;
      watch.start_revision = range->header.revision.next();
      if (range->kvs.empty()) {
        state->leader_key.clear();
        watch.key = state->name + "/";
        watch.range_end = prefix_range_end(watch.key);
        watch.filters.push_back(mvcc::WatchFilter::kNoDelete);
      } else {
        const mvcc::KeyValue& leader = range->kvs.front();
        state->leader_key = leader.key;
        v3electionpb::LeaderResponse response;
        *response.mutable_header() = to_proto(range->header);
        *response.mutable_kv() = to_proto(leader);
        send(state, std::move(response));
        watch.key = leader.key;
      }
      std::weak_ptr<State> weak = state;
      state->session = state->api.open_watch_session([weak](mvcc::WatchResponse response) {
        if (auto alive = weak.lock()) on_watch(alive, response);
      });
      state->session->create(std::move(watch));
    });
  }

  static void on_watch(const std::shared_ptr<State>& state, const mvcc::WatchResponse& response) {
    bool look_again = response.canceled;
    {
      std::lock_guard lock(state->mutex);
      if (state->stopped) return;
      for (const mvcc::Event& event : response.events) {
        if (state->leader_key.empty() || event.type == mvcc::EventType::kDelete) {
          look_again = true;  // a first candidate appeared, or the leader left
          break;
        }
        v3electionpb::LeaderResponse changed;
        *changed.mutable_header() = to_proto(response.header);
        *changed.mutable_kv() = to_proto(event.kv);
        send(state, std::move(changed));
      }
    }
    if (look_again) find_leader(state);
  }

  ClientApi& api_;
  std::shared_ptr<State> state_;  // set when the call arrives; used on the queue's thread
};

}  // namespace

void ElectionService::serve(CallQueue& calls) {
  using Service = v3electionpb::Election::AsyncService;
  serve_unary_calls(
      calls, service_, &Service::RequestCampaign,
      [this](
          std::shared_ptr<UnaryCall<v3electionpb::CampaignRequest, v3electionpb::CampaignResponse>>
              call) {
        const v3electionpb::CampaignRequest& request = call->request();
        LeasedKeyQueue::Options options;
        options.prefix = request.name() + "/";
        options.lease = LeaseId(request.lease());
        options.value = request.value();
        options.proclaim_existing = true;
        answer_when_held(call, api_, std::move(options),
                         [name = request.name()](const QueuedKey& held,
                                                 v3electionpb::CampaignResponse& response) {
                           *response.mutable_header() = to_proto(held.header);
                           v3electionpb::LeaderKey* leader = response.mutable_leader();
                           leader->set_name(name);
                           leader->set_key(held.key);
                           leader->set_rev(held.create_revision.value());
                           leader->set_lease(held.lease.value());
                         });
      },
      /*watch_cancellation=*/true);

  serve_unary_calls(
      calls, service_, &Service::RequestProclaim,
      [this](
          std::shared_ptr<UnaryCall<v3electionpb::ProclaimRequest, v3electionpb::ProclaimResponse>>
              call) {
        if (!call->request().has_leader()) return call->fail(kMissingLeaderKey);
        const v3electionpb::LeaderKey& leader = call->request().leader();
        proclaim(api_, leader.key(), Revision(leader.rev()), LeaseId(leader.lease()),
                 call->request().value(), [call](Result<mvcc::TxnResponse> txn) {
                   if (!txn.is_ok()) return call->fail(to_concurrency_status(txn.error()));
                   if (!txn->succeeded) return call->fail(kNotLeader);
                   v3electionpb::ProclaimResponse response;
                   *response.mutable_header() = to_proto(txn->header);
                   call->finish(std::move(response));
                 });
      });

  serve_unary_calls(
      calls, service_, &Service::RequestLeader,
      [this](std::shared_ptr<UnaryCall<v3electionpb::LeaderRequest, v3electionpb::LeaderResponse>>
                 call) {
        api_.range(first_candidate(call->request().name()),
                   [call](Result<mvcc::RangeResponse> range) {
                     if (!range.is_ok()) return call->fail(to_concurrency_status(range.error()));
                     if (range->kvs.empty()) return call->fail(kNoLeader);
                     v3electionpb::LeaderResponse response;
                     *response.mutable_header() = to_proto(range->header);
                     *response.mutable_kv() = to_proto(range->kvs.front());
                     call->finish(std::move(response));
                   });
      });

  ObserveStream::serve(calls, service_, &Service::RequestObserve,
                       [this](std::shared_ptr<CallQueue::Gate> gate) {
                         return std::make_shared<ObserveStream>(std::move(gate), api_);
                       });

  serve_unary_calls(
      calls, service_, &Service::RequestResign,
      [this](std::shared_ptr<UnaryCall<v3electionpb::ResignRequest, v3electionpb::ResignResponse>>
                 call) {
        if (!call->request().has_leader()) return call->fail(kMissingLeaderKey);
        // etcd's Resign deletes the key only while it is still the leader's, and succeeds
        // either way.
        const v3electionpb::LeaderKey& leader = call->request().leader();
        mvcc::TxnRequest txn;
        mvcc::Compare still_leader;
        still_leader.target = mvcc::CompareTarget::kCreate;
        still_leader.key = leader.key();
        still_leader.create_revision = Revision(leader.rev());
        txn.compare.push_back(still_leader);
        txn.success.emplace_back().request.emplace<mvcc::DeleteRangeRequest>().key = leader.key();
        api_.txn(std::move(txn), [call](Result<mvcc::TxnResponse> resigned) {
          if (!resigned.is_ok()) return call->fail(to_concurrency_status(resigned.error()));
          v3electionpb::ResignResponse response;
          *response.mutable_header() = to_proto(resigned->header);
          call->finish(std::move(response));
        });
      });
}

}  // namespace lockstep::api
