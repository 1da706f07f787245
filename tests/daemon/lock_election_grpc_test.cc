// etcd 3.4's v3lockpb.Lock and v3electionpb.Election services called directly over gRPC (not
// through etcdctl, whose lock/elect use the client-side concurrency package and never reach
// these RPCs). Every test runs twice: against a single-member Debian etcd 3.4.23 and against a
// single-member `lockstep serve`, with the same expectations, so an answer that differs
// between the two fails on one of them. The expectations are etcd's behaviour as observed.
//
// etcd must be installed (Debian: etcd-server; server/test_process.h says where it is looked
// for); the lockstep binary is the build's (or $LOCKSTEP_BINARY). A backend that cannot be
// found or started fails its tests with the reason.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/base/error.h"
#include "server/api/proto/rpc.grpc.pb.h"
#include "server/api/proto/v3election.grpc.pb.h"
#include "server/api/proto/v3lock.grpc.pb.h"
#include "server/test_process.h"

namespace lockstep {
namespace {

constexpr int kRequestTimeoutSeconds = 10;
constexpr int kStartAttempts = 100;
constexpr auto kStartPollInterval = std::chrono::milliseconds(100);
// How long a call that must stay blocked is given to (wrongly) return. A loaded machine only
// makes the check weaker, never wrong.
constexpr auto kStillBlocked = std::chrono::milliseconds(300);
constexpr int64_t kLongLeaseSeconds = 60;
// Long enough for etcd's minimum lease TTL (1.5 election timeouts), short enough to wait for.
constexpr int64_t kShortLeaseSeconds = 2;

// Whether a TCP connection to host:port succeeds within the start attempts.
bool wait_for_listener(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::atoi(endpoint.c_str() + colon + 1)));
  if (inet_pton(AF_INET, endpoint.substr(0, colon).c_str(), &address.sin_addr) != 1) return false;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    const bool connected =
        connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(socket_fd);
    if (connected) return true;
    std::this_thread::sleep_for(kStartPollInterval);
  }
  return false;
}

std::unique_ptr<grpc::ClientContext> context_with_deadline(int seconds = kRequestTimeoutSeconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

std::string hex(int64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(value));
  return text;
}

// One single-member server, started for the test and stopped after it.
class Backend {
 public:
  virtual ~Backend() = default;
  // The client endpoint (host:port), or why the server could not be started.
  virtual Result<std::string> start(const std::string& directory) = 0;
  virtual void stop() = 0;
};

// Debian's etcd 3.4, always installed by the project's setup: not finding or starting it is a
// failure, not a reason to skip.
class EtcdBackend final : public Backend {
 public:
  Result<std::string> start(const std::string& directory) override {
    directory_ = directory + "/etcd";
    return server::start_reference_etcd(directory_);
  }
  void stop() override {
    if (!directory_.empty()) server::stop_reference_etcd(directory_);
  }

 private:
  std::string directory_;
};

class LockstepBackend final : public Backend {
 public:
  Result<std::string> start(const std::string& directory) override {
    const char* binary = std::getenv("LOCKSTEP_BINARY");
#ifdef LOCKSTEP_BINARY_PATH
    if (binary == nullptr) binary = LOCKSTEP_BINARY_PATH;
#endif
    if (binary == nullptr || access(binary, X_OK) != 0) {
      return Error(ErrorCode::kInvalidInput,
                   "no lockstep binary: build the lockstep target or set LOCKSTEP_BINARY");
    }
    const std::string client = "127.0.0.1:" + std::to_string(server::pick_free_port());
    const std::string peer = "http://127.0.0.1:" + std::to_string(server::pick_free_port());
    const std::string command =
        std::string(binary) + " serve --name solo --data-dir " + directory + "/lockstep" +
        " --listen-client-urls http://" + client + " --advertise-client-urls http://" + client +
        " --listen-peer-urls " + peer + " --initial-advertise-peer-urls " + peer +
        " --initial-cluster solo=" + peer + " --heartbeat-interval 50 --election-timeout 500 > " +
        directory + "/lockstep.log 2>&1 &" + " echo $!";
    const auto [status, output] = server::run_command(command);
    if (status != 0) return Error(ErrorCode::kIoError, "could not run " + command);
    pid_ = std::atoi(output.c_str());
    return client;
  }
  void stop() override {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }

