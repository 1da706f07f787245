// Stateful property test: the MVCC state machine against an independent model that keeps a
// full copy of the key space for every revision (the simplest possible reading of etcd's
// MVCC contract). Commands: put (with or without a lease), delete range, range (incl.
// historical reads and limits), flat txns, compaction, lease grant and revoke, reboot from
// the backend, snapshot install into a fresh store. A
// watcher over all keys is drained after every command and must report exactly the model's
// changes, revision by revision, even across reboots (it is re-created from its next
// revision, catching up from the backend).
//
// For a longer soak: RC_PARAMS="max_success=2000" (RapidCheck's own configuration).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/mvcc/test_harness.h"

namespace lockstep::mvcc {
namespace {

const std::vector<std::string> kKeys = {"a", "b", "c", "d"};
const std::vector<std::string> kValues = {"", "x", "y"};
const std::string kToEnd(1, '\0');

// ---- The model ----

struct ModelKv {
  std::string value;
  int64_t create = 0;
  int64_t mod = 0;
  int64_t version = 0;
  int64_t lease = 0;
  bool operator==(const ModelKv&) const = default;
};
using ModelState = std::map<std::string, ModelKv>;

struct ModelEvent {
  bool is_put = false;
  std::string key;
  std::string value;
  bool operator==(const ModelEvent&) const = default;
};

bool in_range(const std::string& key, const std::string& begin, const std::string& end) {
  if (end.empty()) return key == begin;
  if (key < begin) return false;
  return end == kToEnd || key < end;
}

struct Model {
  std::vector<ModelState> states{ModelState{}};  // states[r - 1] is the state at revision r
  int64_t compact = -1;
  std::map<int64_t, std::vector<ModelEvent>> events;
  std::set<int64_t> leases;  // granted and not revoked; keys refer to them by ModelKv::lease

  int64_t current() const { return static_cast<int64_t>(states.size()); }
  const ModelState& now() const { return states.back(); }

  // A write transaction in progress: the state it builds and the events it made.
  struct Txn {
    ModelState state;
    std::vector<ModelEvent> changes;
    int64_t revision = 0;
  };
  Txn begin() const { return Txn{now(), {}, current() + 1}; }
  static void put(Txn& txn, const std::string& key, const std::string& value, int64_t lease = 0) {
    auto it = txn.state.find(key);
    ModelKv kv{value, txn.revision, txn.revision, 1, lease};
    if (it != txn.state.end()) {
      kv.create = it->second.create;
      kv.version = it->second.version + 1;
    }
    txn.state[key] = kv;
    txn.changes.push_back(ModelEvent{true, key, value});
  }
  static int64_t remove(Txn& txn, const std::string& begin, const std::string& end) {
    int64_t deleted = 0;
    for (auto it = txn.state.begin(); it != txn.state.end();) {
      if (in_range(it->first, begin, end)) {
        txn.changes.push_back(ModelEvent{false, it->first, ""});
        it = txn.state.erase(it);
        ++deleted;
      } else {
        ++it;
      }
    }
    return deleted;
  }
  void commit(Txn& txn) {
    if (txn.changes.empty()) return;
    states.push_back(std::move(txn.state));
    events[current()] = std::move(txn.changes);
  }
};

std::vector<std::pair<std::string, ModelKv>> model_range(const ModelState& state,
                                                         const std::string& begin,
                                                         const std::string& end) {
  std::vector<std::pair<std::string, ModelKv>> result;
  for (const auto& [key, kv] : state) {
    if (in_range(key, begin, end)) result.emplace_back(key, kv);
  }
  return result;
}

void expect_same(const std::vector<KeyValue>& actual,
                 const std::vector<std::pair<std::string, ModelKv>>& expected) {
  RC_ASSERT(actual.size() == expected.size());
  for (size_t index = 0; index < actual.size(); ++index) {
    RC_ASSERT(actual[index].key == expected[index].first);
    RC_ASSERT(actual[index].value == expected[index].second.value);
    RC_ASSERT(actual[index].create_revision.value() == expected[index].second.create);
    RC_ASSERT(actual[index].mod_revision.value() == expected[index].second.mod);
    RC_ASSERT(actual[index].version == expected[index].second.version);
    RC_ASSERT(actual[index].lease.value() == expected[index].second.lease);
  }
}

// ---- The system under test ----

struct Sut {
  testing::Harness harness;
  int64_t watch_next = 2;  // the first revision the watcher has not reported yet
  WatchId watch_id = 0;

