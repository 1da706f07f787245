// Crash-recovery property test of the WAL + snapshot files on the simulated disk (sim/'s
// SimDisk): a member saves a Raft-shaped workload, the world cuts power at a random virtual
// instant — usually in the middle of a write or an fsync, because every disk operation takes
// virtual time — under each crash mode, and the member restarts. The durability contract
// checked after every restart:
//   - everything save() acknowledged is there (no acknowledged write is lost), and
//   - the state is exactly what some prefix of the written records describes: the acked
//     state, or it plus a prefix of the one save that was in flight (nothing invented, nothing
//     reordered).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "sim/world.h"
#include "store/raft_persistence.h"

namespace lockstep::store {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr NodeId kMember{1};
constexpr int kCrashCyclesPerRun = 6;
constexpr uint64_t kSeedsPerMode = 12;

// The state a member should find, in Raft's terms.
struct ModelState {
  raft::HardState hard_state;
  raft::Snapshot snapshot;
  std::map<uint64_t, raft::Entry> log;  // entries after the snapshot (or all, without one)

  LogIndex last_index() const {
    return log.empty() ? snapshot.metadata.index : LogIndex(log.rbegin()->first);
  }
  std::vector<raft::Entry> entries() const {
    std::vector<raft::Entry> out;
    for (const auto& [index, entry] : log) out.push_back(entry);
    return out;
  }
  bool matches(const RaftRecoveredState& recovered) const {
    return recovered.hard_state == hard_state && recovered.snapshot == snapshot &&
           recovered.entries == entries();
  }
};

// One save() call (and an optional release_through() after it is acknowledged).
struct SaveCall {
  raft::HardState hard_state;
  std::vector<raft::Entry> entries;
  raft::Snapshot snapshot;
  bool release_after = false;
};

// Applying records in the order save() writes them, with Raft's rules: a snapshot keeps the
// entries after it only when the log holds its last entry (thesis §5.1), and an entry
// replaces the one at its index and everything after (Raft paper §5.3).
void apply_snapshot(ModelState& state, const raft::Snapshot& snapshot) {
  const uint64_t index = snapshot.metadata.index.value();
  auto found = state.log.find(index);
  if (found != state.log.end() && found->second.term == snapshot.metadata.term) {
    state.log.erase(state.log.begin(), std::next(found));
  } else {
    state.log.clear();
  }
  state.snapshot = snapshot;
}

void apply_entry(ModelState& state, const raft::Entry& entry) {
  state.log.erase(state.log.lower_bound(entry.index.value()), state.log.end());
  state.log[entry.index.value()] = entry;
}

// Every state a crash during `call` may leave: the state before it, then one more record
// at a time.
std::vector<ModelState> states_during(const ModelState& before, const SaveCall& call) {
  std::vector<ModelState> states{before};
  ModelState state = before;
  if (!call.snapshot.empty()) {
    apply_snapshot(state, call.snapshot);
    states.push_back(state);
  }
  if (call.hard_state != raft::HardState{}) {
    state.hard_state = call.hard_state;
    states.push_back(state);
  }
  for (const raft::Entry& entry : call.entries) {
    apply_entry(state, entry);
    states.push_back(state);
  }
  return states;
}

ModelState after(const ModelState& before, const SaveCall& call) {
  return states_during(before, call).back();
}

std::vector<raft::Entry> make_entries(uint64_t first, uint64_t count, Term term, Random& random) {
  std::vector<raft::Entry> out;
  for (uint64_t index = first; index < first + count; ++index) {
    std::string data(random.below(300), static_cast<char>('a' + index % 26));
    out.push_back(raft::Entry{term, LogIndex(index), raft::EntryType::kNormal, std::move(data)});
  }
  return out;
}

// Draws the next save() a Raft member could make from `state` (the acknowledged state).
SaveCall next_call(const ModelState& state, Random& random) {
  const Term term = state.hard_state.term == Term(0) ? Term(1) : state.hard_state.term;
  const LogIndex last = state.last_index();
  const LogIndex commit = std::max(state.hard_state.commit, state.snapshot.metadata.index);
  SaveCall call;
  const uint64_t kind = random.below(100);
  if (kind < 55 || last == LogIndex(0)) {  // append as leader or follower
    call.entries = make_entries(last.value() + 1, 1 + random.below(8), term, random);
    const uint64_t new_commit = commit.value() + random.below(last.value() - commit.value() + 2);
    call.hard_state = raft::HardState{term, NodeId(1), LogIndex(new_commit)};
  } else if (kind < 65 && commit < last) {  // a new leader overwrites the uncommitted tail
    const Term new_term = term.next();
    const uint64_t from = commit.value() + 1 + random.below(last.value() - commit.value());
    call.entries = make_entries(from, 1 + random.below(4), new_term, random);
    call.hard_state = raft::HardState{new_term, NodeId(2), commit};
  } else if (kind < 77 && commit > state.snapshot.metadata.index &&
             state.log.contains(commit.value())) {
    // A local snapshot at the commit index, then the log before it is released.
    call.snapshot.metadata.index = commit;
    call.snapshot.metadata.term = state.log.at(commit.value()).term;
    call.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
    call.snapshot.data = "image@" + std::to_string(commit.value());
    call.release_after = true;
  } else if (kind < 82) {  // the leader sends a snapshot beyond our log
    const Term new_term = term.next();
    const LogIndex index(last.value() + 1 + random.below(5));
    call.snapshot.metadata.index = index;
    call.snapshot.metadata.term = new_term;
    call.snapshot.data = "installed@" + std::to_string(index.value());
    call.hard_state = raft::HardState{new_term, NodeId(0), index};
    call.entries = make_entries(index.value() + 1, random.below(3), new_term, random);
  } else {  // a vote or a term bump only; sometimes nothing but entries
    call.hard_state = raft::HardState{term.next(), NodeId(1 + random.below(3)), commit};
    if (random.chance(0.3)) {
      call.hard_state = raft::HardState{};
      call.entries = make_entries(last.value() + 1, 1, term, random);
    }
  }
  return call;
}

// What the test observes across incarnations of the member (it outlives crashes).
struct Harness {
  Random random{0};
  ModelState acked;
  std::optional<SaveCall> in_flight;
  std::vector<ModelState> allowed_after_crash{ModelState{}};
  int restarts_checked = 0;
  int torn_tails_cut = 0;
  int open_io_failures = 0;
  int saves_acked = 0;
  std::vector<std::string> failures;
};

void member_main(env::Runtime& runtime, Harness& harness) {
  RaftPersistenceOptions options;
  options.wal_segment_bytes = 16 * 1024;  // small, so that crashes land in rollovers too
  Result<std::unique_ptr<RaftPersistence>> opened = RaftPersistence::open(runtime.disk(), options);
  if (!opened && opened.code() == ErrorCode::kIoError) {
    harness.open_io_failures++;  // an injected fsync failure during recovery: retried later
    return;
  }
  if (!opened) {
    harness.failures.push_back("open failed after a crash: " + opened.status().to_string());
    return;
  }
  RaftPersistence& persistence = **opened;
  RaftRecoveredState recovered = *persistence.load();
  const auto match =
      std::find_if(harness.allowed_after_crash.begin(), harness.allowed_after_crash.end(),
                   [&](const ModelState& state) { return state.matches(recovered); });
  if (match == harness.allowed_after_crash.end()) {
    harness.failures.push_back(
        "recovered state is not the acked state or a prefix of the save "
        "in flight (last index " +
        std::to_string(recovered.entries.empty() ? recovered.snapshot.metadata.index.value()
                                                 : recovered.entries.back().index.value()) +
        ", acked last index " + std::to_string(harness.acked.last_index().value()) + ")");
    return;
  }
  harness.acked = *match;
  harness.restarts_checked++;
  for (const std::string& note : recovered.notes) {
    if (note.find("torn tail") != std::string::npos) harness.torn_tails_cut++;
  }
  harness.in_flight.reset();
  while (true) {
    SaveCall call = next_call(harness.acked, harness.random);
    harness.in_flight = call;
    harness.allowed_after_crash = states_during(harness.acked, call);
    const Status saved = persistence.save(call.hard_state, call.entries, call.snapshot);
    if (!saved) return;  // a failed fsync: the member stops (etcd panics) and waits for a crash
    harness.acked = after(harness.acked, call);
    harness.saves_acked++;
    harness.allowed_after_crash = {harness.acked};
    harness.in_flight.reset();
    if (call.release_after) {
      if (!persistence.release_through(call.snapshot.metadata.index)) return;
    }
  }
}

int total_restarts_checked = 0;
int total_torn_tails_cut = 0;
int total_saves_acked = 0;

void run_crash_cycles(sim::CrashMode mode, uint64_t seed, double sync_error_probability) {
  sim::World world(sim::WorldOptions::seeded(seed));
  Harness harness;
  harness.random = Random(seed).stream("store-workload");
  ASSERT_TRUE(world
                  .add_process(kMember, "member",
                               [&](env::Runtime& runtime) { member_main(runtime, harness); })
                  .is_ok());
  sim::DiskFaults& faults = world.disk_faults(kMember);
  faults.latency_min = microseconds(10);
  faults.latency_max = microseconds(300);
  faults.sync_error_probability = sync_error_probability;
  // Crashes land anywhere, including inside recovery itself (cutting a torn tail, removing a
  // leftover temporary file), which must be just as safe to interrupt.
  for (int cycle = 0; cycle < kCrashCyclesPerRun; ++cycle) {
    world.run_for(microseconds(500 + harness.random.below(200'000)));
    world.crash(kMember, mode);
    ASSERT_TRUE(world.restart(kMember).is_ok());
    ASSERT_TRUE(harness.failures.empty())
        << "mode " << sim::crash_mode_name(mode) << " seed " << seed << " cycle " << cycle << ": "
        << harness.failures.front();
  }
  // A last restart without fsync errors, so that recovery completes and is checked.
  world.crash(kMember, mode);
  faults.sync_error_probability = 0;
  ASSERT_TRUE(world.restart(kMember).is_ok());
  const int checked_before = harness.restarts_checked;
  ASSERT_TRUE(world.run_until(
      [&] { return harness.restarts_checked > checked_before || !harness.failures.empty(); },
      world.now() + std::chrono::seconds(10)));
  ASSERT_TRUE(harness.failures.empty()) << "mode " << sim::crash_mode_name(mode) << " seed " << seed
                                        << ": " << harness.failures.front();
  EXPECT_GE(harness.restarts_checked + harness.open_io_failures, 2)
      << "the member recovered more than once";
  total_restarts_checked += harness.restarts_checked;
  total_torn_tails_cut += harness.torn_tails_cut;
  total_saves_acked += harness.saves_acked;
}

class RaftPersistenceCrash : public ::testing::TestWithParam<sim::CrashMode> {};

TEST_P(RaftPersistenceCrash, AcknowledgedStateSurvivesAndNothingElseAppears) {
  total_restarts_checked = total_torn_tails_cut = total_saves_acked = 0;
  for (uint64_t seed = 1; seed <= kSeedsPerMode; ++seed) {
    run_crash_cycles(GetParam(), seed, /*sync_error_probability=*/0);
  }
  std::printf("%s: %d saves acknowledged, %d restarts checked, %d torn tails cut\n",
              std::string(sim::crash_mode_name(GetParam())).c_str(), total_saves_acked,
              total_restarts_checked, total_torn_tails_cut);
  // The workload must reach the interesting places, or the test proves nothing.
  EXPECT_GT(total_saves_acked, 20 * kCrashCyclesPerRun * static_cast<int>(kSeedsPerMode));
  if (GetParam() == sim::CrashMode::kTorn || GetParam() == sim::CrashMode::kRandom) {
    EXPECT_GT(total_torn_tails_cut, 0) << "torn writes were recovered at least once";
  }
}

TEST_P(RaftPersistenceCrash, FailedFsyncsLoseOnlyUnacknowledgedWrites) {
  // Linux marks pages clean after a failed fsync ("fsyncgate"): the member must treat the
  // failure as final, and recovery must still find every acknowledged write.
  for (uint64_t seed = 100; seed < 100 + kSeedsPerMode / 2; ++seed) {
    run_crash_cycles(GetParam(), seed, /*sync_error_probability=*/0.02);
  }
}

TEST(RaftPersistenceBitFlip, FlipInTheMiddleOfTheLogStopsTheMemberWithFileAndOffset) {
  // At-rest rot is not a torn tail: the damaged record is followed by records written after it
  // was synced, so recovery must refuse to start rather than silently drop acknowledged data.
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    sim::World world(sim::WorldOptions::seeded(seed));
    Random random = Random(seed).stream("bit-flip");
    int saves = 0;
    std::optional<Status> reopen_status;
    ASSERT_TRUE(
        world
            .add_process(kMember, "member",
                         [&](env::Runtime& runtime) {
                           RaftPersistenceOptions options;
                           // Odd seeds: one big segment, so the flip lands in the final
                           // segment with later synced batches after it. Even seeds:
                           // small segments, and the flip lands in a sealed one.
                           options.wal_segment_bytes = seed % 2 == 1 ? 1024 * 1024 : 8 * 1024;
                           auto opened = RaftPersistence::open(runtime.disk(), options);
                           if (saves > 0) {  // the restart after the flip
                             reopen_status = opened.status();
                             return;
                           }
                           ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
                           for (uint64_t batch = 0; batch < 60; ++batch) {
                             ASSERT_TRUE((*opened)
                                             ->save({Term(1), NodeId(1), LogIndex(batch)},
                                                    make_entries(batch * 4 + 1, 4, Term(1), random),
                                                    {})
                                             .is_ok());
                             ++saves;
                           }
                         })
            .is_ok());
    world.run_for(std::chrono::seconds(1));
    ASSERT_EQ(saves, 60);
    world.crash(kMember, sim::CrashMode::kDropAll);
    const std::vector<std::string> segments = *world.disk(kMember).list("wal");
    ASSERT_EQ(segments.size() > 1, seed % 2 == 0);
    const std::string& victim = segments[segments.size() / 2 - (segments.size() > 1 ? 1 : 0)];
    const uint64_t size = world.disk(kMember).durable_contents(victim)->size();
    ASSERT_TRUE(world.disk(kMember).flip_bit(victim, (size / 2) * 8 + random.below(8)).is_ok());
    ASSERT_TRUE(world.restart(kMember).is_ok());
    world.run_for(std::chrono::seconds(1));
    ASSERT_TRUE(reopen_status.has_value());
    EXPECT_EQ(error_name(reopen_status->code()), error_name(ErrorCode::kDataCorruption))
        << "seed " << seed << " flipped " << victim << " of " << size
        << " bytes: " << reopen_status->to_string();
    EXPECT_NE(reopen_status->to_string().find(victim), std::string::npos)
        << reopen_status->to_string();
    EXPECT_NE(reopen_status->to_string().find("offset"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, RaftPersistenceCrash,
                         ::testing::Values(sim::CrashMode::kDropAll, sim::CrashMode::kKeepAll,
                                           sim::CrashMode::kTorn, sim::CrashMode::kRandom),
                         [](const ::testing::TestParamInfo<sim::CrashMode>& info) {
                           return std::string(sim::crash_mode_name(info.param));
                         });

}  // namespace
}  // namespace lockstep::store
