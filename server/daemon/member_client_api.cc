#include "server/daemon/member_client_api.h"

#include <atomic>

namespace lockstep::daemon {
namespace {

// The in-process client that sends unary requests; watch sessions get ids above it.
constexpr NodeId kUnaryClient{1};
constexpr uint64_t kFirstSessionClient = 2;

template <typename Response>
MemberClientApi::AnyCompletion typed(api::Completion<Response> done) {
  return [done = std::move(done)](Result<node::ClientResponseBody> result) {
    if (!result.is_ok()) return done(result.error());
    if (auto* response = std::get_if<Response>(&*result)) return done(std::move(*response));
    done(Error(ErrorCode::kInternal, "the member answered with another response type"));
  };
}

mvcc::WatchResponse canceled_watch(mvcc::WatchId id, const Error& error) {
  mvcc::WatchResponse response;
  response.watch_id = id;
  response.created = true;
  response.canceled = true;
  response.cancel_reason = std::string(error.message());
  return response;
}

}  // namespace

// One Watch stream's state, shared between the gRPC side (which may close it from any thread)
// and the loop (which delivers). The mutex makes "after the session is destroyed the sink is
// never called again" hold: delivery checks `closed` and calls the sink under the same lock.
// Recursive, because a sink may end its own session (a lock waiter whose watched key went).
struct SessionState {
  std::recursive_mutex mutex;
  bool closed = false;  // guarded by mutex
  api::WatchSink sink;
  NodeId client;
  // Written by the create answer, which may run on a gRPC queue's thread: guarded by mutex.
  std::vector<mvcc::WatchId> watch_ids;

  void deliver(mvcc::WatchResponse response) {
    std::lock_guard lock(mutex);
    if (!closed) sink(std::move(response));
  }
};

class MemberClientApi::Session final : public api::WatchSession {
 public:
  Session(MemberClientApi& api, std::shared_ptr<SessionState> state)
      : api_(api), state_(std::move(state)) {}

  ~Session() override {
    {
      std::lock_guard lock(state_->mutex);
      state_->closed = true;
    }
    api_.post([&api = api_, state = state_] {
      std::vector<mvcc::WatchId> ids;
      {
        std::lock_guard lock(state->mutex);
        ids = state->watch_ids;
      }
      for (mvcc::WatchId id : ids) {
        api.start_request(
            state->client, mvcc::WatchCancelRequest{.watch_id = id},
            [](Result<node::ClientResponseBody>) {}, /*any_thread=*/true);
      }
      auto registered = api.sessions_.find(state->client);
      if (registered != api.sessions_.end() && registered->second == state) {
        api.sessions_.erase(registered);
      }
    });
  }

  void create(mvcc::WatchCreateRequest request) override {
    api_.post([&api = api_, state = state_, request = std::move(request)] {
      api.start_request(
          state->client, request,
          [state](Result<node::ClientResponseBody> result) {
            if (!result.is_ok())
              return state->deliver(canceled_watch(mvcc::kAutoWatchId, result.error()));
            auto& created = std::get<mvcc::WatchResponse>(*result);
            std::lock_guard lock(state->mutex);
            if (created.created && !created.canceled) state->watch_ids.push_back(created.watch_id);
            state->deliver(std::move(created));
          },
          /*any_thread=*/true);
    });
  }

  void cancel(mvcc::WatchCancelRequest request) override {
    api_.post([&api = api_, state = state_, request] {
      {
        std::lock_guard lock(state->mutex);
        std::erase(state->watch_ids, request.watch_id);
      }
      api.start_request(
          state->client, request,
          [state, id = request.watch_id](Result<node::ClientResponseBody> result) {
            if (!result.is_ok()) return state->deliver(canceled_watch(id, result.error()));
            state->deliver(std::get<mvcc::WatchResponse>(std::move(*result)));
          },
          /*any_thread=*/true);
    });
  }

  // The member queues a progress notification on each watcher of this stream, behind the
  // events it still owes that watcher (a catching-up one gets it once caught up), and they
  // reach the sink as every other watch message, each with its watcher's id: what clientv3
  // hands each watcher for a stream-wide (-1) notification. The answer only acknowledges.
  void request_progress() override {
    api_.post([&api = api_, state = state_] {
      api.start_request(
          state->client, mvcc::WatchProgressRequest{}, [](Result<node::ClientResponseBody>) {},
          /*any_thread=*/true);
    });
  }

