// The lock and election workloads: etcd's concurrency recipes (clientv3/concurrency Mutex
// and Election) built from a lease-backed session and transactions on create_revision.
// Acquiring: create my key under the prefix (txn: create_revision(key) == 0 ? put : get),
// then wait until my key has the lowest create_revision under the prefix. The holder's work
// is *fenced*: each protected write is a txn that succeeds only while my key still exists
// with my create_revision, so a holder whose lease expired (a paused client, a partition)
// cannot write after a successor took over.
//
// Checks:
// - fencing: ordered by revision, the successful fenced writes of each session form one
//   contiguous run — once another session wrote, an earlier session never writes again;
// - election only: every observer sees leaders (by create_revision) in non-decreasing order.
#include <map>
#include <set>

#include "sim/cluster/lock_session.h"
#include "sim/cluster/recorded_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

constexpr int64_t kSessionTtlSeconds = 2;
constexpr Duration kKeepAliveInterval = std::chrono::milliseconds(300);
constexpr Duration kPollInterval = std::chrono::milliseconds(20);
constexpr Duration kAcquireTimeout = std::chrono::seconds(3);
constexpr int kFencedWritesPerHold = 3;
constexpr Duration kObserveInterval = std::chrono::milliseconds(30);

std::string prefix_end(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

struct FencedWrite {
  std::string session;
  int64_t revision = 0;
};

class LockWorkload final : public Workload {
 public:
  explicit LockWorkload(bool election) : election_(election) {
    prefix_ = election ? "election/" : "lock/";
    resource_ = election ? "election-proclamation" : "lock-resource";
  }

  std::string_view name() const override { return election_ ? "election" : "lock"; }
  bool records_every_write() const override { return false; }  // sessions expire

  void start(WorkloadEnvironment& environment) override {
    for (int i = 0; i < environment.clients; ++i) {
      environment.cluster.add_client(
          std::string(name()) + "-" + std::to_string(i), environment.client_options,
          [this, &environment, i](ClusterClient& client) { run_client(client, environment, i); });
    }
    if (election_) {
      observed_.resize(2);
      for (int i = 0; i < 2; ++i) {
        environment.cluster.add_client(
            "election-observer-" + std::to_string(i), environment.client_options,
            [this, &environment, i](ClusterClient& client) { observe(client, environment, i); });
      }
    }
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment&) override;

 private:
  std::optional<LeaseId> grant(ClusterClient& client) {
    mvcc::LeaseGrantRequest grant;
    grant.ttl_seconds = kSessionTtlSeconds;
    CallResult granted = client.call(grant);
    if (!granted.ok()) return std::nullopt;
    return granted.as<mvcc::LeaseGrantResponse>().id;
  }

  // The lowest-create_revision key under the prefix (the holder / the leader).
  std::optional<mvcc::KeyValue> owner(ClusterClient& client, bool& ok) {
    mvcc::RangeRequest range;
    range.key = prefix_;
    range.range_end = prefix_end(prefix_);
    range.sort_target = mvcc::SortTarget::kCreate;
    range.sort_order = mvcc::SortOrder::kAscend;
    range.limit = 1;
    CallResult result = client.call(range);
    ok = result.ok();
    if (!ok || result.as<mvcc::RangeResponse>().kvs.empty()) return std::nullopt;
    return result.as<mvcc::RangeResponse>().kvs.front();
  }

  void run_client(ClusterClient& client, WorkloadEnvironment& environment, int index) {
    World& world = environment.cluster.world();
    uint64_t round = 0;
    LockSession holder(environment.recorder, environment.first_history_id + index,
                       std::chrono::seconds(kSessionTtlSeconds));
    // While nobody has acquired, clients keep starting sessions past stop_at, through the
    // liveness phase: a lost message costs a call a whole attempt timeout (1.5 s), and a
    // session that loses one (or whose lease runs out meanwhile: keep-alives share this
    // fiber) is abandoned. Three such losses in a short run (one lock client, 2% loss) left
    // the checks with nothing to judge ("nobody acquired the lock", unknown) though the
    // cluster served. A run's last second is left for the session to acquire.
    const Instant last_first_session = environment.end_at - std::chrono::seconds(1);
    while (world.now() < environment.stop_at ||
           (acquisitions_ == 0 && world.now() < last_first_session)) {
      ++round;
      holder.granting(world.now());
      std::optional<LeaseId> lease = grant(client);
      if (!lease) continue;
      const std::string session =
          std::string(name()) + std::to_string(index) + "-" + std::to_string(round);
      const std::string my_key = prefix_ + session;
      // The client stops believing it holds the lock when it starts releasing, or earlier
      // when its lease may have run out (LockSession records that deadline with the hold).
      if (hold(client, world, *lease, session, my_key, holder)) holder.releasing(world.now());
      // Release: delete the key and end the session (errors are fine: expiry cleans up).
      mvcc::DeleteRangeRequest release;
      release.key = my_key;
      (void)client.call(release);
      (void)client.call(mvcc::LeaseRevokeRequest{*lease});
    }
  }

  // A keep-alive; a lease the store no longer has is an error (kLeaseNotFound), not a renewal.
  bool keep_alive(ClusterClient& client, World& world, LeaseId lease, LockSession& holder) {
    const Instant invoked = world.now();
    if (!client.call(mvcc::LeaseKeepAliveRequest{lease}).ok()) return false;
    holder.renewed(invoked);
    return true;
  }

  // Acquires the lock and does the fenced work; returns whether it acquired.
  bool hold(ClusterClient& client, World& world, LeaseId lease, const std::string& session,
            const std::string& my_key, LockSession& holder) {
    const Instant acquire_invoke = world.now();
    mvcc::TxnRequest create;
    mvcc::Compare absent;
    absent.key = my_key;
    absent.target = mvcc::CompareTarget::kCreate;
    absent.result = mvcc::CompareResult::kEqual;
    create.compare.push_back(absent);
    mvcc::PutRequest put;
    put.key = my_key;
    put.value = session;
    put.lease = lease;
    create.success.push_back(mvcc::put_op(put));
    CallResult created = client.call(create);
    if (!created.ok() || !created.as<mvcc::TxnResponse>().succeeded) return false;
    const Revision my_revision = created.as<mvcc::TxnResponse>().header.revision;

    // Wait to become the owner, keeping the session alive.
    const Instant give_up = world.now() + kAcquireTimeout;
    Instant next_keep_alive = world.now() + kKeepAliveInterval;
    while (true) {
      if (world.now() >= give_up) return false;
      bool ok = false;
      std::optional<mvcc::KeyValue> current = owner(client, ok);
      if (ok && current && current->key == my_key) break;
      if (ok && !current) return false;  // my key is gone: the session expired
      client.runtime().sleep_for(kPollInterval);
      if (world.now() >= next_keep_alive) {
        if (!keep_alive(client, world, lease, holder)) return false;
        next_keep_alive = world.now() + kKeepAliveInterval;
      }
    }
    ++acquisitions_;
    holder.acquired(prefix_, acquire_invoke, world.now(), my_revision.value());
    for (int j = 1; j <= kFencedWritesPerHold; ++j) {
      mvcc::TxnRequest fenced;
      mvcc::Compare still_mine;
      still_mine.key = my_key;
      still_mine.target = mvcc::CompareTarget::kCreate;
      still_mine.result = mvcc::CompareResult::kEqual;
      still_mine.create_revision = my_revision;
      fenced.compare.push_back(still_mine);
      mvcc::PutRequest write;
      write.key = resource_;
      write.value = session + ":" + std::to_string(j);
      fenced.success.push_back(mvcc::put_op(write));
      checker::FencedWrite attempt;
      attempt.client = holder.client();
      attempt.lock_name = prefix_;
      attempt.invoke_time = world.now().nanoseconds();
      attempt.fencing_revision = my_revision.value();
      CallResult result = client.call(fenced);
      attempt.return_time = world.now().nanoseconds();
      attempt.indeterminate = result.outcome == CallOutcome::kIndeterminate;
      attempt.accepted = result.ok() && result.as<mvcc::TxnResponse>().succeeded;
      holder.recorder().record_fenced_write(attempt);
      if (!result.ok()) return true;
      const auto& response = result.as<mvcc::TxnResponse>();
      if (!response.succeeded) {
        ++fenced_out_;
        // Lost the lock (session expired): fencing stopped the write, and the client knows.
        holder.lost(world.now());
        return true;
      }
      fenced_writes_.push_back(FencedWrite{session, response.header.revision.value()});
      client.runtime().sleep_for(kPollInterval);
      (void)keep_alive(client, world, lease, holder);
    }
    return true;
  }

  void observe(ClusterClient& client, WorkloadEnvironment& environment, int index) {
    World& world = environment.cluster.world();
    while (world.now() < environment.stop_at) {
      bool ok = false;
      std::optional<mvcc::KeyValue> leader = owner(client, ok);
      if (ok && leader)
        observed_[static_cast<size_t>(index)].push_back(leader->create_revision.value());
      client.runtime().sleep_for(kObserveInterval);
    }
  }

  bool election_;
  std::string prefix_;
  std::string resource_;
  uint64_t acquisitions_ = 0;
  uint64_t fenced_out_ = 0;
  std::vector<FencedWrite> fenced_writes_;
  std::vector<std::vector<int64_t>> observed_;
};

std::vector<CheckOutcome> LockWorkload::check(const WorkloadEnvironment&) {
  std::vector<CheckOutcome> outcomes;
  CheckOutcome fencing{std::string(name()) + ": fenced writes never interleave",
                       CheckOutcome::Verdict::kPass, ""};
  std::vector<FencedWrite> writes = fenced_writes_;
  std::ranges::sort(writes, {}, &FencedWrite::revision);
  std::set<std::string> finished;
  std::string current;
  for (const FencedWrite& write : writes) {
    if (write.session == current) continue;
    if (finished.contains(write.session)) {
      fencing.verdict = CheckOutcome::Verdict::kFail;
      fencing.detail = "session " + write.session + " wrote at revision " +
                       std::to_string(write.revision) + " after session " + current + " took over";
      break;
    }
    if (!current.empty()) finished.insert(current);
    current = write.session;
  }
  if (fencing.passed()) {
    fencing.detail = std::to_string(acquisitions_) + " acquisitions, " +
                     std::to_string(writes.size()) + " fenced writes, " +
                     std::to_string(fenced_out_) + " stopped by fencing";
    if (acquisitions_ == 0) {
      fencing.verdict = CheckOutcome::Verdict::kUnknown;
      fencing.detail = "nobody acquired the lock";
    }
  }
  outcomes.push_back(fencing);
  if (election_) {
    CheckOutcome order{"election: observers never see an older leader",
                       CheckOutcome::Verdict::kPass, ""};
    size_t observations = 0;
    for (size_t i = 0; i < observed_.size(); ++i) {
      observations += observed_[i].size();
      for (size_t j = 1; j < observed_[i].size(); ++j) {
        if (observed_[i][j] < observed_[i][j - 1]) {
          order.verdict = CheckOutcome::Verdict::kFail;
          order.detail = "observer " + std::to_string(i) + " saw the leader created at " +
                         std::to_string(observed_[i][j]) + " after the one created at " +
                         std::to_string(observed_[i][j - 1]);
        }
      }
    }
    if (order.passed()) order.detail = std::to_string(observations) + " observations";
    outcomes.push_back(order);
  }
  return outcomes;
}

}  // namespace

std::unique_ptr<Workload> make_lock_workload() {
  return std::make_unique<LockWorkload>(false);
}
std::unique_ptr<Workload> make_election_workload() {
  return std::make_unique<LockWorkload>(true);
}

}  // namespace lockstep::sim
