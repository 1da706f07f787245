#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/raft/raft.h"
#include "core/raft/raft_log.h"
#include "core/raft/types.h"

namespace lockstep::raft {

// What a harness can observe of one node after a step.
struct NodeObservation {
  NodeId id{};
  // Bumped by the harness on every restart: volatile state (commit) may legitimately go back
  // to its persisted value across a crash, persisted state may not.
  uint64_t incarnation = 0;
  bool running = true;  // a crashed node contributes its persisted state only
  RoleKind role = RoleKind::kFollower;
  Term term{};
  LogIndex commit{};
  HardState persisted{};           // what stable storage holds
  const LogReader* log = nullptr;  // the node's log (may include unpersisted entries)
};

// Checks the safety properties of Raft (paper Figure 3, thesis §3.6.3) over a group of
// nodes, step by step, keeping the history it needs (leaders per term, committed entries).
// Returns a description of the first violation instead of crashing, so a simulator can
// report it with its trace and seed. Work per check is linear in the observed logs.
class InvariantChecker {
 public:
  std::optional<std::string> check(const std::vector<NodeObservation>& nodes);
  // State Machine Safety: every node applies the same entry at a given index.
  std::optional<std::string> record_applied(NodeId node, const Entry& entry);

  size_t committed_entries() const { return committed_.size(); }

 private:
  struct EntryFingerprint {
    Term term{};
    uint64_t data_hash = 0;
    bool operator==(const EntryFingerprint&) const = default;
  };
  struct VolatileBaseline {
    uint64_t incarnation = 0;
    LogIndex commit{};
  };

  static EntryFingerprint fingerprint(const Entry& entry);
  std::optional<std::string> check_election_safety(const NodeObservation& node);
  std::optional<std::string> check_persisted_monotonic(const NodeObservation& node);
  std::optional<std::string> check_commit_monotonic(const NodeObservation& node);
  std::optional<std::string> record_committed(const NodeObservation& node);
  std::optional<std::string> check_log_matching(const NodeObservation& node);
  std::optional<std::string> check_leader_completeness(const NodeObservation& node);
  // `term` is the observer's current term when known (an upper bound of the term the entry
  // was committed in); an applied entry's commit term is unknown until a check() sees it.
  std::optional<std::string> commit(LogIndex index, const EntryFingerprint& entry, NodeId by,
                                    const char* how, std::optional<Term> term);

  std::map<Term, NodeId> leader_of_term_;
  std::map<NodeId, HardState> persisted_;
  std::map<NodeId, VolatileBaseline> volatile_;
  // The highest index each node's commits were recorded up to.
  std::map<NodeId, LogIndex> recorded_commit_;
  // Committed entries by index, plus the order they were learned in (for incremental
  // Leader Completeness checks).
  std::map<LogIndex, EntryFingerprint> committed_;
  std::vector<LogIndex> committed_order_;
  // The term each committed index was first seen committed in: the term of the first node
  // observed with a commit index covering it (the committing leader, when the harness checks
  // after every step). Leader Completeness concerns leaders of later terms only.
  std::map<LogIndex, Term> commit_term_;
  // Every (index, term) seen in any log, with the term before it and its data: Log
  // Matching holds iff all logs agree with this map.
  struct SeenEntry {
    std::optional<Term> previous_term;  // unknown when first seen at a log's compaction point
    uint64_t data_hash = 0;
  };
  std::map<std::pair<LogIndex, Term>, SeenEntry> seen_entries_;
  // Per node, the last log position already checked for Log Matching, so each check only
  // scans what changed (new or replaced entries): linear work per step, not per log.
  struct Verified {
    uint64_t incarnation = 0;
    LogIndex index{};
    Term term{};
    uint64_t data_hash = 0;
  };
  std::map<NodeId, Verified> verified_;
  // For each (leader, term): how much of committed_order_ was already checked.
  std::map<std::pair<NodeId, Term>, size_t> leader_checked_;
};

}  // namespace lockstep::raft
