#include "checker/etcd_model.h"

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "checker/interner.h"

namespace lockstep::checker {

namespace {

constexpr uint32_t kAbsent = ~uint32_t{0};
constexpr int32_t kNoKey = -1;

// What the operations of one partition can tell apart beyond keys and values (see
// observed_by): stores that differ only in what nobody observes are merged.
enum class Observed : uint8_t {
  kValues,     // keys and values only
  kVersions,   // also each key's version (a txn compares one): it depends on that key alone
  kRevisions,  // also the store's revision and every create and mod revision
};

struct KeyRecord {
  uint32_t value = kAbsent;  // interned value id; kAbsent when the key does not exist
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  bool operator==(const KeyRecord&) const = default;
};

// A whole store: the revision and a record per key that any operation may write (dense, in
// key order, so ranges are index intervals).
struct Store {
  int64_t revision = 1;
  std::vector<KeyRecord> records;
  bool operator==(const Store&) const = default;
};

struct StoreHash {
  size_t operator()(const Store& store) const {
    uint64_t hash = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(store.revision);
    for (const KeyRecord& record : store.records) {
      hash = (hash ^ record.value) * 0x100000001b3ull;
      hash = (hash ^ static_cast<uint64_t>(record.mod_revision)) * 0x100000001b3ull;
      hash = (hash ^ static_cast<uint64_t>(record.version)) * 0x100000001b3ull;
    }
    return hash;
  }
};

struct CompiledCompare {
  int32_t key = kNoKey;  // kNoKey: a key no operation writes, so always missing
  CompareTarget target;
  CompareResult result;
  std::string value;
  int64_t number;
};

struct CompiledRequest {
  RequestKind kind;
  int32_t key = kNoKey;  // get/put: the key's index
  uint32_t first = 0;    // delete/range/get: the index interval [first, last)
  uint32_t last = 0;
  uint32_t value = 0;  // put: interned value
  std::vector<CompiledCompare> compares;
  std::vector<CompiledRequest> success;
  std::vector<CompiledRequest> failure;
};

template <typename T>
bool compare_holds(CompareResult result, const T& actual, const T& wanted) {
  switch (result) {
    case CompareResult::kEqual:
      return actual == wanted;
    case CompareResult::kNotEqual:
      return actual != wanted;
    case CompareResult::kLess:
      return actual < wanted;
    case CompareResult::kGreater:
      return actual > wanted;
  }
  return false;
}

bool surely_writes(const CompiledRequest& request, const Response& response);

class EtcdInstance final : public ModelInstance {
 public:
  EtcdInstance(std::vector<std::string> keys, int64_t initial_revision, uint32_t operation_count,
               Observed observed)
      : keys_(std::move(keys)), transitions_(operation_count), observed_(observed) {
    Store initial;
    initial.revision = initial_revision;
    initial.records.resize(keys_.size());
    initial_ = stores_.intern(std::move(initial));
  }

  StateId initial_state() override { return initial_; }

  // Two refinements of ModelInstance::step. First, an indeterminate write may not create a
  // revision that a determinate write reports as its own (claimed_revisions_): that write must
  // appear in every linearization and move the store to exactly that revision, and each
  // revision is made by one write only, so no linearization can hold both (the whole run of
  // heavy_swarm seed 2 in docs/benchmarks/checker.md: 29,439 operations whose every revision
  // a determinate write reports, eleven timed-out writes that therefore never took effect;
  // trying them in every gap between reads exhausted the memo after 850 k steps).
  // Second, an indeterminate operation that would leave the
  // store exactly as it was (a delete of a missing key, a txn whose taken branch writes
  // nothing) is refused. Placing it there is indistinguishable from never running it, and
  // the search may always leave an indeterminate operation out, so no verdict changes; but
  // each such operation no longer doubles the states the search visits from its invocation
  // on (found by loss_duplication_storm seed 17: a linearizable history of 1654 operations,
  // 12 of them indeterminate, exhausted 27 million search steps).
  StateId step(StateId state, uint32_t op) override {
    if (const uint64_t* cached = transitions_.find(state, op)) return *cached;
    Store store = stores_.value(static_cast<uint32_t>(state));
    const Response* response = indeterminate_[op] ? nullptr : responses_[op];
    StateId next = kIllegalState;
    const int64_t revision_before = stores_.value(static_cast<uint32_t>(state)).revision;
    if (apply_top_level(requests_[op], response, store) &&
        !(indeterminate_[op] && store == stores_.value(static_cast<uint32_t>(state))) &&
        !(indeterminate_[op] && store.revision != revision_before &&
          std::binary_search(claimed_revisions_.begin(), claimed_revisions_.end(),
                             store.revision))) {
      next = stores_.intern(std::move(store));
    }
    transitions_.insert(state, op, next);
    return next;
  }

