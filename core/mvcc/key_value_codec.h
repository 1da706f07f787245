#pragma once

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/mvcc/key_value.h"

namespace lockstep::mvcc {

// The MVCC layer's encoding of a KeyValue in a backend revision record (etcd stores the
// marshalled mvccpb.KeyValue). A leading format byte leaves room for change.
std::string encode_key_value(const KeyValue& key_value);
// kDataCorruption when the bytes are not a KeyValue this code wrote.
Result<KeyValue> decode_key_value(std::string_view bytes);

}  // namespace lockstep::mvcc
