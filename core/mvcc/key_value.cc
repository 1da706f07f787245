#include "core/mvcc/key_value.h"

namespace lockstep::mvcc {

std::ostream& operator<<(std::ostream& out, const KeyValue& key_value) {
  return out << "{key=" << key_value.key << " create=" << key_value.create_revision
             << " mod=" << key_value.mod_revision << " version=" << key_value.version
             << " value=" << key_value.value << " lease=" << key_value.lease << "}";
}

}  // namespace lockstep::mvcc
