#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"

namespace lockstep::raft {

// A membership change as carried in a kConfChange entry. The shape follows etcd's
// ConfChangeV2 so that both single-member changes and joint consensus (thesis §4.3) use one
// type: a change with at most one voter added or removed is applied directly; a change
// touching several voters enters a joint configuration, and a change with no items leaves it.
// Numeric values match etcd's raftpb.ConfChangeType / ConfChangeTransition.
enum class ConfChangeType : uint8_t {
  kAddNode = 0,
  kRemoveNode = 1,
  // Leaves the configuration as it is: etcd replicates a member's new peer URLs in the
  // context of such a change (etcdctl member update), for the application alone.
  kUpdateNode = 2,
  kAddLearnerNode = 3,
};

enum class ConfChangeTransition : uint8_t {
  // One voter change: applied directly. Several: joint consensus, left automatically.
  kAuto = 0,
  // Always joint consensus, left automatically once the joint configuration is applied.
  kJointImplicit = 1,
  // Always joint consensus; the application proposes the leave (an empty change) itself.
  kJointExplicit = 2,
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddNode;
  NodeId node{};

  bool operator==(const ConfChangeSingle&) const = default;
};

struct ConfChange {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes{};
  std::string context{};  // opaque to Raft (etcd puts the member's URLs here)

  // An empty change is the request to leave a joint configuration (etcd's LeaveJoint()).
  bool leaves_joint() const { return changes.empty(); }
  bool operator==(const ConfChange&) const = default;
};

}  // namespace lockstep::raft
