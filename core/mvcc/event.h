#pragma once

#include <optional>

#include "core/mvcc/key_value.h"

namespace lockstep::mvcc {

// etcd's mvccpb.Event_EventType: values as in the protobuf.
enum class EventType : int {
  kPut = 0,
  kDelete = 1,
};

// etcd's mvccpb.Event. For a delete, `kv` holds the key and mod_revision (the revision of the
// delete) only, as etcd's watch reports it; `prev_kv` is set only when the watcher asked for
// it and the previous version is still readable.
struct Event {
  EventType type = EventType::kPut;
  KeyValue kv{};
  std::optional<KeyValue> prev_kv{};

  bool operator==(const Event&) const = default;
};

}  // namespace lockstep::mvcc