  Sut() { watch(); }

  void watch() {
    WatchResponse created = harness.machine().watch_hub().create(
        {.key = std::string(1, '\0'), .range_end = kToEnd, .start_revision = Revision(watch_next)});
    RC_ASSERT(created.created);
    RC_ASSERT(!created.canceled);
    watch_id = created.watch_id;
  }

  // Drains the watcher and checks its events against the model, revision by revision.
  void check_watch(const Model& model) {
    while (true) {
      Result<std::vector<WatchResponse>> taken = harness.machine().watch_hub().take_responses(100);
      RC_ASSERT(taken.is_ok());
      if (taken->empty()) break;
      for (const WatchResponse& response : *taken) {
        RC_ASSERT(response.watch_id == watch_id);
        if (response.canceled) {
          // Only a compaction past the watcher's next revision may cancel it.
          RC_ASSERT(response.compact_revision.value() > watch_next);
          RC_ASSERT(response.compact_revision.value() == model.compact);
          watch_next = model.current() + 1;
          watch();
          continue;
        }
        size_t position = 0;
        while (position < response.events.size()) {
          const int64_t revision = response.events[position].kv.mod_revision.value();
          RC_ASSERT(revision == watch_next);  // no gaps, no duplicates, in order
          auto expected = model.events.find(revision);
          RC_ASSERT(expected != model.events.end());
          for (const ModelEvent& event : expected->second) {
            RC_ASSERT(position < response.events.size());
            const Event& actual = response.events[position++];
            RC_ASSERT(actual.kv.mod_revision.value() == revision);
            RC_ASSERT((actual.type == EventType::kPut) == event.is_put);
            RC_ASSERT(actual.kv.key == event.key);
            if (event.is_put) RC_ASSERT(actual.kv.value == event.value);
          }
          watch_next = revision + 1;
          // Skip revisions without events only if the model has none there either.
          while (watch_next <= model.current() && !model.events.contains(watch_next)) {
            ++watch_next;
          }
        }
        RC_ASSERT(response.header.revision.value() >= watch_next - 1);
      }
    }
    // Everything the model has produced has been reported. (RC_ASSERT captures its
    // expression, so compound conditions are computed first.)
    const bool all_reported = model.events.empty() || model.events.rbegin()->first < watch_next;
    RC_ASSERT(all_reported);
  }

  void check_everything(const Model& model) {
    Result<RangeResponse> all = harness.range({.key = std::string(1, '\0'), .range_end = kToEnd});
    RC_ASSERT(all.is_ok());
    expect_same(all->kvs, model_range(model.now(), std::string(1, '\0'), kToEnd));
    RC_ASSERT(all->header.revision.value() == model.current());
    RC_ASSERT(harness.machine().compact_revision().value() == model.compact);
    // Lease attachments are bookkept incrementally by the lessor; the model derives them
    // from the keys' lease fields.
    std::vector<LeaseId> lease_ids;
    for (int64_t id : model.leases) {
      lease_ids.push_back(LeaseId(id));
      std::vector<std::string> attached;
      for (const auto& [key, kv] : model.now()) {
        if (kv.lease == id) attached.push_back(key);
      }
      RC_ASSERT(harness.machine().lessor().keys_of(LeaseId(id)) == attached);
    }
    RC_ASSERT(harness.machine().lessor().lease_ids() == lease_ids);
    check_watch(model);
  }
};

using Command = rc::state::Command<Model, Sut>;

std::string any_key() {
  return *rc::gen::elementOf(kKeys);
}
std::string any_range_end() {
  return *rc::gen::elementOf(std::vector<std::string>{"", "", "b", "c", "e", kToEnd});
}

struct PutCommand : Command {
  std::string key = any_key();
  std::string value = *rc::gen::elementOf(kValues);
  int64_t lease = *rc::gen::weightedOneOf<int64_t>(
      {{3, rc::gen::just<int64_t>(0)}, {1, rc::gen::inRange<int64_t>(1, 4)}});

