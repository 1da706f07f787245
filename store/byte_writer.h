#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lockstep::store {

// Writes `value` little-endian into the 4 bytes at `at` (for back-patching a header).
inline void store_u32(char* at, uint32_t value) {
  for (int byte = 0; byte < 4; ++byte) at[byte] = static_cast<char>(value >> (8 * byte));
}

// Writes `value` little-endian into the 8 bytes at `at`.
inline void store_u64(char* at, uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) at[byte] = static_cast<char>(value >> (8 * byte));
}

// Appends fixed-width little-endian integers and length-prefixed byte strings to a string.
// Every on-disk format in store/ is built with it, so the byte order is one decision made in
// one place (little-endian, as on every platform the project targets, but spelled out byte by
// byte so that the files read the same on any host).
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  // Fixed-width integers go in with one append each rather than one push_back per byte.
  void u32(uint32_t value) {
    char bytes[4];
    store_u32(bytes, value);
    out_.append(bytes, sizeof bytes);
  }
  void u64(uint64_t value) {
    char bytes[8];
    store_u64(bytes, value);
    out_.append(bytes, sizeof bytes);
  }
  void i64(int64_t value) { u64(static_cast<uint64_t>(value)); }
  void raw(std::string_view bytes) { out_.append(bytes); }
  // A u64 length followed by the bytes.
  void bytes(std::string_view bytes) {
    u64(bytes.size());
    raw(bytes);
  }
  void zeros(size_t count) { out_.append(count, '\0'); }

  size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

}  // namespace lockstep::store
