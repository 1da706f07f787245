#pragma once

// Test support: an in-memory ClientApi for the gRPC service and JSON gateway tests. Single
// keys only, no history beyond a compaction mark: enough to see each field cross the wire in
// both directions. Its completions run on a worker thread, as the member's will.
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "server/api/client_api.h"

namespace lockstep::api::fake {

inline constexpr int kFakeWaitSeconds = 10;

// Runs completions on one worker thread, in submission order.
class CompletionThread {
 public:
  CompletionThread() : thread_([this] { run(); }) {}
  ~CompletionThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

inline constexpr LeaseId kKnownLease{1000};

class FakeClientApi final : public ClientApi {
 public:
  class Session final : public WatchSession {
   public:
    Session(FakeClientApi& api, WatchSink sink) : api_(api), sink_(std::move(sink)) {}
    ~Session() override { api_.forget(this); }
    void create(mvcc::WatchCreateRequest request) override {
      std::lock_guard lock(api_.mutex_);
      const mvcc::WatchId id = next_id_++;
      watched_[id] = request.key;
      mvcc::WatchResponse created;
      created.watch_id = id;
      created.created = true;
      created.header.revision = api_.revision_;
      sink_(created);
    }
    void cancel(mvcc::WatchCancelRequest request) override {
      std::lock_guard lock(api_.mutex_);
      watched_.erase(request.watch_id);
      mvcc::WatchResponse canceled;
      canceled.watch_id = request.watch_id;
      canceled.canceled = true;
      sink_(canceled);
    }
    void request_progress() override {}

   private:
    friend class FakeClientApi;
    FakeClientApi& api_;
    WatchSink sink_;
    mvcc::WatchId next_id_ = 1;
    std::map<mvcc::WatchId, std::string> watched_;
  };

  void range(mvcc::RangeRequest request, Completion<mvcc::RangeResponse> done) override {
    std::lock_guard lock(mutex_);
    last_range_ = request;
    if (request.revision > Revision(0) && request.revision < compacted_) {
      return complete(std::move(done), Result<mvcc::RangeResponse>(ErrorCode::kCompacted));
    }
    mvcc::RangeResponse response;
    response.header.revision = revision_;
    response.header.member_id = NodeId(7);
    const auto found = store_.find(request.key);
    if (found != store_.end()) {
      response.kvs.push_back(found->second);
      response.count = 1;
    }
    complete(std::move(done), Result<mvcc::RangeResponse>(response));
  }

  void put(mvcc::PutRequest request, Completion<mvcc::PutResponse> done) override {
    std::lock_guard lock(mutex_);
    complete(std::move(done), Result<mvcc::PutResponse>(apply_put_locked(request)));
  }

  void delete_range(mvcc::DeleteRangeRequest, Completion<mvcc::DeleteRangeResponse> done) override {
    complete(std::move(done), Result<mvcc::DeleteRangeResponse>(ErrorCode::kNotCapable));
  }

  void txn(mvcc::TxnRequest request, Completion<mvcc::TxnResponse> done) override {
    std::lock_guard lock(mutex_);
    std::set<std::string> written;
    for (const mvcc::RequestOp& op : request.success) {
      const auto* put = std::get_if<mvcc::PutRequest>(&op.request);
      if (put != nullptr && !written.insert(put->key).second) {
        return complete(std::move(done), Result<mvcc::TxnResponse>(ErrorCode::kDuplicateKey));
      }
    }
    mvcc::TxnResponse response;
    response.succeeded = true;
    for (const mvcc::RequestOp& op : request.success) {
      mvcc::PutResponse put = apply_put_locked(std::get<mvcc::PutRequest>(op.request));
      response.responses.emplace_back();
      response.responses.back().response = std::move(put);
    }
    response.header.revision = revision_;
    complete(std::move(done), Result<mvcc::TxnResponse>(response));
  }

  void compact(mvcc::CompactionRequest request,
               Completion<mvcc::CompactionResponse> done) override {
    std::lock_guard lock(mutex_);
    compacted_ = request.revision;
    complete(std::move(done), Result<mvcc::CompactionResponse>(mvcc::CompactionResponse{}));
  }