 private:
  pid_t pid_ = 0;
};

class LockElection : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char directory_template[] = "/tmp/lockstep-lock-election-XXXXXX";
    ASSERT_NE(mkdtemp(directory_template), nullptr);
    directory_ = directory_template;
    if (GetParam() == "etcd") {
      backend_ = std::make_unique<EtcdBackend>();
    } else {
      backend_ = std::make_unique<LockstepBackend>();
    }
    const Result<std::string> started = backend_->start(directory_);
    ASSERT_TRUE(started.is_ok()) << GetParam() << " did not start (" << directory_
                                 << "): " << started.error();
    const std::string endpoint = *started;
    // Dialled only once the server listens: a channel that met a refused connection backs
    // off for seconds before it tries again.
    ASSERT_TRUE(wait_for_listener(endpoint)) << GetParam() << " never listened on " << endpoint;
    auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    lock_ = v3lockpb::Lock::NewStub(channel);
    election_ = v3electionpb::Election::NewStub(channel);
    wait_until_serving();
  }

  void TearDown() override {
    if (backend_) backend_->stop();
    if (!HasFailure() && !directory_.empty()) server::run_command("rm -rf " + directory_);
  }

  void wait_until_serving() {
    grpc::Status status;
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
      etcdserverpb::PutRequest request;
      request.set_key("/ready");
      etcdserverpb::PutResponse response;
      status = kv_->Put(context_with_deadline(1).get(), request, &response);
      if (status.ok()) return;
      std::this_thread::sleep_for(kStartPollInterval);
    }
    FAIL() << GetParam() << " never accepted a put: " << status.error_message();
  }

  int64_t grant(int64_t ttl_seconds) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl_seconds);
    etcdserverpb::LeaseGrantResponse response;
    const grpc::Status status =
        lease_->LeaseGrant(context_with_deadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.id();
  }

  grpc::Status lock(const std::string& name, int64_t lease, v3lockpb::LockResponse& response,
                    int seconds = kRequestTimeoutSeconds) {
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    return lock_->Lock(context_with_deadline(seconds).get(), request, &response);
  }

  grpc::Status unlock(const std::string& key) {
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    return lock_->Unlock(context_with_deadline().get(), request, &response);
  }

  grpc::Status campaign(const std::string& name, int64_t lease, const std::string& value,
                        v3electionpb::CampaignResponse& response,
                        int seconds = kRequestTimeoutSeconds) {
    v3electionpb::CampaignRequest request;
    request.set_name(name);
    request.set_lease(lease);
    request.set_value(value);
    return election_->Campaign(context_with_deadline(seconds).get(), request, &response);
  }

  grpc::Status leader(const std::string& name, v3electionpb::LeaderResponse& response) {
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    return election_->Leader(context_with_deadline().get(), request, &response);
  }

  grpc::Status proclaim(const v3electionpb::LeaderKey& key, const std::string& value) {
    v3electionpb::ProclaimRequest request;
    *request.mutable_leader() = key;
    request.set_value(value);
    v3electionpb::ProclaimResponse response;
    return election_->Proclaim(context_with_deadline().get(), request, &response);
  }

  grpc::Status resign(const v3electionpb::LeaderKey& key) {
    v3electionpb::ResignRequest request;
    *request.mutable_leader() = key;
    v3electionpb::ResignResponse response;
    return election_->Resign(context_with_deadline().get(), request, &response);
  }

  int64_t count(const std::string& key) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    request.set_count_only(true);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(context_with_deadline().get(), request, &response).ok());
    return response.count();
  }

  std::string directory_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
};

void expect_status(const grpc::Status& status, grpc::StatusCode code, const std::string& message) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

