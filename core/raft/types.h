#pragma once

#include <string>
#include <vector>

#include "core/base/ids.h"

namespace lockstep::raft {

// The data types Raft shares with its callers (persistence in store/, transport in
// core/node). Field meanings follow etcd's raftpb so readers of etcd feel at home.

enum class EntryType : uint8_t {
  kNormal = 0,
  kConfChange = 1,  // data holds an encoded ConfChange (see conf_change.h)
};

struct Entry {
  Term term{};
  LogIndex index{};
  EntryType type = EntryType::kNormal;
  std::string data{};

  bool operator==(const Entry&) const = default;
};

// What must be on stable storage before any message that depends on it is sent
// (Raft paper Figure 2: currentTerm, votedFor; commit is kept to speed up restart).
struct HardState {
  Term term{};
  NodeId vote{};  // kNoNode when no vote was cast in `term`
  LogIndex commit{};

  bool operator==(const HardState&) const = default;
};

// The membership configuration (thesis §4.3 joint consensus: voters_outgoing is non-empty
// while a joint configuration is in effect).
struct ConfState {
  std::vector<NodeId> voters{};
  std::vector<NodeId> learners{};
  std::vector<NodeId> voters_outgoing{};
  std::vector<NodeId> learners_next{};
  bool auto_leave = false;

  bool operator==(const ConfState&) const = default;
};

struct SnapshotMetadata {
  LogIndex index{};  // last log index the snapshot covers
  Term term{};       // term of that entry
  ConfState conf_state{};

  bool operator==(const SnapshotMetadata&) const = default;
};

struct Snapshot {
  SnapshotMetadata metadata{};
  std::string data{};  // the application's state machine image, opaque to Raft

  bool empty() const { return metadata.index == LogIndex{0}; }
  bool operator==(const Snapshot&) const = default;
};

}  // namespace lockstep::raft
