#include "checker/kv_model.h"

#include <map>
#include <string>
#include <vector>

#include "checker/append_value_table.h"
#include "checker/interner.h"

namespace lockstep::checker {

namespace {

struct VectorHash {
  size_t operator()(const std::vector<uint32_t>& values) const {
    uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a over the ids
    for (uint32_t value : values) hash = (hash ^ value) * 0x100000001b3ull;
    return hash;
  }
};

// States: with one key, the id of its value in the AppendValueTable (so an append costs O(1)
// and a read compares two ids); with several, the interned id of the vector of per-key value
// ids. Either way one StateId names one whole store.
class KvInstance final : public ModelInstance {
 public:
  struct Step {
    RequestKind kind;
    bool indeterminate;
    uint32_t key;    // index into the instance's keys
    uint32_t value;  // interned: put/append argument, or get result
  };

  KvInstance(std::vector<std::string> keys, uint32_t operation_count)
      : keys_(std::move(keys)), transitions_(operation_count) {
    empty_ = values_.empty();
    if (keys_.size() > 1) stores_.intern(std::vector<uint32_t>(keys_.size(), empty_));
  }

  uint32_t intern_string(const std::string& value) { return values_.intern(value); }

  StateId initial_state() override { return keys_.size() > 1 ? 0 : empty_; }

  StateId step(StateId state, uint32_t op) override {
    const Step& s = steps_[op];
    if (s.kind == RequestKind::kGet) {
      return s.indeterminate || value_of(state, s.key) == s.value ? state : kIllegalState;
    }
    if (const uint64_t* cached = transitions_.find(state, op)) return *cached;
    uint32_t new_value = s.value;
    if (s.kind == RequestKind::kAppend) {
      new_value = values_.append(value_of(state, s.key), s.value);
    }
    StateId next = new_value;
    if (keys_.size() > 1) {
      std::vector<uint32_t> store = stores_.value(static_cast<uint32_t>(state));
      store[s.key] = new_value;
      next = stores_.intern(std::move(store));
    }
    transitions_.insert(state, op, next);
    return next;
  }

  std::string describe_state(StateId state) override {
    std::string out = "{";
    for (uint32_t key = 0; key < keys_.size(); ++key) {
      if (key > 0) out += ", ";
      out += "\"" + keys_[key] + "\": \"" + values_.text(value_of(state, key)) + "\"";
    }
    return out + "}";
  }

  std::vector<Step> steps_;

 private:
  uint32_t value_of(StateId state, uint32_t key) const {
    if (keys_.size() <= 1) return static_cast<uint32_t>(state);
    return stores_.value(static_cast<uint32_t>(state))[key];
  }

  std::vector<std::string> keys_;
  uint32_t empty_ = 0;
  AppendValueTable values_;
  Interner<std::vector<uint32_t>, VectorHash> stores_;
  TransitionCache transitions_;
};

Error unsupported(const History& history, const Operation& operation) {
  return Error(ErrorCode::kInvalidInput,
               history.source_name + ":" + std::to_string(operation.source_line) +
                   ": the kv model has no '" +
                   std::string(request_kind_name(operation.request.kind)) +
                   "' (it knows get, put, append)");
}

bool is_kv_request(RequestKind kind) {
  return kind == RequestKind::kGet || kind == RequestKind::kPut || kind == RequestKind::kAppend;
}

}  // namespace

std::vector<Partition> KvModel::partition(const History& history) const {
  std::map<std::string, Partition> by_key;  // ordered: partitions come out sorted by key
  for (uint32_t index = 0; index < history.operations.size(); ++index) {
    const std::string& key = history.operations[index].request.key;
    Partition& partition = by_key[key];
    partition.name = key;
    partition.operations.push_back(index);
  }
  std::vector<Partition> out;
  out.reserve(by_key.size());
  for (auto& [key, partition] : by_key) out.push_back(std::move(partition));
  return out;
}

bool KvModel::is_read_only(const Operation& operation) const {
  return operation.request.kind == RequestKind::kGet;
}

Result<std::unique_ptr<ModelInstance>> KvModel::instantiate(
    const History& history, std::span<const uint32_t> operations) const {
  std::map<std::string, uint32_t> key_index;
  for (uint32_t index : operations) {
    const Operation& operation = history.operations[index];
    if (!is_kv_request(operation.request.kind)) return unsupported(history, operation);
    key_index.emplace(operation.request.key, 0);
  }
  std::vector<std::string> keys;
  for (auto& [key, position] : key_index) {
    position = static_cast<uint32_t>(keys.size());
    keys.push_back(key);
  }
  auto instance =
      std::make_unique<KvInstance>(std::move(keys), static_cast<uint32_t>(operations.size()));
  for (uint32_t index : operations) {
    const Operation& operation = history.operations[index];
    KvInstance::Step step{operation.request.kind, operation.indeterminate,
                          key_index[operation.request.key], 0};
    if (operation.request.kind == RequestKind::kGet) {
      step.value = instance->intern_string(operation.response.value.value_or(""));
    } else {
      step.value = instance->intern_string(operation.request.value);
    }
    instance->steps_.push_back(step);
  }
  return std::unique_ptr<ModelInstance>(std::move(instance));
}

}  // namespace lockstep::checker
