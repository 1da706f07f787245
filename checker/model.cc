#include "checker/model.h"

#include "checker/cas_register_model.h"
#include "checker/etcd_model.h"
#include "checker/kv_model.h"

namespace lockstep::checker {

std::vector<Partition> whole_history_partition(const History& history) {
  Partition all;
  all.operations.reserve(history.operations.size());
  for (uint32_t index = 0; index < history.operations.size(); ++index) {
    all.operations.push_back(index);
  }
  std::vector<Partition> out;
  out.push_back(std::move(all));
  return out;
}

std::vector<Partition> Model::partition(const History& history) const {
  return whole_history_partition(history);
}

std::unique_ptr<Model> make_model(std::string_view name) {
  if (name == "cas-register") return std::make_unique<CasRegisterModel>();
  if (name == "kv") return std::make_unique<KvModel>();
  if (name == "etcd") return std::make_unique<EtcdModel>();
  return nullptr;
}

std::vector<std::string_view> model_names() {
  return {"cas-register", "kv", "etcd"};
}

std::string_view default_model_for(const History& history) {
  if (!history.model_hint.empty()) return history.model_hint;
  // Without a hint, the requests say which object the clients used: register requests mean
  // the register, an append means Porcupine's kv store, anything else etcd's API.
  bool any_append = false;
  for (const Operation& operation : history.operations) {
    switch (operation.request.kind) {
      case RequestKind::kRead:
      case RequestKind::kWrite:
      case RequestKind::kCas:
        return "cas-register";
      case RequestKind::kAppend:
        any_append = true;
        break;
      default:
        break;
    }
  }
  return any_append ? "kv" : "etcd";
}

}  // namespace lockstep::checker
