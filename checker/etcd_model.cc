#include "checker/etcd_model.h"

#include <algorithm>
#include <string>
#include <vector>

#include "checker/interner.h"

namespace lockstep::checker {

namespace {

constexpr uint32_t kAbsent = ~uint32_t{0};
constexpr int32_t kNoKey = -1;

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

class EtcdInstance final : public ModelInstance {
 public:
  EtcdInstance(std::vector<std::string> keys, int64_t initial_revision, uint32_t operation_count,
               bool track_revisions)
      : keys_(std::move(keys)), transitions_(operation_count), track_revisions_(track_revisions) {
    Store initial;
    initial.revision = initial_revision;
    initial.records.resize(keys_.size());
    initial_ = stores_.intern(std::move(initial));
  }

  StateId initial_state() override { return initial_; }

  // One refinement of ModelInstance::step: an indeterminate operation that would leave the
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
    if (apply_top_level(requests_[op], response, store) &&
        !(indeterminate_[op] && store == stores_.value(static_cast<uint32_t>(state)))) {
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
    requests_.push_back(std::move(request));
    responses_.push_back(&operation.response);
    indeterminate_.push_back(operation.indeterminate);
  }

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
  // False when no operation of this instance can observe a revision, a version or a create or
  // mod revision (see observes_revisions): the store then keeps them at their initial values.
  bool track_revisions_;
  StateId initial_ = 0;
  std::vector<CompiledRequest> requests_;
  std::vector<const Response*> responses_;
  std::vector<bool> indeterminate_;
};

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
  if (!track_revisions_) {
    // Nothing reads these, so keeping them would only split one observable store into one
    // state per order of writes (see observes_revisions).
    for (KeyRecord& record : store.records) {
      record.create_revision = 0;
      record.mod_revision = 0;
      record.version = 0;
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

bool compares_revisions(const Request& request) {
  for (const Compare& compare : request.compares) {
    if (compare.target != CompareTarget::kValue) return true;
  }
  for (const Request& inner : request.success) {
    if (compares_revisions(inner)) return true;
  }
  for (const Request& inner : request.failure) {
    if (compares_revisions(inner)) return true;
  }
  return false;
}

bool reports_revisions(const Response& response) {
  if (response.revision != 0 || response.has_kvs) return true;  // kvs carry create/mod/version
  for (const Response& inner : response.responses) {
    if (reports_revisions(inner)) return true;
  }
  return false;
}

// Whether the operation can tell two stores apart that hold the same keys and values but
// different revisions, versions or create/mod revisions: it compares one of them, or its
// response reports a header revision or kvs. When no operation of a partition can, stores
// that differ only there are observationally equivalent (each operation's legality and its
// effect on keys and values depend on keys and values alone), so the model forgets them and
// verdicts are unchanged. This matters for indeterminate writes: n of them placed in every
// order otherwise make up to n! distinct stores (each order leaves other mod revisions), and
// refuting a dead end of the search has to visit them all, where keys and values alone make
// at most 2^n.
bool observes_revisions(const Operation& operation) {
  if (compares_revisions(operation.request)) return true;
  return !operation.indeterminate && reports_revisions(operation.response);
}

}  // namespace

bool EtcdModel::is_read_only(const Operation& operation) const {
  return !writes_anything(operation.request);
}

Result<std::unique_ptr<ModelInstance>> EtcdModel::instantiate(
    const History& history, std::span<const uint32_t> operations) const {
  std::vector<std::string> keys;
  for (uint32_t index : operations) collect_put_keys(history.operations[index].request, keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const bool track_revisions = std::any_of(operations.begin(), operations.end(), [&](uint32_t i) {
    return observes_revisions(history.operations[i]);
  });
  auto instance =
      std::make_unique<EtcdInstance>(std::move(keys), history.initial_revision,
                                     static_cast<uint32_t>(operations.size()), track_revisions);
  for (uint32_t index : operations) {
    const Operation& operation = history.operations[index];
    auto compiled = instance->compile(
        operation.request, history.source_name + ":" + std::to_string(operation.source_line));
    if (!compiled.is_ok()) return compiled.error();
    instance->add(std::move(*compiled), operation);
  }
  return std::unique_ptr<ModelInstance>(std::move(instance));
}

}  // namespace lockstep::checker