// etcd's Lock: the lock is the key <name>/<lease in hex>, held once every older key under the
// name is gone; Unlock deletes it and the next waiter gets the lock.
TEST_P(LockElection, LockIsExclusiveAndUnlockHandsItOver) {
  const int64_t first_lease = grant(kLongLeaseSeconds);
  const int64_t second_lease = grant(kLongLeaseSeconds);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(lock("/locks/a", first_lease, first).ok());
  EXPECT_EQ(first.key(), "/locks/a/" + hex(first_lease));
  EXPECT_GT(first.header().revision(), 0);
  EXPECT_EQ(count(first.key()), 1);

  v3lockpb::LockResponse second;
  std::future<grpc::Status> waiting =
      std::async(std::launch::async, [&] { return lock("/locks/a", second_lease, second); });
  EXPECT_EQ(waiting.wait_for(kStillBlocked), std::future_status::timeout)
      << "a second holder got the lock while the first held it";
  ASSERT_TRUE(unlock(first.key()).ok());
  const grpc::Status acquired = waiting.get();
  ASSERT_TRUE(acquired.ok()) << acquired.error_message();
  EXPECT_EQ(second.key(), "/locks/a/" + hex(second_lease));
  EXPECT_GT(second.header().revision(), first.header().revision());
  EXPECT_EQ(count(first.key()), 0);
  // Unlocking what is not held (any more) succeeds: it is a delete.
  EXPECT_TRUE(unlock(first.key()).ok());
  EXPECT_TRUE(unlock("/locks/never-held").ok());
}

// A holder that dies (its lease expires) releases the lock without an Unlock.
TEST_P(LockElection, ExpiredLeaseReleasesTheLock) {
  const int64_t dying = grant(kShortLeaseSeconds);
  const int64_t waiting_lease = grant(kLongLeaseSeconds);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("/locks/b", dying, held).ok());
  v3lockpb::LockResponse next;
  const grpc::Status acquired = lock("/locks/b", waiting_lease, next);
  ASSERT_TRUE(acquired.ok()) << acquired.error_message();
  EXPECT_EQ(next.key(), "/locks/b/" + hex(waiting_lease));
  EXPECT_EQ(count(held.key()), 0);
}

