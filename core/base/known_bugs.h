#pragma once

#include <optional>
#include <string_view>
#include <vector>

// Planted bugs for the framework's self-test: a testing framework must prove it finds bugs,
// so a build configured with -DLOCKSTEP_KNOWN_BUGS=ON (never Release; see the root
// CMakeLists.txt) carries small, marked hunks next to the correct code, each switched on at
// run time by `lockstep sim hunt --bug NAME` or a test. Without that option every
// known_bug_active() call is a constant false and the compiler removes the hunks, so normal
// builds carry nothing.

namespace lockstep {

enum class KnownBug : int {
  // Raft: a vote is granted but not recorded, so the voter can vote again in the same term
  // (the vote never reaches the persisted hard state; Raft paper Figure 2 "votedFor").
  kVoteNotRecorded,
  // Raft: the leader commits an entry of an earlier term by counting replicas (paper
  // Figure 8; thesis §3.6.2 forbids it).
  kCommitEarlierTermByCounting,
  // Raft: the leader answers linearizable reads from its own commit index without the
  // ReadIndex heartbeat round (thesis §6.4), so a deposed leader serves stale reads.
  kReadWithoutReadIndex,
  // Store: the WAL reports a batch durable without fsync, so acknowledged entries and votes
  // vanish in a crash.
  kAckBeforeFsync,
  // MVCC: a watcher that fell behind a compaction silently skips to the compaction revision
  // instead of being canceled (etcd cancels with ErrCompacted), dropping events.
  kWatchDropAtCompaction,
  // Node: a follower decides lease expiry on its own clock (etcd: only the primary lessor,
  // the leader's, has deadlines) and proposes revokes for leases kept alive at the leader.
  kLeaseExpiryOnFollowerClock,
  // Raft: a follower keeps its stale suffix when the leader's entries conflict with it
  // (paper Figure 2, AppendEntries receiver step 3) and appends only past its last index.
  kStaleLogNotTruncated,
};

inline constexpr int kKnownBugCount = 7;

std::string_view known_bug_name(KnownBug bug);
std::optional<KnownBug> parse_known_bug(std::string_view name);
std::vector<KnownBug> all_known_bugs();

#ifdef LOCKSTEP_KNOWN_BUGS
inline constexpr bool kKnownBugsCompiledIn = true;
bool known_bug_active(KnownBug bug);
// A process-wide switch, set once before a run starts (by the hunt command or a test) and
// only read during the run. It is global on purpose: the bug sites are deep inside
// raft/mvcc/store code that must not grow a parameter for a self-test, and a seed's run is
// single-threaded, so the setting cannot change under a running simulation.
void set_active_known_bug(std::optional<KnownBug> bug);
// The bug switched on, if any (so that a failure report can say how to replay it).
std::optional<KnownBug> active_known_bug();
#else
inline constexpr bool kKnownBugsCompiledIn = false;
constexpr bool known_bug_active(KnownBug) {
  return false;
}
// Nothing to switch on: callers (the hunt command) refuse to run in such a build.
inline void set_active_known_bug(std::optional<KnownBug>) {}
inline std::optional<KnownBug> active_known_bug() {
  return std::nullopt;
}
#endif

}  // namespace lockstep