  void lease_grant(mvcc::LeaseGrantRequest request,
                   Completion<mvcc::LeaseGrantResponse> done) override {
    mvcc::LeaseGrantResponse response;
    response.id = kKnownLease;
    response.ttl_seconds = request.ttl_seconds;
    complete(std::move(done), Result<mvcc::LeaseGrantResponse>(response));
  }
  void lease_revoke(mvcc::LeaseRevokeRequest, Completion<mvcc::LeaseRevokeResponse> done) override {
    complete(std::move(done), Result<mvcc::LeaseRevokeResponse>(ErrorCode::kLeaseNotFound));
  }
  void lease_keep_alive(mvcc::LeaseKeepAliveRequest request,
                        Completion<mvcc::LeaseKeepAliveResponse> done) override {
    if (request.id != kKnownLease) {
      return complete(std::move(done),
                      Result<mvcc::LeaseKeepAliveResponse>(ErrorCode::kLeaseNotFound));
    }
    mvcc::LeaseKeepAliveResponse response;
    response.id = request.id;
    response.ttl_seconds = 30;
    complete(std::move(done), Result<mvcc::LeaseKeepAliveResponse>(response));
  }
  void lease_time_to_live(mvcc::LeaseTimeToLiveRequest,
                          Completion<mvcc::LeaseTimeToLiveResponse> done) override {
    complete(std::move(done), Result<mvcc::LeaseTimeToLiveResponse>(ErrorCode::kNotCapable));
  }
  void lease_leases(mvcc::LeaseLeasesRequest, Completion<mvcc::LeaseLeasesResponse> done) override {
    complete(std::move(done), Result<mvcc::LeaseLeasesResponse>(ErrorCode::kNotCapable));
  }

  std::unique_ptr<WatchSession> open_watch_session(WatchSink sink) override {
    auto session = std::make_unique<Session>(*this, std::move(sink));
    std::lock_guard lock(mutex_);
    sessions_.insert(session.get());
    return session;
  }

  size_t open_sessions() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  // Waits (bounded) until every watch session is closed.
  bool wait_for_no_sessions() {
    std::unique_lock lock(mutex_);
    return sessions_closed_.wait_for(lock, std::chrono::seconds(kFakeWaitSeconds),
                                     [this] { return sessions_.empty(); });
  }
  mvcc::RangeRequest last_range() {
    std::lock_guard lock(mutex_);
    return last_range_;
  }

 private:
  template <typename Response>
  void complete(Completion<Response> done, Result<Response> result) {
    completions_.post([done = std::move(done), result = std::move(result)] { done(result); });
  }

  mvcc::PutResponse apply_put_locked(const mvcc::PutRequest& request) {
    revision_ = revision_.next();
    mvcc::PutResponse response;
    mvcc::KeyValue& stored = store_[request.key];
    if (stored.version > 0 && request.prev_kv) response.prev_kv = stored;
    stored.key = request.key;
    stored.value = request.value;
    stored.lease = request.lease;
    stored.mod_revision = revision_;
    if (stored.version == 0) stored.create_revision = revision_;
    ++stored.version;
    response.header.revision = revision_;
    for (Session* session : sessions_) {
      for (const auto& [id, key] : session->watched_) {
        if (key != request.key) continue;
        mvcc::WatchResponse notification;
        notification.watch_id = id;
        notification.header.revision = revision_;
        notification.events.push_back(mvcc::Event{mvcc::EventType::kPut, stored, std::nullopt});
        session->sink_(notification);
      }
    }
    return response;
  }

  void forget(Session* session) {
    std::lock_guard lock(mutex_);
    sessions_.erase(session);
    sessions_closed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable sessions_closed_;
  std::map<std::string, mvcc::KeyValue> store_;
  Revision revision_{1};
  Revision compacted_{0};
  mvcc::RangeRequest last_range_;
  std::set<Session*> sessions_;
  CompletionThread completions_;  // last: joined before the state it touches goes away
};

}  // namespace lockstep::api::fake
