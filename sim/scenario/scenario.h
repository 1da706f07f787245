#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cluster/backend_kind.h"
#include "sim/crash_mode.h"

namespace lockstep::sim::scenario {

// A scenario file (scenarios/README.md, scenarios/scenario.schema.json) as data. Durations
// are whole milliseconds or microseconds of virtual time, as in the file, so that a parsed
// scenario written back (shrinker, report) is the same file.

struct ClusterSpec {
  int members = 5;
  int tick_ms = 10;
  int election_timeout_ticks = 10;
  int heartbeat_interval_ticks = 1;
  uint64_t snapshot_count = 500;
  uint64_t snapshot_catch_up_entries = 100;
  int request_timeout_ms = 1000;
  // Entry bytes per AppendEntries (etcd's MaxSizePerMsg, 1 MiB); 1 = one entry per message,
  // so a follower catches up entry by entry and can hold part of a leader's tail.
  uint64_t max_append_bytes = 1024 * 1024;
  // "sqlite" (the production backend on the simulated disk) or "memory" (fast, not crash-
  // tested: rebuilt from the Raft log at each restart).
  BackendKind backend = BackendKind::kSqlite;

  bool operator==(const ClusterSpec&) const = default;
};

struct NetworkSpec {
  int64_t latency_min_us = 500;
  int64_t jitter_mean_us = 500;
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;
  int64_t reorder_delay_max_us = 5000;

  bool operator==(const NetworkSpec&) const = default;
};

struct DiskSpec {
  int64_t latency_min_us = 0;
  int64_t latency_max_us = 0;
  CrashMode crash_mode = CrashMode::kTorn;  // what a `crash` fault without a mode does

  bool operator==(const DiskSpec&) const = default;
};

struct WorkloadSpec {
  std::string type;  // kv, txn, watch, lease, lock, election, config
  int clients = 3;

  bool operator==(const WorkloadSpec&) const = default;
};

enum class FaultAction : uint8_t {
  kCrash,
  kRestart,
  kPause,
  kResume,
  kPartition,        // cuts the target group off from the other members
  kPartitionOneWay,  // cuts messages from `target` to `to` only
  kHeal,             // removes every cut and clog
  kClog,             // holds messages from the target to every other member for duration
  kNetwork,          // changes loss / duplicate / reorder on every path
  kDiskWriteError,   // EIO from writes with `probability` (or the next `count` writes)
  kDiskFsyncError,   // EIO from fsync likewise
  kDiskFull,         // ENOSPC beyond current usage + `bytes`
  kDiskBitFlip,      // flips one durable bit in each file of the target's data directory
  kDiskRepair,       // clears every disk fault of the target
  kClockOffset,      // sets the target's clock offset to `offset_ms`
  kClockJump,        // jumps the target's clock by `offset_ms`
  kClockDrift,       // sets the target's drift to `drift_ppm`
  kRemoveMember,     // MemberRemove through the cluster's API
  kAddMember,        // MemberAdd of a new learner through the API, then its process starts
  kPromoteMember,    // MemberPromote of a learner (default: the latest one added)
};
std::string_view fault_action_name(FaultAction action);
std::optional<FaultAction> parse_fault_action(std::string_view name);
std::vector<std::string_view> fault_action_names();

// What a fault can be triggered by (`on`) instead of a time: an event of the cluster, seen
// in the members' own reports at the instant it happens (Jepsen's nemeses that watch the
// cluster; faults timed to elections or commits, which fixed times hit only by luck).
enum class FaultEvent : uint8_t {
  kLeaderElected,    // a member became the leader of a term
  kLeaderCommitted,  // a leader applied its first committed entry since its election
};
std::string_view fault_event_name(FaultEvent event);
std::optional<FaultEvent> parse_fault_event(std::string_view name);
std::vector<std::string_view> fault_event_names();

// Who a fault hits, resolved when it fires (the leader at that moment, ...).
struct FaultTarget {
  enum class Kind : uint8_t {
    kLeader,
    kFollower,
    kMinority,
    kMajority,
    kNode,
    kRandom,
    kAll,
    kPreviousLeader,  // the leader of the latest term before the current leader's
    kEventMember,     // the member the triggering event is about (faults with `on` only)
  };
  Kind kind = Kind::kRandom;
  uint64_t node = 0;  // for kNode

  bool operator==(const FaultTarget&) const = default;
};
std::string target_name(const FaultTarget& target);
std::optional<FaultTarget> parse_target(std::string_view text);

struct FaultSpec {
  int64_t at_ms = 0;
  FaultAction action = FaultAction::kCrash;
  FaultTarget target;
  // Undo the fault this long after it fired (restart, resume, heal, repair, clock back);
  // 0 = until the heal phase starts.
  int64_t duration_ms = 0;
  std::optional<CrashMode> crash_mode = std::nullopt;  // crash
  std::optional<FaultTarget> to = std::nullopt;        // partition_one_way
  std::optional<double> loss = std::nullopt;           // network
  std::optional<double> duplicate = std::nullopt;      // network
  std::optional<double> reorder = std::nullopt;        // network
  double probability = 0;                              // disk_write_error / disk_fsync_error
  uint32_t count = 0;                                  // disk_write_error / disk_fsync_error
  uint64_t bytes = 0;                                  // disk_full
  int64_t offset_ms = 0;                               // clock_offset / clock_jump
  int64_t drift_ppm = 0;                               // clock_drift
  // Event trigger: instead of at at_ms, the fault fires (once) delay_ms after the
  // `occurrence`-th `on` event at or after at_ms, if that comes before the heal.
  std::optional<FaultEvent> on = std::nullopt;
  uint32_t occurrence = 1;
  int64_t delay_ms = 0;

  bool operator==(const FaultSpec&) const = default;
};

// The checks a scenario may require.
inline constexpr std::string_view kCheckLinearizability = "linearizability";
inline constexpr std::string_view kCheckRaftSafety = "raft_safety";
inline constexpr std::string_view kCheckLiveness = "liveness";
inline constexpr std::string_view kCheckConvergence = "convergence";
inline constexpr std::string_view kCheckWorkloads = "workloads";
std::vector<std::string_view> check_names();

struct Scenario {
  std::string name;
  std::string description;
  ClusterSpec cluster;
  NetworkSpec network;
  DiskSpec disk;
  std::vector<WorkloadSpec> workloads;
  // Phase 1 (safety): clients and faults for duration_ms. Phase 2 (liveness): every fault
  // healed, clients keep going for heal_ms and a write must succeed within liveness_bound_ms.
  int64_t duration_ms = 10'000;
  int64_t heal_ms = 5'000;
  int64_t liveness_bound_ms = 4'000;
  std::vector<FaultSpec> faults;
  // Draw the fault schedule and knobs from the seed instead of `faults` (swarm testing).
  bool swarm = false;
  std::vector<std::string> checks;  // empty = all of check_names()
  bool buggify = false;

  bool operator==(const Scenario&) const = default;
  bool requires_check(std::string_view check) const;
};

}  // namespace lockstep::sim::scenario
