#include "core/raft/invariants.h"

#include "core/base/random.h"

namespace lockstep::raft {

namespace {
std::string n(uint64_t value) {
  return std::to_string(value);
}
}  // namespace

InvariantChecker::EntryFingerprint InvariantChecker::fingerprint(const Entry& entry) {
  const uint64_t type_basis = fnv1a_64(std::string(1, static_cast<char>(entry.type)));
  return EntryFingerprint{entry.term, fnv1a_64(entry.data, type_basis)};
}

std::optional<std::string> InvariantChecker::check(const std::vector<NodeObservation>& nodes) {
  for (const NodeObservation& node : nodes) {
    if (auto violation = check_persisted_monotonic(node)) return violation;
    if (!node.running) continue;
    ASSERT(node.log != nullptr, "a running node's observation needs its log");
    if (auto violation = check_election_safety(node)) return violation;
    if (auto violation = check_commit_monotonic(node)) return violation;
    if (auto violation = check_log_matching(node)) return violation;
    if (auto violation = record_committed(node)) return violation;
  }
  for (const NodeObservation& node : nodes) {
    if (!node.running || node.role != RoleKind::kLeader) continue;
    if (auto violation = check_leader_completeness(node)) return violation;
  }
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::check_election_safety(const NodeObservation& node) {
  if (node.role != RoleKind::kLeader) return std::nullopt;
  auto [it, inserted] = leader_of_term_.emplace(node.term, node.id);
  if (!inserted && it->second != node.id) {
    return "Election Safety (Raft paper §5.2: at most one leader per term) violated: nodes " +
           n(it->second.value()) + " and " + n(node.id.value()) + " both led term " +
           n(node.term.value());
  }
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::check_persisted_monotonic(
    const NodeObservation& node) {
  auto [it, inserted] = persisted_.emplace(node.id, node.persisted);
  if (inserted) return std::nullopt;
  const HardState& before = it->second;
  const HardState& now = node.persisted;
  std::string prefix = "persisted state of node " + n(node.id.value()) + " regressed: ";
  if (now.term < before.term) {
    return prefix + "term " + n(before.term.value()) + " -> " + n(now.term.value()) +
           " (Figure 2: currentTerm only grows)";
  }
  if (now.term == before.term && before.vote != kNoNode && now.vote != before.vote) {
    return prefix + "vote in term " + n(now.term.value()) + " changed " + n(before.vote.value()) +
           " -> " + n(now.vote.value()) + " (Figure 2: votedFor, at most one vote per term)";
  }
  if (now.commit < before.commit) {
    return prefix + "commit " + n(before.commit.value()) + " -> " + n(now.commit.value());
  }
  it->second = now;
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::check_commit_monotonic(const NodeObservation& node) {
  VolatileBaseline& baseline = volatile_[node.id];
  if (baseline.incarnation != node.incarnation) {
    // A restart resumes from the persisted commit, which may trail the old in-memory one.
    baseline = VolatileBaseline{node.incarnation, node.commit};
    return std::nullopt;
  }
  if (node.commit < baseline.commit) {
    return "commit index of node " + n(node.id.value()) + " decreased " +
           n(baseline.commit.value()) + " -> " + n(node.commit.value());
  }
  baseline.commit = node.commit;
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::commit(LogIndex index, const EntryFingerprint& entry,
                                                    NodeId by, const char* how,
                                                    std::optional<Term> term) {
  if (term) commit_term_.emplace(index, *term);  // keeps the first (lowest) one seen
  auto [it, inserted] = committed_.emplace(index, entry);
  if (inserted) {
    committed_order_.push_back(index);
    return std::nullopt;
  }
  if (it->second == entry) return std::nullopt;
  return std::string("State Machine Safety (Raft paper §5.4.3) violated: node ") + n(by.value()) +
         " " + how + " index " + n(index.value()) + " with term " + n(entry.term.value()) +
         ", but an entry of term " + n(it->second.term.value()) +
         (it->second.term == entry.term ? " with different data" : "") +
         " was committed there before";
}

std::optional<std::string> InvariantChecker::record_committed(const NodeObservation& node) {
  LogIndex& recorded = recorded_commit_[node.id];
  if (node.commit <= recorded) return std::nullopt;
  for (LogIndex index = std::max(recorded.next(), node.log->first_index()); index <= node.commit;
       index = index.next()) {
    const Entry* entry = node.log->entry(index);
    if (entry == nullptr) {
      return "node " + n(node.id.value()) + " claims commit " + n(node.commit.value()) +
             " but holds no entry at " + n(index.value());
    }
    if (auto violation = commit(index, fingerprint(*entry), node.id, "committed", node.term)) {
      return violation;
    }
  }
  recorded = node.commit;
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::record_applied(NodeId node, const Entry& entry) {
  return commit(entry.index, fingerprint(entry), node, "applied", std::nullopt);
}

std::optional<std::string> InvariantChecker::check_log_matching(const NodeObservation& node) {
  const LogReader& log = *node.log;
  LogIndex start = log.first_index();
  // Resume after the last verified entry if it is still there unchanged (entries before it
  // can only change by replacing it too); otherwise rescan the whole log.
  auto verified = verified_.find(node.id);
  if (verified != verified_.end() && verified->second.incarnation == node.incarnation &&
      verified->second.index >= start && verified->second.index <= log.last_index()) {
    const Entry* entry = log.entry(verified->second.index);
    if (entry != nullptr && entry->term == verified->second.term &&
        fingerprint(*entry).data_hash == verified->second.data_hash) {
      start = verified->second.index.next();
    }
  }
  std::optional<Term> previous_term = log.term(start.previous());
  for (LogIndex index = start; index <= log.last_index(); index = index.next()) {
    const Entry* entry = log.entry(index);
    ASSERT(entry != nullptr, "entries between first and last index exist");
    if (entry->index != index) {
      return "node " + n(node.id.value()) + " holds entry " + n(entry->index.value()) +
             " at log position " + n(index.value());
    }
    if (previous_term && entry->term < *previous_term) {
      return "node " + n(node.id.value()) + " log terms decrease at index " + n(index.value());
    }
    const uint64_t data_hash = fingerprint(*entry).data_hash;
    auto [it, inserted] =
        seen_entries_.emplace(std::pair{index, entry->term}, SeenEntry{previous_term, data_hash});
    if (!inserted) {
      SeenEntry& seen = it->second;
      const bool data_differs = seen.data_hash != data_hash;
      const bool prefix_differs =
          previous_term && seen.previous_term && *seen.previous_term != *previous_term;
      if (data_differs || prefix_differs) {
        return "Log Matching (Raft paper §5.3) violated: node " + n(node.id.value()) +
               " holds an entry at index " + n(index.value()) + " term " + n(entry->term.value()) +
               " that differs from another log's entry there in " +
               (data_differs ? "its data" : "the term before it");
      }
      if (!seen.previous_term) seen.previous_term = previous_term;
    }
    previous_term = entry->term;
  }
  if (const Entry* last = log.entry(log.last_index())) {
    verified_[node.id] =
        Verified{node.incarnation, last->index, last->term, fingerprint(*last).data_hash};
  }
  return std::nullopt;
}

std::optional<std::string> InvariantChecker::check_leader_completeness(
    const NodeObservation& node) {
  size_t& checked = leader_checked_[{node.id, node.term}];
  for (; checked < committed_order_.size(); ++checked) {
    const LogIndex index = committed_order_[checked];
    const EntryFingerprint& entry = committed_.at(index);
    // Thesis §3.6.3: an entry committed in term T is in the log of every leader of a term
    // above T. T is the term it was *committed* in, not the entry's own term: in Figure 8 (e)
    // a term-2 entry is committed in term 4, and the deposed leader of term 3, cut off and
    // still leading in its own eyes, rightly lacks it.
    auto commit_term = commit_term_.find(index);
    // Seen only as applied so far: wait until a check() sees it committed, and its term.
    if (commit_term == commit_term_.end()) break;
    if (commit_term->second >= node.term) continue;
    if (index < node.log->first_index()) continue;  // compacted: covered by the snapshot
    const Entry* held = node.log->entry(index);
    if (held == nullptr || fingerprint(*held) != entry) {
      return "Leader Completeness (Raft paper §5.4) violated: leader " + n(node.id.value()) +
             " of term " + n(node.term.value()) + " lacks the entry of term " +
             n(entry.term.value()) + " committed at index " + n(index.value()) + " in term " +
             n(commit_term->second.value());
    }
  }
  return std::nullopt;
}

}  // namespace lockstep::raft
