// Crash-recovery property test of the SQLite backend on the simulated disk: a member applies
// batches (each one Raft entry's effects plus its consistent index), checkpoints and
// defragments now and then, and the world cuts power at a random virtual instant under each
// crash mode. After every restart:
//   - the database opens and passes SQLite's integrity check;
//   - its consistent index is at least the last acknowledged one (every committed transaction
//     survived) and at most the one in flight;
//   - its contents are exactly the effects of batches 1..consistent_index (atomic, in order,
//     nothing half-applied) — compared byte for byte with MemoryBackend's canonical image;
//   - replaying the batches above the index ("the Raft log") converges to the same state.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <vector>

#include "core/env/runtime.h"
#include "core/mvcc/memory_backend.h"
#include "sim/world.h"
#include "store/sqlite_backend.h"

namespace lockstep::store {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr NodeId kMember{1};
constexpr int kCrashCyclesPerRun = 5;
constexpr uint64_t kSeedsPerMode = 5;

struct Harness {
  uint64_t seed = 0;
  Random random{0};
  std::vector<mvcc::WriteBatch> batches;  // batch i has consistent_index i + 1
  mvcc::MemoryBackend generator_state;    // state after every generated batch
  bool sync_every_commit = true;
  bool group_commits = false;  // the member's mode: runs of batches, transactions across runs
  LogIndex acked;              // highest consistent index acknowledged as durable
  LogIndex highest_committed;  // highest committed (durable or not, in deferred mode)
  std::optional<LogIndex> in_flight;
  int incarnation = 0;
  int restarts_checked = 0;
  int batches_acked = 0;
  int defragments_completed = 0;
  std::vector<std::string> failures;
};

mvcc::WriteBatch generate_batch(Harness& harness) {
  Random& random = harness.random;
  mvcc::WriteBatch batch;
  const uint64_t index = harness.batches.size() + 1;
  batch.consistent_index = LogIndex(index);
  const int puts = static_cast<int>(random.below(6));
  for (int sub = 0; sub < puts; ++sub) {
    batch.revision_puts.push_back(mvcc::RevisionRecord{
        mvcc::RevisionKey{Revision(static_cast<int64_t>(index)), sub}, random.chance(0.1),
        std::string(random.below(1500), static_cast<char>('a' + index % 26))});
  }
  if (random.chance(0.1) && index > 10) {  // compaction of a random older range
    const int64_t up_to = static_cast<int64_t>(random.below(index));
    std::vector<mvcc::RevisionRecord> old =
        *harness.generator_state.read_revisions({Revision(0), 0}, {Revision(up_to), 0}, 50);
    for (const mvcc::RevisionRecord& record : old)
      batch.revision_removals.push_back(record.revision);
  }
  if (random.chance(0.2)) {
    batch.lease_puts.push_back(mvcc::LeaseRecord{LeaseId(static_cast<int64_t>(random.below(8))),
                                                 "ttl=" + std::to_string(index)});
  }
  if (random.chance(0.1))
    batch.lease_removals.push_back(LeaseId(static_cast<int64_t>(random.below(8))));
  if (random.chance(0.3)) batch.meta_puts["scheduled_compact"] = std::to_string(index);
  EXPECT_TRUE(harness.generator_state.commit(batch).is_ok());
  return batch;
}

std::string expected_image(const Harness& harness, LogIndex through) {
  mvcc::MemoryBackend model;
  for (uint64_t i = 0; i < through.value(); ++i) {
    EXPECT_TRUE(model.commit(harness.batches[i]).is_ok());
  }
  return *model.dump();
}

void member_main(env::Runtime& runtime, Harness& harness) {
  SqliteVfsOptions vfs_options;
  // Unique per incarnation: the previous incarnation's VFS is unregistered by its unwinding.
  vfs_options.name =
      "sqlite-crash-" + std::to_string(harness.seed) + "-" + std::to_string(++harness.incarnation);
  vfs_options.random_seed = runtime.random().next_u64();
  vfs_options.runtime = &runtime;
  vfs_options.clock = [&runtime] { return runtime.now(); };
  std::unique_ptr<SqliteVfs> vfs = SqliteVfs::register_vfs(runtime.disk(), vfs_options).value();
  SqliteBackendOptions options;
  options.wal_autocheckpoint_pages = 40;  // small, so that crashes land inside checkpoints
  options.sync_every_commit = harness.sync_every_commit;
  options.commits_per_sync = 10;
  options.group_commits = harness.group_commits;
  options.commits_per_transaction = 4;
  Result<std::unique_ptr<SqliteBackend>> opened = SqliteBackend::open(*vfs, options);
  if (!opened) {
    harness.failures.push_back("open failed after a crash: " + opened.status().to_string());
    return;
  }
  SqliteBackend& backend = **opened;
  if (Status integrity = backend.check_integrity(); !integrity) {
    harness.failures.push_back("integrity check failed: " + integrity.to_string());
    return;
  }
  const LogIndex recovered = backend.consistent_index();
  const LogIndex highest_possible =
      std::max(harness.in_flight.value_or(LogIndex(0)), harness.highest_committed);
  if (recovered < harness.acked || recovered > highest_possible) {
    harness.failures.push_back("consistent index " + std::to_string(recovered.value()) +
                               " outside [acked " + std::to_string(harness.acked.value()) +
                               ", in flight " + std::to_string(highest_possible.value()) + "]");
    return;
  }
  if (*backend.dump() != expected_image(harness, recovered)) {
    harness.failures.push_back("contents differ from batches 1.." +
                               std::to_string(recovered.value()));
    return;
  }
  harness.restarts_checked++;
  harness.acked = recovered;
  harness.highest_committed = recovered;
  harness.in_flight.reset();
  while (true) {
    // A run of 1-3 batches is one group (a Ready's committed entries), when grouping.
    const uint64_t run_length = harness.group_commits ? 1 + harness.random.below(3) : 1;
    if (harness.group_commits && !backend.begin_group()) return;
    for (uint64_t in_run = 0; in_run < run_length; ++in_run) {
      const uint64_t next = backend.consistent_index().value() + 1;
      if (next > harness.batches.size()) harness.batches.push_back(generate_batch(harness));
      // Batches above the persisted index are re-applied exactly once (the Raft log replay).
      harness.in_flight = LogIndex(next);
      if (!backend.commit(harness.batches[next - 1])) return;
      harness.highest_committed = LogIndex(next);
    }
    if (harness.group_commits && !backend.end_group()) return;
    harness.acked = backend.durable_consistent_index();
    harness.in_flight.reset();
    const uint64_t next = harness.highest_committed.value();
    if (harness.sync_every_commit && harness.acked != LogIndex(next)) {
      harness.failures.push_back("a commit returned without being durable");
      return;
    }
    harness.batches_acked++;
    if (harness.random.chance(0.01)) {
      if (!backend.defragment()) return;
      harness.defragments_completed++;
    }
  }
}

struct Totals {
  int restarts_checked = 0;
  int batches_acked = 0;
  int defragments_completed = 0;
};

void run_crash_cycles(sim::CrashMode mode, uint64_t seed, bool sync_every_commit, Totals& totals,
                      bool group_commits = false) {
  sim::World world(sim::WorldOptions::seeded(seed));
  Harness harness;
  harness.seed = seed;
  harness.sync_every_commit = sync_every_commit;
  harness.group_commits = group_commits;
  harness.random = Random(seed).stream("sqlite-workload");
  ASSERT_TRUE(world
                  .add_process(kMember, "member",
                               [&](env::Runtime& runtime) { member_main(runtime, harness); })
                  .is_ok());
  sim::DiskFaults& faults = world.disk_faults(kMember);
  faults.latency_min = microseconds(10);
  faults.latency_max = microseconds(200);
  for (int cycle = 0; cycle <= kCrashCyclesPerRun; ++cycle) {
    if (cycle > 0) {
      world.crash(kMember, mode);
      ASSERT_TRUE(world.restart(kMember).is_ok());
    }
    const int checked_before = harness.restarts_checked;
    // Let the member recover (checked), then crash it at a random later instant.
    world.run_until(
        [&] { return harness.restarts_checked > checked_before || !harness.failures.empty(); },
        world.now() + std::chrono::seconds(30));
    ASSERT_TRUE(harness.failures.empty())
        << "mode " << sim::crash_mode_name(mode) << " seed " << seed << " cycle " << cycle << ": "
        << harness.failures.front();
    ASSERT_EQ(harness.restarts_checked, checked_before + 1);
    world.run_for(microseconds(100 + harness.random.below(500'000)));
  }
  totals.restarts_checked += harness.restarts_checked;
  totals.batches_acked += harness.batches_acked;
  totals.defragments_completed += harness.defragments_completed;
}

class SqliteBackendCrash : public ::testing::TestWithParam<sim::CrashMode> {};

TEST_P(SqliteBackendCrash, EveryCommittedTransactionSurvivesAndTheDatabaseOpens) {
  Totals totals;
  for (uint64_t seed = 1; seed <= kSeedsPerMode; ++seed) {
    run_crash_cycles(GetParam(), seed, /*sync_every_commit=*/true, totals);
  }
  std::printf("%s: %d batches acknowledged, %d restarts checked, %d defragments\n",
              std::string(sim::crash_mode_name(GetParam())).c_str(), totals.batches_acked,
              totals.restarts_checked, totals.defragments_completed);
  // The workload must reach checkpoints and VACUUM, or the test proves little.
  EXPECT_GT(totals.batches_acked, 20 * kCrashCyclesPerRun * static_cast<int>(kSeedsPerMode));
  EXPECT_GT(totals.defragments_completed, 0);
}

TEST_P(SqliteBackendCrash, DeferredSyncLosesOnlyWholeCommitsAfterTheLastSync) {
  // etcd's model: commits become durable in groups; a crash rolls back to the last sync, never
  // to a torn or reordered state, so the consistent index says what to replay.
  Totals totals;
  for (uint64_t seed = 10; seed < 10 + kSeedsPerMode; ++seed) {
    run_crash_cycles(GetParam(), seed, /*sync_every_commit=*/false, totals);
  }
  EXPECT_GT(totals.batches_acked, 20 * kCrashCyclesPerRun * static_cast<int>(kSeedsPerMode));
}

TEST_P(SqliteBackendCrash, GroupedTransactionsLoseOnlyWholeCommitsAfterTheLastSync) {
  // The member's mode (daemon and simulation): runs of applied entries share transactions
  // that span several runs and are fsynced only by sync(); a crash keeps a prefix of whole
  // batches, never a part of one, and never less than the last sync.
  Totals totals;
  for (uint64_t seed = 20; seed < 20 + kSeedsPerMode; ++seed) {
    run_crash_cycles(GetParam(), seed, /*sync_every_commit=*/false, totals, /*group_commits=*/true);
  }
  EXPECT_GT(totals.batches_acked, 20 * kCrashCyclesPerRun * static_cast<int>(kSeedsPerMode));
}

INSTANTIATE_TEST_SUITE_P(AllModes, SqliteBackendCrash,
                         ::testing::Values(sim::CrashMode::kDropAll, sim::CrashMode::kKeepAll,
                                           sim::CrashMode::kTorn, sim::CrashMode::kRandom),
                         [](const ::testing::TestParamInfo<sim::CrashMode>& info) {
                           return std::string(sim::crash_mode_name(info.param));
                         });

}  // namespace
}  // namespace lockstep::store
