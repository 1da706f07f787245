#include "checker/cas_register_model.h"

#include <string>
#include <vector>

#include "checker/interner.h"

namespace lockstep::checker {

namespace {

// Values are interned; StateId 0 is nil and value id v is StateId v + 1.
constexpr StateId kNil = 0;

class CasRegisterInstance final : public ModelInstance {
 public:
  struct Step {
    RequestKind kind;
    bool indeterminate;
    bool succeeded;    // cas outcome
    StateId value;     // write/cas: new value; read: value returned
    StateId expected;  // cas
  };

  StateId initial_state() override { return kNil; }

  StateId step(StateId state, uint32_t op) override {
    const Step& s = steps_[op];
    switch (s.kind) {
      case RequestKind::kRead:
        return s.indeterminate || s.value == state ? state : kIllegalState;
      case RequestKind::kWrite:
        return s.value;
      case RequestKind::kCas: {
        const bool matches = state == s.expected;
        if (!s.indeterminate && matches != s.succeeded) return kIllegalState;
        return matches ? s.value : state;
      }
      default:
        break;
    }
    UNREACHABLE("instantiate admits only read, write and cas");
  }

  std::string describe_state(StateId state) override {
    return state == kNil ? "nil" : "\"" + values_.value(static_cast<uint32_t>(state - 1)) + "\"";
  }

  StateId value_state(const std::string& value) { return StateId{values_.intern(value)} + 1; }

  std::vector<Step> steps_;

 private:
  Interner<std::string> values_;
};

}  // namespace

bool CasRegisterModel::is_read_only(const Operation& operation) const {
  if (operation.request.kind == RequestKind::kRead) return true;
  // A cas reported as failed observed a different value and changed nothing.
  return operation.request.kind == RequestKind::kCas && !operation.indeterminate &&
         !operation.response.succeeded;
}

Result<std::unique_ptr<ModelInstance>> CasRegisterModel::instantiate(
    const History& history, std::span<const uint32_t> operations) const {
  auto instance = std::make_unique<CasRegisterInstance>();
  instance->steps_.reserve(operations.size());
  for (uint32_t index : operations) {
    const Operation& operation = history.operations[index];
    const Request& request = operation.request;
    CasRegisterInstance::Step step{request.kind, operation.indeterminate,
                                   operation.response.succeeded, kNil, kNil};
    switch (request.kind) {
      case RequestKind::kRead:
        if (operation.response.value) step.value = instance->value_state(*operation.response.value);
        break;
      case RequestKind::kWrite:
        step.value = instance->value_state(request.value);
        break;
      case RequestKind::kCas:
        step.value = instance->value_state(request.value);
        step.expected = instance->value_state(request.expected);
        break;
      default:
        return Error(ErrorCode::kInvalidInput, history.source_name + ":" +
                                                   std::to_string(operation.source_line) +
                                                   ": the cas-register model has no '" +
                                                   std::string(request_kind_name(request.kind)) +
                                                   "' (it knows read, write, cas)");
    }
    instance->steps_.push_back(step);
  }
  return std::unique_ptr<ModelInstance>(std::move(instance));
}

}  // namespace lockstep::checker
