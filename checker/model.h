#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checker/history.h"
#include "core/base/error.h"

namespace lockstep::checker {

// A model state as the search sees it: a small handle the model interprets (the register's
// value, or the id of an interned state). Equal handles mean equal states, so the memo of
// (linearized set, state) pairs compares and hashes one integer instead of a whole store.
using StateId = uint64_t;
inline constexpr StateId kIllegalState = ~StateId{0};

// A model bound to the operations of one partition, numbered 0..n-1 in the order given.
class ModelInstance {
 public:
  virtual ~ModelInstance() = default;
  virtual StateId initial_state() = 0;
  // The state after operation `op` takes effect in `state`, or kIllegalState when the
  // operation's recorded response is impossible there. An indeterminate operation has no
  // recorded response: it is legal wherever its request can take effect.
  virtual StateId step(StateId state, uint32_t op) = 0;
  // False only when `op`, with its recorded response, is illegal in `state` and in every
  // state reachable from it (etcd: the store's revision already passed the one the response
  // reports, and revisions never go back). The search then abandons the node at once instead
  // of refuting it operation by operation. The default never abandons anything.
  virtual bool may_still_take_effect(StateId state, uint32_t op) {
    (void)state;
    (void)op;
    return true;
  }
  virtual std::string describe_state(StateId state) = 0;
};

// One independent part of a history (P-compositionality, Horn & Kroening 2015: a history is
// linearizable iff each part is, when the model is a product of independent objects).
struct Partition {
  std::string name;                  // e.g. the key; "" when the history is not split
  std::vector<uint32_t> operations;  // indices into History::operations, in history order
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view name() const = 0;
  // Splits the history into independently checkable parts. The default is one part.
  virtual std::vector<Partition> partition(const History& history) const;
  // An operation that, with its recorded response, never changes the state (a read, a failed
  // cas). Indeterminate read-only operations are dropped before the search: taking effect or
  // not is the same to them.
  virtual bool is_read_only(const Operation& operation) const = 0;
  // Binds the model to `operations` of `history`; rejects requests the model does not know.
  virtual Result<std::unique_ptr<ModelInstance>> instantiate(
      const History& history, std::span<const uint32_t> operations) const = 0;
};

// All operations of the history in one partition (the default of Model::partition).
std::vector<Partition> whole_history_partition(const History& history);

// The models by name: "cas-register", "kv", "etcd".
std::unique_ptr<Model> make_model(std::string_view name);
std::vector<std::string_view> model_names();

// The model a history's format implies when the user names none.
std::string_view default_model_for(const History& history);

}  // namespace lockstep::checker
