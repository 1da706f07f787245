#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockstep::store {

// Reads what ByteWriter wrote. Every read is bounds-checked: running past the end sets a
// sticky failure flag instead of reading garbage, so a decoder can read a whole structure and
// check ok() once at the end (bad input gets an error, never undefined behaviour).
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  uint8_t u8() {
    if (!require(1)) return 0;
    return static_cast<uint8_t>(bytes_[position_++]);
  }
  uint32_t u32() {
    uint32_t value = 0;
    if (!require(4)) return 0;
    for (int byte = 0; byte < 4; ++byte) {
      value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes_[position_++])) << (8 * byte);
    }
    return value;
  }
  uint64_t u64() {
    uint64_t value = 0;
    if (!require(8)) return 0;
    for (int byte = 0; byte < 8; ++byte) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[position_++])) << (8 * byte);
    }
    return value;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  std::string_view raw(size_t length) {
    if (!require(length)) return {};
    std::string_view out = bytes_.substr(position_, length);
    position_ += length;
    return out;
  }
  // A u64 length and that many bytes; fails (instead of allocating) when the length exceeds
  // what is left, so a corrupt length cannot ask for gigabytes.
  std::string_view bytes() {
    const uint64_t length = u64();
    if (!ok() || length > remaining()) {
      failed_ = true;
      return {};
    }
    return raw(static_cast<size_t>(length));
  }

  bool ok() const { return !failed_; }
  size_t position() const { return position_; }
  size_t remaining() const { return failed_ ? 0 : bytes_.size() - position_; }
  bool at_end() const { return ok() && position_ == bytes_.size(); }

 private:
  bool require(size_t length) {
    if (failed_ || bytes_.size() - position_ < length) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  size_t position_ = 0;
  bool failed_ = false;
};

// Reads a little-endian u32 from the 4 bytes at `at`.
inline uint32_t load_u32(const char* at) {
  uint32_t value = 0;
  for (int byte = 0; byte < 4; ++byte) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(at[byte])) << (8 * byte);
  }
  return value;
}

}  // namespace lockstep::store
