#include "server/api/election_service.h"

#include <deque>
#include <memory>
#include <mutex>

#include "server/api/proto_convert.h"
#include "server/api/queued_key_call.h"
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
class ObserveWriter final : public grpc::ServerWriteReactor<v3electionpb::LeaderResponse> {
 public:
  ObserveWriter(ClientApi& api, std::string name)
      : state_(std::make_shared<State>(api, std::move(name), this)) {
    State::find_leader(state_);
  }

  // The watch session ends outside the lock: its sink may be waiting for the lock.
  void OnWriteDone(bool ok) override {
    std::shared_ptr<State> state = state_;
    std::unique_ptr<WatchSession> ended;
    std::lock_guard lock(state->mutex);
    state->writing = false;
    if (!ok) {
      ended = stop_locked(grpc::Status(grpc::StatusCode::CANCELLED, "observer gone"));
      return;
    }
    state->write_next_locked();
  }
  void OnCancel() override {
    std::shared_ptr<State> state = state_;
    std::unique_ptr<WatchSession> ended;
    std::lock_guard lock(state->mutex);
    ended = stop_locked(grpc::Status(grpc::StatusCode::CANCELLED, "observe cancelled"));
  }
  void OnDone() override { delete this; }

 private:
  struct State {
    State(ClientApi& api_in, std::string name_in, ObserveWriter* writer_in)
        : api(api_in), name(std::move(name_in)), writer(writer_in) {}

    ClientApi& api;
    const std::string name;
    std::mutex mutex;
    ObserveWriter* writer;  // null once finished (guarded by mutex)
    std::deque<v3electionpb::LeaderResponse> queue;
    v3electionpb::LeaderResponse in_flight;
    bool writing = false;
    std::unique_ptr<WatchSession> session;  // guarded by mutex
    std::string leader_key;

    void send_locked(v3electionpb::LeaderResponse response) {
      queue.push_back(std::move(response));
      write_next_locked();
    }
    void write_next_locked() {
      if (writer == nullptr || writing || queue.empty()) return;
      in_flight = std::move(queue.front());
      queue.pop_front();
      writing = true;
      writer->StartWrite(&in_flight);
    }

    static void find_leader(const std::shared_ptr<State>& self) {
      self->api.range(first_candidate(self->name), [self](Result<mvcc::RangeResponse> range) {
        std::unique_ptr<WatchSession> ended;
        std::lock_guard lock(self->mutex);
        if (self->writer == nullptr) return;
        if (!range.is_ok()) {
          ended = self->writer->stop_locked(to_concurrency_status(range.error()));
          return;
        }
        ended = std::move(self->session);
        mvcc::WatchCreateRequest watch;
        watch.start_revision = range->header.revision.next();
        if (range->kvs.empty()) {
          self->leader_key.clear();
          watch.key = self->name + "/";
          watch.range_end = prefix_range_end(watch.key);
          watch.filters.push_back(mvcc::WatchFilter::kNoDelete);
        } else {
          const mvcc::KeyValue& leader = range->kvs.front();
          self->leader_key = leader.key;
          v3electionpb::LeaderResponse response;
          *response.mutable_header() = to_proto(range->header);
          *response.mutable_kv() = to_proto(leader);
          self->send_locked(std::move(response));
          watch.key = leader.key;
        }
        std::weak_ptr<State> weak = self;
        self->session = self->api.open_watch_session([weak](mvcc::WatchResponse response) {
          if (auto state = weak.lock()) on_watch(state, response);
        });
        self->session->create(std::move(watch));
      });
    }

    static void on_watch(const std::shared_ptr<State>& self, const mvcc::WatchResponse& response) {
      bool look_again = response.canceled;
      {
        std::lock_guard lock(self->mutex);
        if (self->writer == nullptr) return;
        for (const mvcc::Event& event : response.events) {
          if (self->leader_key.empty() || event.type == mvcc::EventType::kDelete) {
            look_again = true;  // a first candidate appeared, or the leader left
            break;
          }
          v3electionpb::LeaderResponse changed;
          *changed.mutable_header() = to_proto(response.header);
          *changed.mutable_kv() = to_proto(event.kv);
          self->send_locked(std::move(changed));
        }
      }
      if (look_again) find_leader(self);
    }
  };

