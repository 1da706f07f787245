// Randomised tests: 3-7 node clusters under message loss, reordering, duplication,
// partitions, crashes (including crashes between persisting a Ready and sending it) and
// restarts from persisted state only, with membership changes, compaction, transfers and
// reads mixed in. The invariant checker runs after every step; after the faults stop and
// the network heals, a leader must be elected and a proposal committed.
//
// Case count: RapidCheck's default (100) unless RC_PARAMS says otherwise, e.g.
//   RC_PARAMS="max_success=2000" ./lockstep_core_raft_property_tests   (a longer soak)
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <ostream>

#include "core/raft/testing/raft_cluster.h"

namespace lockstep::raft {
namespace {

using testing::ClusterOptions;
using testing::RaftCluster;

enum class OpKind : uint8_t {
  kTick,
  kTickAll,
  kDeliver,
  kDeliverAll,
  kDrop,
  kDuplicate,
  kProcessReady,
  kPropose,
  kCrash,
  kCrashAfterPersist,
  kCrashLeader,
  kIsolateLeader,
  kRestart,
  kPartition,
  kHeal,
  kCompact,
  kConfChange,
  kTransfer,
  kReadIndex,
  kCampaign,
};

struct Op {
  OpKind kind = OpKind::kTick;
  uint32_t a = 0;
  uint32_t b = 0;
};

constexpr const char* kOpNames[] = {
    "tick",         "tick-all",       "deliver",  "deliver-all", "drop",
    "duplicate",    "process-ready",  "propose",  "crash",       "crash-after-persist",
    "crash-leader", "isolate-leader", "restart",  "partition",   "heal",
    "compact",      "conf-change",    "transfer", "read-index",  "campaign"};

std::ostream& operator<<(std::ostream& out, const Op& op) {
  return out << kOpNames[static_cast<size_t>(op.kind)] << "(" << op.a << "," << op.b << ")";
}

rc::Gen<Op> op_generator() {
  // Weights favour delivery and ticks so elections and replication make progress between
  // faults; faults are frequent enough to matter in a few hundred steps.
  rc::Gen<OpKind> kind = rc::gen::weightedElement<OpKind>({
      {40, OpKind::kDeliver},      {10, OpKind::kTick},
      {8, OpKind::kTickAll},       {3, OpKind::kDeliverAll},
      {14, OpKind::kProcessReady}, {12, OpKind::kPropose},
      {3, OpKind::kDrop},          {2, OpKind::kDuplicate},
      {2, OpKind::kCrash},         {1, OpKind::kCrashAfterPersist},
      {2, OpKind::kCrashLeader},   {1, OpKind::kIsolateLeader},
      {6, OpKind::kRestart},       {1, OpKind::kPartition},
      {4, OpKind::kHeal},          {2, OpKind::kCompact},
      {2, OpKind::kConfChange},    {1, OpKind::kTransfer},
      {2, OpKind::kReadIndex},     {1, OpKind::kCampaign},
  });
  // Uniform choices (not size-scaled), so small cases still touch every node.
  rc::Gen<uint32_t> choice = rc::gen::inRange<uint32_t>(0, 1u << 20);
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, kind), rc::gen::set(&Op::a, choice),
                            rc::gen::set(&Op::b, choice));
}

constexpr size_t kMaxInFlight = 2000;
constexpr size_t kReorderWindow = 6;  // keeps duplication from growing the queue forever
constexpr uint64_t kMaxNodeId = 9;    // founding members plus spares for reconfiguration
constexpr int kLivenessRounds = 300;

class Driver {
 public:
  Driver(ClusterOptions options, size_t voters) : cluster_(options, ids(voters)) {
    cluster_.process_all_ready();
  }

  RaftCluster& cluster() { return cluster_; }

