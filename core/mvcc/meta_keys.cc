#include "core/mvcc/meta_keys.h"

#include "core/mvcc/byte_codec.h"

namespace lockstep::mvcc {

std::string encode_meta_revision(Revision revision) {
  ByteWriter writer;
  writer.put_signed(revision.value());
  return writer.take();
}

Result<Revision> decode_meta_revision(std::string_view bytes) {
  ByteReader reader(bytes);
  int64_t value = 0;
  if (!reader.get_signed(value) || !reader.at_end()) {
    return Error(ErrorCode::kDataCorruption, "meta: bad revision");
  }
  return Revision(value);
}

}  // namespace lockstep::mvcc