  // Finishes the call once; returns the watch session for the caller to end after unlocking.
  [[nodiscard]] std::unique_ptr<WatchSession> stop_locked(grpc::Status status) {
    if (state_->writer == nullptr) return nullptr;
    state_->writer = nullptr;
    std::unique_ptr<WatchSession> session = std::move(state_->session);
    Finish(std::move(status));  // may let gRPC delete this: nothing of it is used after
    return session;
  }

  std::shared_ptr<State> state_;
};

}  // namespace

grpc::ServerUnaryReactor* ElectionService::Campaign(grpc::CallbackServerContext*,
                                                    const v3electionpb::CampaignRequest* request,
                                                    v3electionpb::CampaignResponse* response) {
  LeasedKeyQueue::Options options;
  options.prefix = request->name() + "/";
  options.lease = LeaseId(request->lease());
  options.value = request->value();
  options.proclaim_existing = true;
  const std::string name = request->name();
  return new QueuedKeyCall(api_, std::move(options), [response, name](const QueuedKey& held) {
    *response->mutable_header() = to_proto(held.header);
    v3electionpb::LeaderKey* leader = response->mutable_leader();
    leader->set_name(name);
    leader->set_key(held.key);
    leader->set_rev(held.create_revision.value());
    leader->set_lease(held.lease.value());
  });
}

grpc::ServerUnaryReactor* ElectionService::Proclaim(grpc::CallbackServerContext* context,
                                                    const v3electionpb::ProclaimRequest* request,
                                                    v3electionpb::ProclaimResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_leader()) {
    reactor->Finish(kMissingLeaderKey);
    return reactor;
  }
  const v3electionpb::LeaderKey& leader = request->leader();
  proclaim(api_, leader.key(), Revision(leader.rev()), LeaseId(leader.lease()), request->value(),
           [reactor, response](Result<mvcc::TxnResponse> txn) {
             if (!txn.is_ok()) return reactor->Finish(to_concurrency_status(txn.error()));
             if (!txn->succeeded) return reactor->Finish(kNotLeader);
             *response->mutable_header() = to_proto(txn->header);
             reactor->Finish(grpc::Status::OK);
           });
  return reactor;
}

grpc::ServerUnaryReactor* ElectionService::Leader(grpc::CallbackServerContext* context,
                                                  const v3electionpb::LeaderRequest* request,
                                                  v3electionpb::LeaderResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  api_.range(first_candidate(request->name()),
             [reactor, response](Result<mvcc::RangeResponse> range) {
               if (!range.is_ok()) return reactor->Finish(to_concurrency_status(range.error()));
               if (range->kvs.empty()) return reactor->Finish(kNoLeader);
               *response->mutable_header() = to_proto(range->header);
               *response->mutable_kv() = to_proto(range->kvs.front());
               reactor->Finish(grpc::Status::OK);
             });
  return reactor;
}

grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* ElectionService::Observe(
    grpc::CallbackServerContext*, const v3electionpb::LeaderRequest* request) {
  return new ObserveWriter(api_, request->name());
}

grpc::ServerUnaryReactor* ElectionService::Resign(grpc::CallbackServerContext* context,
                                                  const v3electionpb::ResignRequest* request,
                                                  v3electionpb::ResignResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_leader()) {
    reactor->Finish(kMissingLeaderKey);
    return reactor;
  }
  // etcd's Resign deletes the key only while it is still the leader's, and succeeds either way.
  const v3electionpb::LeaderKey& leader = request->leader();
  mvcc::TxnRequest txn;
  mvcc::Compare still_leader;
  still_leader.target = mvcc::CompareTarget::kCreate;
  still_leader.key = leader.key();
  still_leader.create_revision = Revision(leader.rev());
  txn.compare.push_back(still_leader);
  txn.success.emplace_back().request.emplace<mvcc::DeleteRangeRequest>().key = leader.key();
  api_.txn(std::move(txn), [reactor, response](Result<mvcc::TxnResponse> resigned) {
    if (!resigned.is_ok()) return reactor->Finish(to_concurrency_status(resigned.error()));
    *response->mutable_header() = to_proto(resigned->header);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace lockstep::api