// etcd passes the put's error through, as UNKNOWN (the server's embedded client turns the
// status into a plain error): a lease that does not exist cannot hold a lock or campaign. A
// caller that gives up (deadline) leaves no key behind.
TEST_P(LockElection, LockAndCampaignErrors) {
  v3lockpb::LockResponse response;
  expect_status(lock("/locks/c", 0x12345, response), grpc::StatusCode::UNKNOWN,
                "etcdserver: requested lease not found");
  v3electionpb::CampaignResponse campaigned;
  expect_status(campaign("/elections/c", 0x12345, "v", campaigned), grpc::StatusCode::UNKNOWN,
                "etcdserver: requested lease not found");

  // Lease 0: etcd's lock server opens a session of its own, a fresh lease of 60 s.
  ASSERT_TRUE(lock("/locks/zero", 0, response).ok());
  const std::string prefix = "/locks/zero/";
  ASSERT_EQ(response.key().substr(0, prefix.size()), prefix);
  const int64_t session = std::stoll(response.key().substr(prefix.size()), nullptr, 16);
  EXPECT_NE(session, 0);
  etcdserverpb::LeaseTimeToLiveRequest ttl_request;
  ttl_request.set_id(session);
  etcdserverpb::LeaseTimeToLiveResponse ttl;
  ASSERT_TRUE(lease_->LeaseTimeToLive(context_with_deadline().get(), ttl_request, &ttl).ok());
  EXPECT_EQ(ttl.grantedttl(), kLongLeaseSeconds);

  const int64_t holder = grant(kLongLeaseSeconds);
  const int64_t impatient = grant(kLongLeaseSeconds);
  ASSERT_TRUE(lock("/locks/c", holder, response).ok());
  v3lockpb::LockResponse never;
  EXPECT_EQ(lock("/locks/c", impatient, never, 1).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  bool cleaned = false;
  for (int attempt = 0; attempt < kStartAttempts && !cleaned; ++attempt) {
    cleaned = count("/locks/c/" + hex(impatient)) == 0;
    if (!cleaned) std::this_thread::sleep_for(kStartPollInterval);
  }
  EXPECT_TRUE(cleaned) << "the abandoned waiter's key is still queued";
}

// Campaign, Leader, Proclaim and Resign as etcd's concurrency.Election: the leader key is
// <name>/<lease in hex>; Proclaim rewrites its value while the key is the one created at
// LeaderKey.rev; a stale LeaderKey gets "election: not leader"; Resign hands over to the next
// candidate and is a no-op for a stale key.
TEST_P(LockElection, CampaignProclaimLeaderResign) {
  const int64_t alice_lease = grant(kLongLeaseSeconds);
  const int64_t bob_lease = grant(kLongLeaseSeconds);
  v3electionpb::LeaderResponse current;
  expect_status(leader("/elections/e", current), grpc::StatusCode::UNKNOWN, "election: no leader");

  v3electionpb::CampaignResponse alice;
  ASSERT_TRUE(campaign("/elections/e", alice_lease, "alice", alice).ok());
  EXPECT_EQ(alice.leader().name(), "/elections/e");
  EXPECT_EQ(alice.leader().key(), "/elections/e/" + hex(alice_lease));
  EXPECT_EQ(alice.leader().lease(), alice_lease);
  EXPECT_EQ(alice.leader().rev(), alice.header().revision());
  ASSERT_TRUE(leader("/elections/e", current).ok());
  EXPECT_EQ(current.kv().key(), alice.leader().key());
  EXPECT_EQ(current.kv().value(), "alice");

  ASSERT_TRUE(proclaim(alice.leader(), "alice-2").ok());
  ASSERT_TRUE(leader("/elections/e", current).ok());
  EXPECT_EQ(current.kv().value(), "alice-2");
  v3electionpb::LeaderKey stale = alice.leader();
  stale.set_rev(stale.rev() + 1000);
  expect_status(proclaim(stale, "mallory"), grpc::StatusCode::UNKNOWN, "election: not leader");
  // An empty LeaderKey reaches the put: etcd's empty-key error, passed through.
  expect_status(proclaim(v3electionpb::LeaderKey(), "nobody"), grpc::StatusCode::UNKNOWN,
                "etcdserver: key is not provided");
  {
    v3electionpb::ProclaimRequest request;  // no leader field at all
    v3electionpb::ProclaimResponse response;
    expect_status(election_->Proclaim(context_with_deadline().get(), request, &response),
                  grpc::StatusCode::UNKNOWN, "\"leader\" field must be provided");
  }

  v3electionpb::CampaignResponse bob;
  std::future<grpc::Status> waiting = std::async(
      std::launch::async, [&] { return campaign("/elections/e", bob_lease, "bob", bob); });
  EXPECT_EQ(waiting.wait_for(kStillBlocked), std::future_status::timeout)
      << "a second candidate was elected while the leader stands";
  EXPECT_TRUE(resign(stale).ok());  // not the leader's key: nothing happens
  ASSERT_TRUE(leader("/elections/e", current).ok());
  EXPECT_EQ(current.kv().value(), "alice-2");
  ASSERT_TRUE(resign(alice.leader()).ok());
  const grpc::Status elected = waiting.get();
  ASSERT_TRUE(elected.ok()) << elected.error_message();
  EXPECT_EQ(bob.leader().key(), "/elections/e/" + hex(bob_lease));
  ASSERT_TRUE(leader("/elections/e", current).ok());
  EXPECT_EQ(current.kv().value(), "bob");
  expect_status(proclaim(alice.leader(), "too late"), grpc::StatusCode::UNKNOWN,
                "election: not leader");
}

// Observe streams the leader now and at every change: a new value, a new leader once the old
// one's lease expires.
TEST_P(LockElection, ObserveFollowsProclamationsAndLeaseExpiry) {
  const int64_t dying = grant(kShortLeaseSeconds);
  v3electionpb::CampaignResponse first;
  ASSERT_TRUE(campaign("/elections/o", dying, "first", first).ok());

  grpc::ClientContext observe_context;
  observe_context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(kRequestTimeoutSeconds));
  v3electionpb::LeaderRequest observe_request;
  observe_request.set_name("/elections/o");
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
      election_->Observe(&observe_context, observe_request);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "first");

  ASSERT_TRUE(proclaim(first.leader(), "first-again").ok());
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "first-again");
  EXPECT_EQ(seen.kv().key(), first.leader().key());

  const int64_t second_lease = grant(kLongLeaseSeconds);
  v3electionpb::CampaignResponse second;
  ASSERT_TRUE(campaign("/elections/o", second_lease, "second", second).ok());  // after expiry
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().key(), second.leader().key());
  EXPECT_EQ(seen.kv().value(), "second");
  observe_context.TryCancel();
}

INSTANTIATE_TEST_SUITE_P(Backends, LockElection, ::testing::Values("etcd", "lockstep"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace lockstep