  bool refused(const Model& model) const { return lease != 0 && !model.leases.contains(lease); }

  void apply(Model& model) const override {
    if (refused(model)) return;
    Model::Txn txn = model.begin();
    Model::put(txn, key, value, lease);
    model.commit(txn);
  }
  void run(const Model& model, Sut& sut) const override {
    Result<ApplyResponse> result = sut.harness.apply(
        PutRequest{.key = key, .value = value, .lease = LeaseId(lease), .prev_kv = true});
    Model next = model;
    apply(next);
    if (refused(model)) {
      RC_ASSERT(result.code() == ErrorCode::kLeaseNotFound);
      sut.check_everything(next);
      return;
    }
    RC_ASSERT(result.is_ok());
    const auto& response = std::get<PutResponse>(*result);
    RC_ASSERT(response.header.revision.value() == model.current() + 1);
    auto previous = model.now().find(key);
    RC_ASSERT(response.prev_kv.has_value() == (previous != model.now().end()));
    if (response.prev_kv) RC_ASSERT(response.prev_kv->value == previous->second.value);
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override {
    out << "put " << key << "=" << value << " lease " << lease;
  }
};

struct LeaseGrantCommand : Command {
  int64_t id = *rc::gen::inRange<int64_t>(1, 4);

  void apply(Model& model) const override { model.leases.insert(id); }
  void run(const Model& model, Sut& sut) const override {
    Result<ApplyResponse> result =
        sut.harness.apply(LeaseGrantRequest{.ttl_seconds = 30, .id = LeaseId(id)});
    if (model.leases.contains(id)) {
      RC_ASSERT(result.code() == ErrorCode::kLeaseExists);
    } else {
      RC_ASSERT(result.is_ok());
      RC_ASSERT(std::get<LeaseGrantResponse>(*result).ttl_seconds == 30);
    }
    Model next = model;
    apply(next);
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override { out << "lease grant " << id; }
};

struct LeaseRevokeCommand : Command {
  int64_t id = *rc::gen::inRange<int64_t>(1, 4);

  void apply(Model& model) const override {
    if (!model.leases.contains(id)) return;
    // etcd: every key attached to the lease is deleted, in key order, at one revision.
    Model::Txn txn = model.begin();
    for (const auto& [key, kv] : model.now()) {
      if (kv.lease == id) Model::remove(txn, key, "");
    }
    model.commit(txn);
    model.leases.erase(id);
  }
  void run(const Model& model, Sut& sut) const override {
    Result<ApplyResponse> result = sut.harness.apply(LeaseRevokeRequest{.id = LeaseId(id)});
    Model next = model;
    apply(next);
    if (!model.leases.contains(id)) {
      RC_ASSERT(result.code() == ErrorCode::kLeaseNotFound);
    } else {
      RC_ASSERT(result.is_ok());
      RC_ASSERT(std::get<LeaseRevokeResponse>(*result).header.revision.value() == next.current());
    }
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override { out << "lease revoke " << id; }
};

struct DeleteCommand : Command {
  std::string key = any_key();
  std::string range_end = any_range_end();

  void apply(Model& model) const override {
    Model::Txn txn = model.begin();
    Model::remove(txn, key, range_end);
    model.commit(txn);
  }
  void run(const Model& model, Sut& sut) const override {
    auto response = sut.harness.apply_ok<DeleteRangeResponse>(
        DeleteRangeRequest{.key = key, .range_end = range_end});
    Model next = model;
    apply(next);
    RC_ASSERT(response.deleted ==
              static_cast<int64_t>(model_range(model.now(), key, range_end).size()));
    RC_ASSERT(response.header.revision.value() == next.current());
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override {
    out << "delete [" << key << ", " << (range_end == kToEnd ? "\\0" : range_end) << ")";
  }
};

struct RangeCommand : Command {
  std::string key = any_key();
  std::string range_end = any_range_end();
  int64_t revision = *rc::gen::inRange<int64_t>(0, 12);
  int64_t limit = *rc::gen::inRange<int64_t>(0, 3);

