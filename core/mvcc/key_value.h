#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "core/base/ids.h"

namespace lockstep::mvcc {

// etcd's mvccpb.KeyValue: one version of one key.
struct KeyValue {
  std::string key{};
  // Revision of the last creation of this key (a put after a delete creates it anew).
  Revision create_revision{};
  // Revision of the last modification of this key.
  Revision mod_revision{};
  // Number of modifications since creation: 1 right after a create; a delete resets it.
  int64_t version = 0;
  std::string value{};
  // Lease attached to the key; kNoLease (0) when none.
  LeaseId lease{};

  bool operator==(const KeyValue&) const = default;
};

std::ostream& operator<<(std::ostream& out, const KeyValue& key_value);

}  // namespace lockstep::mvcc