 private:
  MemberClientApi& api_;
  std::shared_ptr<SessionState> state_;
};

MemberClientApi::MemberClientApi(env::Runtime& runtime, server::EventLoop& loop,
                                 LocalClientNetwork& network, Duration request_timeout)
    : runtime_(runtime),
      loop_(loop),
      network_(network),
      request_timeout_(request_timeout),
      // A random start, so that a restarted daemon does not repeat the request ids its
      // previous incarnation forwarded to the leader (whose duplicate filter would drop them).
      next_request_id_(runtime.random().next_u64() >> 8) {
  network_.set_client_handler([this](NodeId from, NodeId to, std::string payload) {
    on_frame(from, to, std::move(payload));
  });
  loop_.add_flush_handler(this);
}

MemberClientApi::~MemberClientApi() {
  loop_.remove_flush_handler(this);
  network_.set_client_handler(nullptr);
}

void MemberClientApi::defer(std::function<void()> delivery) {
  deferred_.push_back(std::move(delivery));
}

void MemberClientApi::on_flush() {
  // Swapped out first: a completion may start another request, whose answer waits for the
  // next flush.
  api::CallQueue::Batch deliveries;
  deliveries.swap(deferred_);
  // On the loop only when the queue's thread has run every earlier batch, so that answers
  // and watch messages keep their order.
  if (answer_queue_ == nullptr ||
      (deliveries.size() < kAnswerQueueMinBatch && answer_queue_->idle())) {
    for (std::function<void()>& delivery : deliveries) delivery();
    return;
  }
  answer_queue_->post(std::move(deliveries));
}

void MemberClientApi::start() {
  runtime_.spawn("client-api-sweeper", [this] {
    while (true) {
      runtime_.sleep_for(kBridgeSweepInterval);
      sweep();
    }
  });
}

void MemberClientApi::submit(node::ClientRequestBody body, AnyCompletion done) {
  std::unique_lock lock(post_mutex_);
  if (closed_) {
    lock.unlock();
    return done(Error(ErrorCode::kStopped));
  }
  loop_.post([this, body = std::move(body), done = std::move(done)]() mutable {
    start_request(kUnaryClient, std::move(body), std::move(done));
  });
}

void MemberClientApi::submit_answered_anywhere(node::ClientRequestBody body, AnyCompletion done) {
  std::unique_lock lock(post_mutex_);
  if (closed_) {
    lock.unlock();
    return done(Error(ErrorCode::kStopped));
  }
  loop_.post([this, body = std::move(body), done = std::move(done)]() mutable {
    start_request(kUnaryClient, std::move(body), std::move(done), /*any_thread=*/true);
  });
}

bool MemberClientApi::post(std::function<void()> task) {
  std::lock_guard lock(post_mutex_);
  if (closed_) return false;
  loop_.post(std::move(task));
  return true;
}

void MemberClientApi::close_and_drain() {
  {
    std::lock_guard lock(post_mutex_);
    closed_ = true;
  }
  fail_all(ErrorCode::kStopped);
  // Tasks posted before closed_ was set run in this poll (stopped_ fails their requests).
  loop_.poll(false);
  if (answer_queue_ != nullptr) answer_queue_->drain();
}

void MemberClientApi::start_request(NodeId client, node::ClientRequestBody body, AnyCompletion done,
                                    bool any_thread) {
  if (stopped_) return done(Error(ErrorCode::kStopped));
  const uint64_t id = next_request_id_++;
  std::string frame = node::encode_frame(node::ClientRequest{id, body});
  if (!network_.inject(client, std::move(frame))) return done(Error(ErrorCode::kTooManyRequests));
  waiting_.emplace(id, Waiting{std::move(done), std::move(body),
                               runtime_.now() + request_timeout_ + kBridgeAnswerGrace,
                               /*forwarded=*/false, any_thread});
}

void MemberClientApi::on_frame(NodeId /*from*/, NodeId to, std::string payload) {
  Result<node::Frame> frame = node::decode_frame(payload);
  if (!frame.is_ok()) {
    runtime_.trace("client_api.bad_frame", frame.error().to_string());
    return;
  }
  if (auto* response = std::get_if<node::ClientResponse>(&*frame)) {
    return on_response(std::move(*response));
  }
  if (auto* message = std::get_if<node::WatchStreamMessage>(&*frame)) {
    auto session = sessions_.find(to);
    if (session == sessions_.end()) return;
    // Through the same queue as answers, so a watch's events never overtake its creation.
    defer([state = session->second, response = std::move(message->response)]() mutable {
      state->deliver(std::move(response));
    });
  }
}

void MemberClientApi::on_response(node::ClientResponse response) {
  auto found = waiting_.find(response.request_id);
  if (found == waiting_.end()) return;  // answered already (timed out), or not ours
  Waiting waiting = std::move(found->second);
  waiting_.erase(found);
  const bool can_forward = response.error == ErrorCode::kNotLeader && !waiting.forwarded &&
                           response.leader_hint != kNoNode &&
                           response.leader_hint != runtime_.self() &&
                           !is_local_client(response.leader_hint);
  if (can_forward) {
    // The leader answers this process's member id over TCP; the pump hands the answer back.
    const uint64_t id = next_request_id_++;
    network_.send_to_peer(response.leader_hint,
                          node::encode_frame(node::ClientRequest{id, waiting.body}));
    waiting.forwarded = true;
    waiting.deadline = runtime_.now() + request_timeout_ + kBridgeAnswerGrace;
    waiting_.emplace(id, std::move(waiting));
    return;
  }
  if (!waiting.any_thread) {
    // The admin API's completions touch loop-thread state: answered here, at once.
    if (!response.ok()) return waiting.done(Error(response.error, response.error_detail));
    if (!response.body) return waiting.done(Error(ErrorCode::kInternal, "answer without a body"));
    return waiting.done(std::move(*response.body));
  }
  Result<node::ClientResponseBody> result =
      !response.ok()
          ? Result<node::ClientResponseBody>(Error(response.error, response.error_detail))
      : !response.body
          ? Result<node::ClientResponseBody>(Error(ErrorCode::kInternal, "answer without a body"))
          : Result<node::ClientResponseBody>(std::move(*response.body));
  defer([done = std::move(waiting.done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void MemberClientApi::sweep() {
  const Instant now = runtime_.now();
  std::vector<AnyCompletion> expired;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.done));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (AnyCompletion& done : expired) done(Error(ErrorCode::kTimeout));
}

void MemberClientApi::fail_all(ErrorCode code) {
  stopped_ = true;
  std::map<uint64_t, Waiting> waiting;
  waiting.swap(waiting_);
  for (auto& [id, entry] : waiting) entry.done(Error(code));
}

void MemberClientApi::range(mvcc::RangeRequest request, api::Completion<mvcc::RangeResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::put(mvcc::PutRequest request, api::Completion<mvcc::PutResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::delete_range(mvcc::DeleteRangeRequest request,
                                   api::Completion<mvcc::DeleteRangeResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::txn(mvcc::TxnRequest request, api::Completion<mvcc::TxnResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::compact(mvcc::CompactionRequest request,
                              api::Completion<mvcc::CompactionResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::lease_grant(mvcc::LeaseGrantRequest request,
                                  api::Completion<mvcc::LeaseGrantResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::lease_revoke(mvcc::LeaseRevokeRequest request,
                                   api::Completion<mvcc::LeaseRevokeResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::lease_keep_alive(mvcc::LeaseKeepAliveRequest request,
                                       api::Completion<mvcc::LeaseKeepAliveResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}
void MemberClientApi::lease_time_to_live(mvcc::LeaseTimeToLiveRequest request,
                                         api::Completion<mvcc::LeaseTimeToLiveResponse> done) {
  submit_answered_anywhere(std::move(request), typed(std::move(done)));
}

void MemberClientApi::lease_leases(mvcc::LeaseLeasesRequest,
                                   api::Completion<mvcc::LeaseLeasesResponse> done) {
  // Served from the member's own lessor on the loop, as etcd serves it from its own.
  const bool posted = post([this, done] {
    if (member_ == nullptr) return done(Error(ErrorCode::kStopped));
    mvcc::LeaseLeasesResponse response;
    const node::StatusResponse status = member_->status();
    response.header = status.header;
    for (LeaseId id : member_->lease_ids()) response.leases.push_back(mvcc::LeaseStatus{id});
    done(std::move(response));
  });
  if (!posted) done(Error(ErrorCode::kStopped));
}

std::unique_ptr<api::WatchSession> MemberClientApi::open_watch_session(api::WatchSink sink) {
  auto state = std::make_shared<SessionState>();
  state->sink = std::move(sink);
  // Ids wrap within the local client range; one still in use after 65534 newer sessions
  // opened is left closed rather than sharing another stream's id.
  const uint64_t span = kLocalClientIdLimit - kFirstSessionClient;
  state->client = NodeId(kFirstSessionClient + next_session_.fetch_add(1) % span);
  post([this, state] {
    if (sessions_.contains(state->client)) {
      std::lock_guard lock(state->mutex);
      state->closed = true;
      return;
    }
    sessions_.emplace(state->client, state);
  });
  return std::make_unique<Session>(*this, std::move(state));
}

}  // namespace lockstep::daemon