  void run(const Model& model, Sut& sut) const override {
    Result<RangeResponse> response = sut.harness.range(
        {.key = key, .range_end = range_end, .limit = limit, .revision = Revision(revision)});
    const int64_t at = revision == 0 ? model.current() : revision;
    if (at > model.current()) {
      RC_ASSERT(response.code() == ErrorCode::kFutureRevision);
      return;
    }
    if (at < model.compact) {
      RC_ASSERT(response.code() == ErrorCode::kCompacted);
      return;
    }
    RC_ASSERT(response.is_ok());
    auto expected = model_range(model.states[static_cast<size_t>(at - 1)], key, range_end);
    RC_ASSERT(response->count == static_cast<int64_t>(expected.size()));
    const bool more = limit > 0 && static_cast<int64_t>(expected.size()) > limit;
    RC_ASSERT(response->more == more);
    if (more) expected.resize(static_cast<size_t>(limit));
    expect_same(response->kvs, expected);
  }
  void show(std::ostream& out) const override {
    out << "range [" << key << ", " << (range_end == kToEnd ? "\\0" : range_end) << ") @"
        << revision << " limit " << limit;
  }
};

// A flat txn: one compare on a key's version or value, then puts/deletes/ranges.
struct TxnCommand : Command {
  struct Op {
    int kind = 0;  // 0 put, 1 delete, 2 range
    std::string key;
    std::string range_end;
    std::string value;
  };
  std::string compare_key = any_key();
  bool compare_on_version = *rc::gen::arbitrary<bool>();
  int64_t compare_version = *rc::gen::inRange<int64_t>(0, 3);
  std::string compare_value = *rc::gen::elementOf(kValues);
  std::vector<Op> success = ops();
  std::vector<Op> failure = ops();

  static std::vector<Op> ops() {
    const int count = *rc::gen::inRange(0, 4);
    std::vector<Op> result;
    for (int index = 0; index < count; ++index) {
      Op op;
      op.kind = *rc::gen::inRange(0, 3);
      op.key = any_key();
      op.range_end = op.kind == 0 ? "" : any_range_end();
      op.value = *rc::gen::elementOf(kValues);
      result.push_back(op);
    }
    return result;
  }

  // The duplicate-key rule for a flat branch, written from etcd's documentation: a key may be
  // put once, and not inside a range the same branch deletes.
  static bool has_duplicate(const std::vector<Op>& branch) {
    for (size_t i = 0; i < branch.size(); ++i) {
      if (branch[i].kind != 0) continue;
      for (size_t j = 0; j < branch.size(); ++j) {
        if (i == j) continue;
        if (branch[j].kind == 0 && branch[j].key == branch[i].key) return true;
        if (branch[j].kind == 1 && in_range(branch[i].key, branch[j].key, branch[j].range_end)) {
          return true;
        }
      }
    }
    return false;
  }

  bool compare_holds(const Model& model) const {
    auto it = model.now().find(compare_key);
    if (compare_on_version) {
      return (it == model.now().end() ? 0 : it->second.version) == compare_version;
    }
    return it != model.now().end() && it->second.value == compare_value;
  }

  TxnRequest request() const {
    TxnRequest txn;
    Compare compare{.key = compare_key};
    if (compare_on_version) {
      compare.target = CompareTarget::kVersion;
      compare.version = compare_version;
    } else {
      compare.target = CompareTarget::kValue;
      compare.value = compare_value;
    }
    txn.compare = {compare};
    auto convert = [](const std::vector<Op>& branch) {
      std::vector<RequestOp> result;
      for (const Op& op : branch) {
        if (op.kind == 0) result.push_back(put_op({.key = op.key, .value = op.value}));
        if (op.kind == 1) result.push_back(delete_op({.key = op.key, .range_end = op.range_end}));
        if (op.kind == 2) result.push_back(range_op({.key = op.key, .range_end = op.range_end}));
      }
      return result;
    };
    txn.success = convert(success);
    txn.failure = convert(failure);
    return txn;
  }

  bool rejected() const { return has_duplicate(success) || has_duplicate(failure); }

  void apply(Model& model) const override {
    if (rejected()) return;
    Model::Txn txn = model.begin();
    for (const Op& op : compare_holds(model) ? success : failure) {
      if (op.kind == 0) Model::put(txn, op.key, op.value);
      if (op.kind == 1) Model::remove(txn, op.key, op.range_end);
    }
    model.commit(txn);
  }

