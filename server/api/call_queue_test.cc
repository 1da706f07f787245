// The asynchronous call machinery (call_queue.h, unary_call.h) under the two things a member
// does to it that a test client alone would not: answering many calls out of order from
// another thread, and answering after the server has stopped.
#include "server/api/call_queue.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "server/api/grpc_services.h"

namespace lockstep::api {
namespace {

constexpr auto kWait = std::chrono::seconds(10);

// A member that holds every put until the test answers it; nothing else is called.
class HeldPuts final : public ClientApi {
 public:
  void put(mvcc::PutRequest request, Completion<mvcc::PutResponse> done) override {
    std::lock_guard lock(mutex_);
    held_.push_back({std::move(request), std::move(done)});
    arrived_.notify_all();
  }

  // Waits until `count` puts are held and takes them.
  std::vector<std::pair<mvcc::PutRequest, Completion<mvcc::PutResponse>>> take(size_t count) {
    std::unique_lock lock(mutex_);
    const bool all_arrived = arrived_.wait_for(lock, kWait, [&] { return held_.size() >= count; });
    EXPECT_TRUE(all_arrived) << held_.size() << " of " << count << " puts arrived";
    return std::exchange(held_, {});
  }

  void range(mvcc::RangeRequest, Completion<mvcc::RangeResponse> done) override { refuse(done); }
  void delete_range(mvcc::DeleteRangeRequest, Completion<mvcc::DeleteRangeResponse> done) override {
    refuse(done);
  }
  void txn(mvcc::TxnRequest, Completion<mvcc::TxnResponse> done) override { refuse(done); }
  void compact(mvcc::CompactionRequest, Completion<mvcc::CompactionResponse> done) override {
    refuse(done);
  }
  void lease_grant(mvcc::LeaseGrantRequest, Completion<mvcc::LeaseGrantResponse> done) override {
    refuse(done);
  }
  void lease_revoke(mvcc::LeaseRevokeRequest, Completion<mvcc::LeaseRevokeResponse> done) override {
    refuse(done);
  }
  void lease_keep_alive(mvcc::LeaseKeepAliveRequest,
                        Completion<mvcc::LeaseKeepAliveResponse> done) override {
    refuse(done);
  }
  void lease_time_to_live(mvcc::LeaseTimeToLiveRequest,
                          Completion<mvcc::LeaseTimeToLiveResponse> done) override {
    refuse(done);
  }
  void lease_leases(mvcc::LeaseLeasesRequest, Completion<mvcc::LeaseLeasesResponse> done) override {
    refuse(done);
  }
  std::unique_ptr<WatchSession> open_watch_session(WatchSink) override { return nullptr; }

 private:
  template <typename Done>
  static void refuse(Done& done) {
    done(Error(ErrorCode::kIoError, "not part of this test"));
  }

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::pair<mvcc::PutRequest, Completion<mvcc::PutResponse>>> held_;
};

class CallQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(kv_service_.grpc_service());
    calls_ = std::make_unique<CallQueue>(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    kv_service_.serve(*calls_);
    calls_->start();
    kv_ = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                        grpc::InsecureChannelCredentials()));
  }

  void stop() {
    server_->Shutdown(std::chrono::system_clock::now());
    calls_->stop();
  }

  void TearDown() override {
    if (server_) stop();
  }

  // Sends `count` puts at once on the client's completion queue; key i carries value i.
  struct Sent {
    grpc::CompletionQueue queue;
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<etcdserverpb::PutResponse> responses;
    std::vector<grpc::Status> statuses;
    std::vector<std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>>> calls;
  };
  std::unique_ptr<Sent> send_puts(int count) {
    auto sent = std::make_unique<Sent>();
    sent->responses.resize(count);
    sent->statuses.resize(count);
    for (int i = 0; i < count; ++i) {
      auto context = std::make_unique<grpc::ClientContext>();
      context->set_deadline(std::chrono::system_clock::now() + kWait);
      etcdserverpb::PutRequest request;
      request.set_key("key" + std::to_string(i));
      request.set_value(std::to_string(i));
      sent->calls.push_back(kv_->AsyncPut(context.get(), request, &sent->queue));
      sent->calls.back()->Finish(&sent->responses[i], &sent->statuses[i],
                                 reinterpret_cast<void*>(static_cast<intptr_t>(i)));
      sent->contexts.push_back(std::move(context));
    }
    return sent;
  }
  static void await_all(Sent& sent) {
    for (size_t answered = 0; answered < sent.calls.size(); ++answered) {
      void* tag = nullptr;
      bool ok = false;
      ASSERT_TRUE(sent.queue.Next(&tag, &ok));
      ASSERT_TRUE(ok);
    }
  }

  HeldPuts api_;
  KvService kv_service_{api_};
  std::unique_ptr<CallQueue> calls_;  // destroyed after the server
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
};

TEST_F(CallQueueTest, CallsAnsweredOutOfOrderFromAnotherThreadEachGetTheirOwnAnswer) {
  constexpr int kCalls = 200;
  std::unique_ptr<Sent> sent = send_puts(kCalls);
  auto held = api_.take(kCalls);
  ASSERT_EQ(held.size(), static_cast<size_t>(kCalls));
  std::thread member([&held] {
    // Newest first: each answer names its own request's value as the revision.
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      mvcc::PutResponse response;
      response.header.revision = Revision(std::stoll(it->first.value) + 1);
      it->second(std::move(response));
    }
  });
  member.join();
  await_all(*sent);
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(sent->statuses[i].ok()) << sent->statuses[i].error_message();
    EXPECT_EQ(sent->responses[i].header().revision(), i + 1);
  }
}

TEST_F(CallQueueTest, AnAnswerAfterTheServerStoppedIsDroppedAndTheClientToldOfTheEnd) {
  std::unique_ptr<Sent> sent = send_puts(3);
  auto held = api_.take(3);
  ASSERT_EQ(held.size(), 3u);
  held[0].second(mvcc::PutResponse{});  // answered while the server runs
  stop();
  server_.reset();
  // The member answers the other two late: nothing may be started on the stopped queue.
  held[1].second(mvcc::PutResponse{});
  held[2].second(Error(ErrorCode::kIoError, "late"));
  await_all(*sent);
  const int answered_in_time = std::stoi(held[0].first.value);
  for (int i = 0; i < 3; ++i) {
    if (i == answered_in_time) continue;  // it may have reached the client before the stop
    EXPECT_FALSE(sent->statuses[i].ok()) << "put " << i << " was answered after the stop";
  }
}

TEST_F(CallQueueTest, StoppingTwiceAndStoppingAQueueNeverStartedAreHarmless) {
  stop();
  calls_->stop();
  grpc::ServerBuilder builder;
  CallQueue never_started(builder);
  never_started.stop();
}

}  // namespace
}  // namespace lockstep::api