  void apply(const Op& op) {
    const std::vector<NodeId> members = cluster_.member_ids();
    const NodeId node = members[op.a % members.size()];
    const size_t in_flight = cluster_.in_flight().size();
    switch (op.kind) {
      case OpKind::kTick:
        if (cluster_.running(node)) cluster_.tick(node);
        break;
      case OpKind::kTickAll:
        for (NodeId id : members) {
          if (cluster_.running(id)) cluster_.tick(id);
        }
        break;
      case OpKind::kDeliver:
        // Reordering within a window: mostly-FIFO links with occasional overtaking.
        if (in_flight > 0) cluster_.deliver(op.b % std::min(in_flight, kReorderWindow));
        break;
      case OpKind::kDeliverAll:
        for (size_t i = 0; i < in_flight && !cluster_.in_flight().empty(); ++i) {
          cluster_.deliver(0);
        }
        break;
      case OpKind::kDrop:
        if (in_flight > 0) cluster_.drop(op.b % in_flight);
        break;
      case OpKind::kDuplicate:
        if (in_flight > 0 && in_flight < kMaxInFlight) cluster_.duplicate(op.b % in_flight);
        break;
      case OpKind::kProcessReady:
        cluster_.process_ready(node);
        break;
      case OpKind::kPropose:
        if (cluster_.running(node)) (void)cluster_.propose(node, "v" + std::to_string(++values_));
        break;
      case OpKind::kCrash:
        if (may_crash(node)) cluster_.crash(node);
        break;
      case OpKind::kCrashAfterPersist:
        if (may_crash(node)) cluster_.crash_after_persist(node);
        break;
      case OpKind::kCrashLeader:
        // Leader failures are where Raft's subtle cases live (paper Figure 8).
        if (auto leader = cluster_.leader(); leader && may_crash(*leader)) {
          if (op.b % 2 == 0) {
            cluster_.crash(*leader);
          } else {
            cluster_.crash_after_persist(*leader);
          }
        }
        break;
      case OpKind::kIsolateLeader:
        if (auto leader = cluster_.leader()) {
          std::vector<std::set<NodeId>> groups(2);
          for (size_t i = 0; i < members.size(); ++i) {
            const bool with_leader =
                members[i] == *leader ||
                (((op.b >> i) & 1) != 0 && groups[0].size() + 1 < (members.size() + 1) / 2);
            groups[with_leader ? 0 : 1].insert(members[i]);
          }
          cluster_.partition(groups);
        }
        break;
      case OpKind::kRestart:
        if (!cluster_.running(node)) cluster_.restart(node);
        break;
      case OpKind::kPartition: {
        std::vector<std::set<NodeId>> groups(2);
        for (size_t i = 0; i < members.size(); ++i) {
          groups[(op.b >> i) & 1].insert(members[i]);
        }
        cluster_.partition(groups);
        break;
      }
      case OpKind::kHeal:
        cluster_.heal();
        break;
      case OpKind::kCompact:
        if (cluster_.running(node)) (void)cluster_.compact(node);
        break;
      case OpKind::kConfChange:
        change_membership(op);
        break;
      case OpKind::kTransfer:
        if (auto leader = cluster_.leader()) {
          (void)cluster_.transfer_leadership(*leader, node);
        }
        break;
      case OpKind::kReadIndex:
        if (cluster_.running(node)) {
          (void)cluster_.read_index(node, "read-" + std::to_string(++reads_));
        }
        break;
      case OpKind::kCampaign:
        if (cluster_.running(node)) cluster_.campaign(node);
        break;
    }
    cluster_.check_invariants();
  }

  // Heals everything and runs until a fresh proposal is committed and applied by a leader.
  bool make_progress() {
    cluster_.set_auto_process(true);
    cluster_.heal();
    for (NodeId id : cluster_.member_ids()) {
      if (!cluster_.running(id)) cluster_.restart(id);
    }
    cluster_.process_all_ready();
    const std::string marker = "after-healing";
    // A proposal accepted by a leader that then loses its post may be overwritten (clients
    // retry), so propose again to every new (leader, term).
    std::optional<std::pair<NodeId, Term>> proposed_to;
    for (int round = 0; round < kLivenessRounds; ++round) {
      for (NodeId id : cluster_.member_ids()) cluster_.tick(id);
      cluster_.stabilize();
      std::optional<NodeId> leader = cluster_.leader();
      if (!leader) continue;
      const std::pair<NodeId, Term> current{*leader, cluster_.node(*leader).raft().term()};
      if (proposed_to != current && cluster_.propose(*leader, marker).is_ok()) {
        proposed_to = current;
      }
      cluster_.stabilize();
      const std::vector<std::string>& applied = cluster_.member(*leader).applied_values;
      if (std::find(applied.begin(), applied.end(), marker) != applied.end()) return true;
    }
    return false;
  }

