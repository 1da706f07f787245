// The kv and txn workloads: judged by the linearizability checker (etcd model) alone.
#include "sim/cluster/recorded_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

// A small key space, so that clients contend and the checker has something to decide.
constexpr int kKvKeys = 8;
constexpr int kTxnKeys = 4;
constexpr int64_t kMaxThinkMilliseconds = 10;

std::string key_name(std::string_view prefix, uint64_t index) {
  return std::string(prefix) + std::to_string(index);
}

// etcd's prefix range end: the prefix with its last byte incremented.
std::string prefix_end(std::string prefix) {
  ASSERT(!prefix.empty() && prefix.back() != '\xff', "prefix has an end");
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

void think(ClusterClient& client) {
  Random& random = client.runtime().random();
  client.runtime().sleep_for(std::chrono::milliseconds(random.between(0, kMaxThinkMilliseconds)));
}

class KvWorkload final : public Workload {
 public:
  std::string_view name() const override { return "kv"; }
  bool records_every_write() const override { return true; }

  void start(WorkloadEnvironment& environment) override {
    for (int i = 0; i < environment.clients; ++i) {
      const int64_t history_id = environment.first_history_id + i;
      environment.cluster.add_client("kv-" + std::to_string(i), environment.client_options,
                                     [&environment, history_id](ClusterClient& client) {
                                       RecordedClient recorded(client, environment.recorder,
                                                               environment.cluster.world(),
                                                               history_id);
                                       run_client(recorded, environment.stop_at);
                                     });
    }
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment&) override { return {}; }

 private:
  static void run_client(RecordedClient& client, Instant stop_at) {
    Random& random = client.client().runtime().random();
    uint64_t written = 0;
    while (client.now() < stop_at) {
      const std::string key = key_name("kv/", random.below(kKvKeys));
      const uint64_t choice = random.below(100);
      if (choice < 40) {
        mvcc::RangeRequest get;
        get.key = key;
        // A tenth of the reads are serializable: a member's local state, possibly stale,
        // which linearizability does not promise; they are not recorded.
        if (random.below(10) == 0) {
          get.serializable = true;
          (void)client.call(get);
        } else {
          (void)client.range(get);
        }
      } else if (choice < 80) {
        mvcc::PutRequest put;
        put.key = key;
        put.value = "c" + std::to_string(client.history_id()) + "-" + std::to_string(++written);
        (void)client.put(put);
      } else if (choice < 90) {
        mvcc::DeleteRangeRequest del;
        del.key = key;
        (void)client.delete_range(del);
      } else {
        mvcc::RangeRequest range;
        range.key = "kv/";
        range.range_end = prefix_end("kv/");
        (void)client.range(range);
      }
      think(client.client());
    }
  }
};

// Compare-and-swap through etcd transactions: read a key, then swap it only if it still
// holds what was read (a value compare, or version == 0 for an absent key, since etcd's
// value compare on a missing key always fails).
class TxnWorkload final : public Workload {
 public:
  std::string_view name() const override { return "txn"; }
  bool records_every_write() const override { return true; }

  void start(WorkloadEnvironment& environment) override {
    for (int i = 0; i < environment.clients; ++i) {
      const int64_t history_id = environment.first_history_id + i;
      environment.cluster.add_client("txn-" + std::to_string(i), environment.client_options,
                                     [&environment, history_id](ClusterClient& client) {
                                       RecordedClient recorded(client, environment.recorder,
                                                               environment.cluster.world(),
                                                               history_id);
                                       run_client(recorded, environment.stop_at);
                                     });
    }
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment&) override { return {}; }

 private:
  static void run_client(RecordedClient& client, Instant stop_at) {
    Random& random = client.client().runtime().random();
    uint64_t swaps = 0;
    while (client.now() < stop_at) {
      const std::string key = key_name("txn/", random.below(kTxnKeys));
      std::optional<std::optional<mvcc::KeyValue>> seen = client.get(key);
      if (!seen) continue;
      mvcc::TxnRequest txn;
      mvcc::Compare compare;
      compare.key = key;
      compare.result = mvcc::CompareResult::kEqual;
      if (*seen) {
        compare.target = mvcc::CompareTarget::kValue;
        compare.value = (*seen)->value;
      } else {
        compare.target = mvcc::CompareTarget::kVersion;
        compare.version = 0;
      }
      txn.compare.push_back(compare);
      mvcc::PutRequest put;
      put.key = key;
      put.value = "s" + std::to_string(client.history_id()) + "-" + std::to_string(++swaps);
      txn.success.push_back(mvcc::put_op(put));
      mvcc::RangeRequest reread;
      reread.key = key;
      txn.failure.push_back(mvcc::range_op(reread));
      (void)client.txn(txn);
      think(client.client());
    }
  }
};

}  // namespace

std::unique_ptr<Workload> make_kv_workload() {
  return std::make_unique<KvWorkload>();
}
std::unique_ptr<Workload> make_txn_workload() {
  return std::make_unique<TxnWorkload>();
}

}  // namespace lockstep::sim