  // Revisions only grow, and a response's header revision is the store's revision after the
  // operation, so a store already past it can never explain that response.
  bool may_still_take_effect(StateId state, uint32_t op) override {
    if (indeterminate_[op] || responses_[op]->revision == 0) return true;
    return stores_.value(static_cast<uint32_t>(state)).revision <= responses_[op]->revision;
  }

  std::string describe_state(StateId state) override {
    const Store& store = stores_.value(static_cast<uint32_t>(state));
    std::string out = "{revision " + std::to_string(store.revision);
    for (size_t key = 0; key < keys_.size(); ++key) {
      const KeyRecord& record = store.records[key];
      if (record.value == kAbsent) continue;
      out += ", \"" + keys_[key] + "\"=\"" + strings_.value(record.value) + "\" c" +
             std::to_string(record.create_revision) + " m" + std::to_string(record.mod_revision) +
             " v" + std::to_string(record.version);
    }
    return out + "}";
  }

  Result<CompiledRequest> compile(const Request& request, const std::string& where);
  void add(CompiledRequest request, const Operation& operation) {
    if (observed_ == Observed::kRevisions && !operation.indeterminate &&
        operation.response.revision != 0 && surely_writes(request, operation.response)) {
      claimed_revisions_.push_back(operation.response.revision);
    }
    requests_.push_back(std::move(request));
    responses_.push_back(&operation.response);
    indeterminate_.push_back(operation.indeterminate);
  }
  // Sorts the claimed revisions once every operation was added.
  void seal() { std::sort(claimed_revisions_.begin(), claimed_revisions_.end()); }

 private:
  int32_t key_index(const std::string& key) const {
    const auto found = std::lower_bound(keys_.begin(), keys_.end(), key);
    if (found == keys_.end() || *found != key) return kNoKey;
    return static_cast<int32_t>(found - keys_.begin());
  }
  uint32_t lower_bound(const std::string& key) const {
    return static_cast<uint32_t>(std::lower_bound(keys_.begin(), keys_.end(), key) - keys_.begin());
  }

  bool apply_top_level(const CompiledRequest& request, const Response* response, Store& store);
  bool apply(const CompiledRequest& request, const Response* response, Store& store,
             int64_t write_revision, bool& wrote);
  bool check_read(const CompiledRequest& request, const Response& response,
                  const Store& store) const;
  bool compare(const CompiledCompare& compare, const Store& store) const;

