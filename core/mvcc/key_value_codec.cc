#include "core/mvcc/key_value_codec.h"

#include "core/mvcc/byte_codec.h"

namespace lockstep::mvcc {
namespace {

constexpr uint64_t kKeyValueFormat = 1;

}  // namespace

std::string encode_key_value(const KeyValue& key_value) {
  ByteWriter writer;
  writer.put_varint(kKeyValueFormat);
  writer.put_bytes(key_value.key);
  writer.put_signed(key_value.create_revision.value());
  writer.put_signed(key_value.mod_revision.value());
  writer.put_signed(key_value.version);
  writer.put_bytes(key_value.value);
  writer.put_signed(key_value.lease.value());
  return writer.take();
}

Result<KeyValue> decode_key_value(std::string_view bytes) {
  ByteReader reader(bytes);
  KeyValue key_value;
  uint64_t format = 0;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
  if (!reader.get_varint(format) || format != kKeyValueFormat) {
    return Error(ErrorCode::kDataCorruption, "key-value record: unknown format");
  }
  if (!reader.get_bytes(key_value.key) || !reader.get_signed(create_revision) ||
      !reader.get_signed(mod_revision) || !reader.get_signed(key_value.version) ||
      !reader.get_bytes(key_value.value) || !reader.get_signed(lease) || !reader.at_end()) {
    return Error(ErrorCode::kDataCorruption, "key-value record: truncated or trailing bytes");
  }
  key_value.create_revision = Revision(create_revision);
  key_value.mod_revision = Revision(mod_revision);
  key_value.lease = LeaseId(lease);
  return key_value;
}

}  // namespace lockstep::mvcc