  void run(const Model& model, Sut& sut) const override {
    Result<ApplyResponse> response = sut.harness.apply(request());
    Model next = model;
    apply(next);
    if (rejected()) {
      RC_ASSERT(response.code() == ErrorCode::kDuplicateKey);
      sut.check_everything(next);
      return;
    }
    RC_ASSERT(response.is_ok());
    const auto& txn_response = std::get<TxnResponse>(*response);
    const bool holds = compare_holds(model);
    RC_ASSERT(txn_response.succeeded == holds);
    RC_ASSERT(txn_response.header.revision.value() == next.current());
    // Replay the chosen branch on the model to check every range inside the txn.
    Model::Txn replay = model.begin();
    const std::vector<Op>& branch = holds ? success : failure;
    RC_ASSERT(txn_response.responses.size() == branch.size());
    for (size_t index = 0; index < branch.size(); ++index) {
      const Op& op = branch[index];
      if (op.kind == 0) Model::put(replay, op.key, op.value);
      if (op.kind == 1) {
        const int64_t deleted = Model::remove(replay, op.key, op.range_end);
        RC_ASSERT(std::get<DeleteRangeResponse>(txn_response.responses[index].response).deleted ==
                  deleted);
      }
      if (op.kind == 2) {
        expect_same(std::get<RangeResponse>(txn_response.responses[index].response).kvs,
                    model_range(replay.state, op.key, op.range_end));
      }
    }
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override {
    out << "txn if " << compare_key << (compare_on_version ? " version == " : " value == ")
        << (compare_on_version ? std::to_string(compare_version) : compare_value) << " then "
        << success.size() << " ops else " << failure.size() << " ops";
  }
};

struct CompactCommand : Command {
  int64_t revision = *rc::gen::inRange<int64_t>(0, 12);

  void apply(Model& model) const override {
    if (revision <= model.compact || revision > model.current()) return;
    model.compact = revision;
  }
  void run(const Model& model, Sut& sut) const override {
    ErrorCode code = sut.harness.apply(CompactionRequest{.revision = Revision(revision)}).code();
    if (revision <= model.compact) {
      RC_ASSERT(code == ErrorCode::kCompacted);
    } else if (revision > model.current()) {
      RC_ASSERT(code == ErrorCode::kFutureRevision);
    } else {
      RC_ASSERT(code == ErrorCode::kOk);
    }
    Model next = model;
    apply(next);
    sut.check_everything(next);
  }
  void show(std::ostream& out) const override { out << "compact " << revision; }
};

struct RebootCommand : Command {
  void run(const Model& model, Sut& sut) const override {
    sut.harness.reboot();
    sut.watch();  // from the first unreported revision: catches up from the backend
    sut.check_everything(model);
  }
  void show(std::ostream& out) const override { out << "reboot"; }
};

struct SnapshotCommand : Command {
  void run(const Model& model, Sut& sut) const override {
    // A fresh member installs this one's snapshot and must answer identically.
    Result<std::string> image = sut.harness.machine().snapshot();
    RC_ASSERT(image.is_ok());
    testing::Harness fresh;
    RC_ASSERT(fresh.machine().install_snapshot(*image).is_ok());
    Result<RangeResponse> all = fresh.range({.key = std::string(1, '\0'), .range_end = kToEnd});
    RC_ASSERT(all.is_ok());
    expect_same(all->kvs, model_range(model.now(), std::string(1, '\0'), kToEnd));
    RC_ASSERT(fresh.machine().current_revision().value() == model.current());
    RC_ASSERT(fresh.machine().compact_revision().value() == model.compact);
  }
  void show(std::ostream& out) const override { out << "snapshot"; }
};

RC_GTEST_PROP(StateMachinePropertyTest, MatchesTheModel, ()) {
  Model model;
  Sut sut;
  rc::state::check(
      model, sut,
      rc::state::gen::execOneOfWithArgs<PutCommand, PutCommand, DeleteCommand, RangeCommand,
                                        TxnCommand, TxnCommand, CompactCommand, RebootCommand,
                                        SnapshotCommand, LeaseGrantCommand, LeaseRevokeCommand>());
}

}  // namespace
}  // namespace lockstep::mvcc