  std::vector<std::string> keys_;  // sorted
  Interner<std::string> strings_;
  Interner<Store, StoreHash> stores_;
  TransitionCache transitions_;
  // What the operations of this instance can observe (see observed_by): the store keeps
  // what nobody observes at its initial value.
  Observed observed_;
  StateId initial_ = 0;
  std::vector<CompiledRequest> requests_;
  std::vector<const Response*> responses_;
  std::vector<bool> indeterminate_;
  // Sorted: the header revisions of determinate operations that, with their recorded
  // response, certainly wrote (surely_writes), i.e. the revisions those writes created.
  std::vector<int64_t> claimed_revisions_;
};

// Whether `request`, legal with `response`, certainly wrote and so made a new revision: a put,
// a delete that reports deleting something, or a txn whose recorded branch holds one of those.
// Under-approximates (a delete that did not report its count is not counted): it only feeds a
// pruning that must never refuse a real linearization.
bool surely_writes(const CompiledRequest& request, const Response& response) {
  switch (request.kind) {
    case RequestKind::kPut:
      return true;
    case RequestKind::kDelete:
      return response.deleted > 0;
    case RequestKind::kTxn: {
      const auto& branch = response.succeeded ? request.success : request.failure;
      for (size_t i = 0; i < branch.size(); ++i) {
        if (branch[i].kind == RequestKind::kPut) return true;
        if (i < response.responses.size() && surely_writes(branch[i], response.responses[i])) {
          return true;
        }
      }
      return false;
    }
    default:
      return false;
  }
}

Result<CompiledRequest> EtcdInstance::compile(const Request& request, const std::string& where) {
  CompiledRequest out;
  out.kind = request.kind;
  switch (request.kind) {
    case RequestKind::kPut:
      out.key = key_index(request.key);
      out.value = strings_.intern(request.value);
      ASSERT(out.key != kNoKey, "every put key was collected");
      break;
    case RequestKind::kGet:
    case RequestKind::kRange:
    case RequestKind::kDelete:
      if (request.range_end.empty()) {
        out.key = key_index(request.key);
        out.first = out.key == kNoKey ? 0 : static_cast<uint32_t>(out.key);
        out.last = out.key == kNoKey ? 0 : out.first + 1;
      } else {
        // etcd: range_end "\0" means every key >= key.
        out.first = lower_bound(request.key);
        out.last = request.range_end == std::string(1, '\0')
                       ? static_cast<uint32_t>(keys_.size())
                       : std::max(out.first, lower_bound(request.range_end));
      }
      break;
    case RequestKind::kTxn:
      for (const Compare& compare : request.compares) {
        out.compares.push_back(CompiledCompare{key_index(compare.key), compare.target,
                                               compare.result, compare.value, compare.number});
      }
      for (const Request& inner : request.success) {
        auto compiled = compile(inner, where);
        if (!compiled.is_ok()) return compiled.error();
        out.success.push_back(std::move(*compiled));
      }
      for (const Request& inner : request.failure) {
        auto compiled = compile(inner, where);
        if (!compiled.is_ok()) return compiled.error();
        out.failure.push_back(std::move(*compiled));
      }
      break;
    default:
      return Error(ErrorCode::kInvalidInput, where + ": the etcd model has no '" +
                                                 std::string(request_kind_name(request.kind)) +
                                                 "' (it knows get, range, put, delete, txn)");
  }
  return out;
}

bool EtcdInstance::compare(const CompiledCompare& compare, const Store& store) const {
  const KeyRecord* record = compare.key == kNoKey ? nullptr : &store.records[compare.key];
  const bool missing = record == nullptr || record->value == kAbsent;
  if (compare.target == CompareTarget::kValue) {
    // etcd: a value compare on a missing key always fails (gRPC cannot tell nil from "").
    if (missing) return false;
    return compare_holds(compare.result, strings_.value(record->value), compare.value);
  }
  int64_t actual = 0;  // etcd compares a missing key's version and revisions as 0
  if (!missing) {
    switch (compare.target) {
      case CompareTarget::kVersion:
        actual = record->version;
        break;
      case CompareTarget::kCreateRevision:
        actual = record->create_revision;
        break;
      case CompareTarget::kModRevision:
        actual = record->mod_revision;
        break;
      case CompareTarget::kValue:
        break;
    }
  }
  return compare_holds(compare.result, actual, compare.number);
}

bool EtcdInstance::check_read(const CompiledRequest& request, const Response& response,
                              const Store& store) const {
  if (response.has_kvs) {
    size_t next = 0;
    for (uint32_t key = request.first; key < request.last; ++key) {
      const KeyRecord& record = store.records[key];
      if (record.value == kAbsent) continue;
      if (next >= response.kvs.size()) return false;
      const KeyValue& kv = response.kvs[next++];
      if (kv.key != keys_[key] || kv.value != strings_.value(record.value) ||
          kv.create_revision != record.create_revision || kv.mod_revision != record.mod_revision ||
          kv.version != record.version) {
        return false;
      }
    }
    return next == response.kvs.size();
  }
  if (request.kind != RequestKind::kGet) return true;  // a range that recorded no kvs
  const bool present = request.key != kNoKey && store.records[request.key].value != kAbsent;
  if (!response.value) return !present;
  return present && strings_.value(store.records[request.key].value) == *response.value;
}

bool EtcdInstance::apply(const CompiledRequest& request, const Response* response, Store& store,
                         int64_t write_revision, bool& wrote) {
  switch (request.kind) {
    case RequestKind::kPut: {
      KeyRecord& record = store.records[request.key];
      if (record.value == kAbsent) {
        record.create_revision = write_revision;
        record.version = 0;
      }
      record.value = request.value;
      record.mod_revision = write_revision;
      ++record.version;
      wrote = true;
      return true;
    }
    case RequestKind::kDelete: {
      int64_t deleted = 0;
      for (uint32_t key = request.first; key < request.last; ++key) {
        if (store.records[key].value == kAbsent) continue;
        store.records[key] = KeyRecord{};
        ++deleted;
      }
      if (deleted > 0) wrote = true;
      return response == nullptr || response->deleted < 0 || response->deleted == deleted;
    }
    case RequestKind::kGet:
    case RequestKind::kRange:
      return response == nullptr || check_read(request, *response, store);
    case RequestKind::kTxn: {
      bool holds = true;
      for (const CompiledCompare& compare : request.compares) {
        holds = holds && this->compare(compare, store);
      }
      if (response != nullptr && response->succeeded != holds) return false;
      const auto& branch = holds ? request.success : request.failure;
      const bool check_inner = response != nullptr && !response->responses.empty();
      if (check_inner && response->responses.size() != branch.size()) return false;
      for (size_t i = 0; i < branch.size(); ++i) {
        const Response* inner = check_inner ? &response->responses[i] : nullptr;
        if (!apply(branch[i], inner, store, write_revision, wrote)) return false;
      }
      return true;
    }
    default:
      break;
  }
  UNREACHABLE("compile admits only etcd requests");
}

bool EtcdInstance::apply_top_level(const CompiledRequest& request, const Response* response,
                                   Store& store) {
  bool wrote = false;
  // Every write of one request shares the next revision (etcd: one main revision per txn).
  if (!apply(request, response, store, store.revision + 1, wrote)) return false;
  if (observed_ != Observed::kRevisions) {
    // Nothing reads these, so keeping them would only split one observable store into one
    // state per order of writes (see observed_by). No response reports a revision
    // either, so there is none to check.
    for (KeyRecord& record : store.records) {
      record.create_revision = 0;
      record.mod_revision = 0;
      if (observed_ == Observed::kValues) record.version = 0;
    }
    return true;
  }
  if (wrote) ++store.revision;
  return response == nullptr || response->revision == 0 || response->revision == store.revision;
}

void collect_put_keys(const Request& request, std::vector<std::string>& keys) {
  if (request.kind == RequestKind::kPut) keys.push_back(request.key);
  for (const Request& inner : request.success) collect_put_keys(inner, keys);
  for (const Request& inner : request.failure) collect_put_keys(inner, keys);
}

bool writes_anything(const Request& request) {
  if (request.kind == RequestKind::kPut || request.kind == RequestKind::kDelete) return true;
  if (request.kind != RequestKind::kTxn) return false;
  for (const Request& inner : request.success) {
    if (writes_anything(inner)) return true;
  }
  for (const Request& inner : request.failure) {
    if (writes_anything(inner)) return true;
  }
  return false;
}

// What the compares of `request` (and of the txns nested in it) read beyond values.
Observed observed_by_compares(const Request& request) {
  Observed observed = Observed::kValues;
  for (const Compare& compare : request.compares) {
    if (compare.target == CompareTarget::kVersion) observed = Observed::kVersions;
    if (compare.target == CompareTarget::kCreateRevision ||
        compare.target == CompareTarget::kModRevision) {
      return Observed::kRevisions;
    }
  }
  for (const auto* branch : {&request.success, &request.failure}) {
    for (const Request& inner : *branch) observed = std::max(observed, observed_by_compares(inner));
  }
  return observed;
}

bool reports_revisions(const Response& response) {
  if (response.revision != 0 || response.has_kvs) return true;  // kvs carry create/mod/version
  for (const Response& inner : response.responses) {
    if (reports_revisions(inner)) return true;
  }
  return false;
}

// What the operation can tell apart in two stores that hold the same keys and values: a
// compare of a version sees that key's version (the puts since its creation, which depend on
// that key's own writes alone); a compare of a create or mod revision, or a response that
// reports a header revision or kvs, sees revisions. Stores that differ only in what no
// operation of a partition observes are observationally equivalent (each operation's legality
// and its effect on what is observed depend on the observed part alone), so the model forgets
// the rest and verdicts are unchanged. This matters for indeterminate writes: n of them placed
// in every order otherwise make up to n! distinct stores (each order leaves other mod
// revisions), and refuting a dead end of the search has to visit them all, where keys, values
// and versions alone make at most 2^n. (Property seed 138236: a txn workload comparing
// `version = 0` to create its keys made the model keep every revision, and eleven timed-out
// writes on nine keys exhausted 12.6 M steps; see docs/benchmarks/checker.md.)
Observed observed_by(const Operation& operation) {
  const Observed by_compares = observed_by_compares(operation.request);
  if (!operation.indeterminate && reports_revisions(operation.response)) {
    return Observed::kRevisions;
  }
  return by_compares;
}

Observed observed_by(const History& history, std::span<const uint32_t> operations) {
  Observed observed = Observed::kValues;
  for (uint32_t index : operations) {
    observed = std::max(observed, observed_by(history.operations[index]));
  }
  return observed;
}

// The sorted keys any operation of the history puts: the only keys that can ever exist.
std::vector<std::string> written_keys(const History& history,
                                      std::span<const uint32_t> operations) {
  std::vector<std::string> keys;
  for (uint32_t index : operations) collect_put_keys(history.operations[index].request, keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Adds to `touched` the indices (into the sorted `keys`) of the written keys whose state
// `request` may read or change; keys nobody writes are always absent, so they are left out.
// Over-approximates: both branches of a txn, and every key of a read's range.
void touched_keys(const Request& request, const std::vector<std::string>& keys,
                  std::vector<uint32_t>& touched) {
  const auto at = [&keys](const std::string& key) {
    return static_cast<uint32_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
  };
  const auto add_key = [&](const std::string& key) {
    const uint32_t index = at(key);
    if (index < keys.size() && keys[index] == key) touched.push_back(index);
  };
  for (const Compare& compare : request.compares) add_key(compare.key);
  for (const auto* branch : {&request.success, &request.failure}) {
    for (const Request& inner : *branch) touched_keys(inner, keys, touched);
  }
  if (request.kind == RequestKind::kTxn) return;
  if (request.range_end.empty()) {
    add_key(request.key);
    return;
  }
  // etcd: range_end "\0" means every key >= key.
  const uint32_t first = at(request.key);
  const uint32_t last = request.range_end == std::string(1, '\0')
                            ? static_cast<uint32_t>(keys.size())
                            : std::max(first, at(request.range_end));
  for (uint32_t index = first; index < last; ++index) touched.push_back(index);
}

// Whether the outcome of `operation` depends on no key at all: a range whose kvs were not
// recorded checks nothing (EtcdInstance::check_read), and an indeterminate read observed
// nothing anyone saw (check_linearizability drops it).
bool depends_on_no_key(const Operation& operation, const Model& model) {
  if (operation.indeterminate && model.is_read_only(operation)) return true;
  return !operation.indeterminate && operation.request.kind == RequestKind::kRange &&
         !operation.response.has_kvs;
}

// Union-find over key indices (path halving), merging keys that one operation touches.
uint32_t find_root(std::vector<uint32_t>& parent, uint32_t key) {
  while (parent[key] != key) key = parent[key] = parent[parent[key]];
  return key;
}

std::string component_name(const std::vector<std::string>& keys,
                           const std::vector<uint32_t>& members) {
  if (members.size() == 1) return keys[members.front()];
  return keys[members.front()] + " .. " + keys[members.back()] + " (" +
         std::to_string(members.size()) + " keys)";
}

}  // namespace

bool EtcdModel::is_read_only(const Operation& operation) const {
  return !writes_anything(operation.request);
}

// P-compositionality (Horn & Kroening, "Faster linearizability checking via
// P-compositionality", FORTE 2015): a history is linearizable iff each part is when the
// object is a product of independent objects and every operation acts on one of them. etcd's
// keys share one revision counter, so while any operation observes revisions the store is
// one object and the history stays whole. When none does, the store (keys, values and, if
// compared, versions) is the product of its keys: each key's record changes only through
// writes of that key. Keys one operation touches (a txn comparing one key and writing
// another, a range delete, a range whose kvs are checked) are merged into one part, so every
// operation acts on exactly one part, or on none: a range whose kvs were not recorded, or a
// read of keys nobody writes, is legal in every state or in none, and those go together into
// a part of their own.
std::vector<Partition> EtcdModel::partition(const History& history) const {
  const std::vector<Partition> whole = whole_history_partition(history);
  if (observed_by(history, whole.front().operations) == Observed::kRevisions) return whole;
  const std::vector<std::string> keys = written_keys(history, whole.front().operations);
  std::vector<uint32_t> parent(keys.size());
  for (uint32_t key = 0; key < keys.size(); ++key) parent[key] = key;
  // Per operation: one key it touches (its part's representative), or kNoPart.
  constexpr uint32_t kNoPart = ~uint32_t{0};
  std::vector<uint32_t> anchor(history.operations.size(), kNoPart);
  std::vector<uint32_t> touched;
  for (uint32_t index = 0; index < history.operations.size(); ++index) {
    const Operation& operation = history.operations[index];
    if (depends_on_no_key(operation, *this)) continue;
    touched.clear();
    touched_keys(operation.request, keys, touched);
    if (touched.empty()) continue;
    anchor[index] = touched.front();
    for (uint32_t key : touched) {
      parent[find_root(parent, key)] = find_root(parent, touched.front());
    }
  }
  // Parts in the order of their smallest key, then the keyless part; operations in history
  // order within each.
  std::vector<std::vector<uint32_t>> members(keys.size());
  for (uint32_t key = 0; key < keys.size(); ++key) members[find_root(parent, key)].push_back(key);
  std::vector<uint32_t> part_of_root(keys.size(), kNoPart);
  std::vector<Partition> parts;
  for (uint32_t key = 0; key < keys.size(); ++key) {
    const uint32_t root = find_root(parent, key);
    if (part_of_root[root] != kNoPart) continue;
    part_of_root[root] = static_cast<uint32_t>(parts.size());
    parts.push_back(Partition{component_name(keys, members[root]), {}});
  }
  Partition keyless{"(no written key)", {}};
  for (uint32_t index = 0; index < history.operations.size(); ++index) {
    if (anchor[index] == kNoPart) {
      keyless.operations.push_back(index);
    } else {
      parts[part_of_root[find_root(parent, anchor[index])]].operations.push_back(index);
    }
  }
  // A put makes every written key's part non-empty; only the keyless one may be.
  if (!keyless.operations.empty()) parts.push_back(std::move(keyless));
  if (parts.size() <= 1) return whole;
  return parts;
}

Result<std::unique_ptr<ModelInstance>> EtcdModel::instantiate(
    const History& history, std::span<const uint32_t> operations) const {
  auto instance = std::make_unique<EtcdInstance>(
      written_keys(history, operations), history.initial_revision,
      static_cast<uint32_t>(operations.size()), observed_by(history, operations));
  for (uint32_t index : operations) {
    const Operation& operation = history.operations[index];
    auto compiled = instance->compile(
        operation.request, history.source_name + ":" + std::to_string(operation.source_line));
    if (!compiled.is_ok()) return compiled.error();
    instance->add(std::move(*compiled), operation);
  }
  instance->seal();
  return std::unique_ptr<ModelInstance>(std::move(instance));
}

}  // namespace lockstep::checker
