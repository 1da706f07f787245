#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/backend.h"

namespace lockstep::mvcc {

// The complete contents of a Backend, as carried by a Raft snapshot.
struct BackendImage {
  LogIndex consistent_index{};
  std::vector<RevisionRecord> revisions{};  // ascending by revision
  std::vector<LeaseRecord> leases{};        // ascending by id
  std::map<std::string, std::string> meta{};

  bool operator==(const BackendImage&) const = default;
};

// The canonical image format every Backend::dump() produces:
//   magic "LSMVCC1\n", varint consistent_index,
//   varint n, n x (signed main, signed sub, byte tombstone, bytes data),
//   varint n, n x (signed lease id, bytes data),
//   varint n, n x (bytes name, bytes value),
//   fixed32 crc32c of everything before it.
// The checksum catches a torn or bit-flipped snapshot before any of it is applied.
std::string encode_backend_image(const BackendImage& image);

// Fails with kDataCorruption (and a detail naming what broke) for a truncated image, a bad
// magic, a checksum mismatch, trailing bytes or records out of order.
Result<BackendImage> decode_backend_image(std::string_view bytes);

// Reads everything out of `backend` (in pages), for backends whose dump() needs no
// backend-specific shortcut.
Result<BackendImage> read_backend_image(const Backend& backend);

}  // namespace lockstep::mvcc