 private:
  static std::vector<NodeId> ids(size_t count) {
    std::vector<NodeId> result;
    for (uint64_t id = 1; id <= count; ++id) result.emplace_back(id);
    return result;
  }

  // At most a minority is down at once, so the cluster can make progress between faults
  // (safety is checked whatever happens; this keeps the runs interesting).
  bool may_crash(NodeId node) const {
    if (!cluster_.running(node)) return false;
    size_t down = 0;
    const std::vector<NodeId> members = cluster_.member_ids();
    for (NodeId id : members) down += cluster_.running(id) ? 0 : 1;
    return (down + 1) * 2 < members.size();
  }

  void change_membership(const Op& op) {
    std::optional<NodeId> leader = cluster_.leader();
    if (!leader) return;
    const Membership& membership = cluster_.node(*leader).raft().membership();
    ConfChange change;
    switch (op.b % 4) {
      case 0: {  // add a spare node as a learner
        const NodeId spare(cluster_.member_ids().size() + 1);
        if (spare.value() > kMaxNodeId) return;
        cluster_.add_member(spare);
        change.changes.push_back({ConfChangeType::kAddLearnerNode, spare});
        break;
      }
      case 1:  // promote a learner
        if (membership.learners.empty()) return;
        change.changes.push_back({ConfChangeType::kAddNode, *membership.learners.begin()});
        break;
      case 2: {  // remove a voter, keeping at least three
        if (membership.incoming.size() <= 3) return;
        auto victim = membership.incoming.begin();
        std::advance(victim, op.a % membership.incoming.size());
        change.changes.push_back({ConfChangeType::kRemoveNode, *victim});
        break;
      }
      case 3: {  // joint consensus: swap a learner in for a voter
        if (membership.learners.empty() || membership.incoming.size() < 3) return;
        auto victim = membership.incoming.begin();
        std::advance(victim, op.a % membership.incoming.size());
        change.transition = ConfChangeTransition::kJointImplicit;
        change.changes.push_back({ConfChangeType::kAddNode, *membership.learners.begin()});
        change.changes.push_back({ConfChangeType::kRemoveNode, *victim});
        break;
      }
    }
    (void)cluster_.propose_conf_change(*leader, change);
  }

  RaftCluster cluster_;
  uint64_t values_ = 0;
  uint64_t reads_ = 0;
};

RC_GTEST_PROP(RaftPropertyTest, SafetyUnderFaultsAndProgressAfterHealing, ()) {
  ClusterOptions options;
  options.seed = *rc::gen::arbitrary<uint64_t>();
  // Short timeouts so elections happen within a few hundred random steps.
  options.election_timeout_ticks = *rc::gen::inRange(4, 12);
  options.pre_vote = *rc::gen::arbitrary<bool>();
  options.check_quorum = *rc::gen::arbitrary<bool>();
  options.max_inflight_messages = *rc::gen::inRange<size_t>(1, 8);
  // 1 byte: one entry per append, so a follower can hold an old-term entry without the
  // leader's no-op behind it (what paper Figure 8 needs).
  options.max_append_bytes = *rc::gen::element<uint64_t>(1, 16, 1024 * 1024);
  const size_t voters = *rc::gen::inRange<size_t>(3, 8);
  const bool deferred_ready = *rc::gen::arbitrary<bool>();
  const std::vector<Op> ops =
      *rc::gen::scale(10.0, rc::gen::container<std::vector<Op>>(op_generator()));

  Driver driver(options, voters);
  driver.cluster().set_auto_process(!deferred_ready);
  for (const Op& op : ops) {
    driver.apply(op);
    if (const auto& violation = driver.cluster().violation()) RC_FAIL(*violation);
  }
  RC_TAG(ops.size() / 250 * 250);
  RC_CLASSIFY(driver.cluster().leader().has_value(), "leader before healing");
  RC_CLASSIFY(driver.cluster().committed_entries() > 20, "over 20 entries committed");
  const bool progressed = driver.make_progress();
  if (const auto& violation = driver.cluster().violation()) RC_FAIL(*violation);
  RC_ASSERT(progressed);
}

}  // namespace
}  // namespace lockstep::raft
