#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.h"

namespace lockstep::node {

// The little binary encoding the member speaks on the wire and writes into Raft entries:
// unsigned LEB128 varints (as protobuf uses), zig-zag for signed values, and
// length-prefixed byte strings. It is deliberately tiny so that a reader can check every
// length against what is left before allocating anything (bad input is an error, never a
// crash or an out-of-memory).
class WireWriter {
 public:
  void u8(uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
  void boolean(bool value) { u8(value ? 1 : 0); }
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<char>(value));
  }
  void signed_varint(int64_t value) {
    // Zig-zag keeps small negative numbers (e.g. "no revision" = -1) short.
    varint((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
  }
  void bytes(std::string_view value) {
    varint(value.size());
    bytes_.append(value);
  }

  const std::string& data() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads what WireWriter wrote. The first malformed read makes the reader fail for good:
// every later read returns a zero value, and status() names where decoding broke. Callers
// decode a whole structure and check status() once at the end.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : rest_(bytes) {}

  uint8_t u8() {
    if (failed_ || rest_.empty()) return fail("truncated byte"), 0;
    const uint8_t value = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }
  bool boolean() {
    const uint8_t value = u8();
    if (value > 1) return fail("boolean out of range"), false;
    return value == 1;
  }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < kMaxVarintBits; shift += 7) {
      if (failed_ || rest_.empty()) return fail("truncated varint"), 0;
      const uint8_t byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return fail("varint longer than 10 bytes"), 0;
  }
  int64_t signed_varint() {
    const uint64_t raw = varint();
    return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  }
  std::string bytes() {
    const uint64_t length = varint();
    if (failed_) return {};
    if (length > rest_.size()) return fail("byte string longer than the message"), std::string();
    std::string value(rest_.substr(0, length));
    rest_.remove_prefix(length);
    return value;
  }
  // A count of items that follow, each at least one byte long: a count larger than the
  // bytes left is malformed, which bounds any vector reserve() by the message size.
  uint64_t count() {
    const uint64_t value = varint();
    if (value > rest_.size()) return fail("item count larger than the message"), 0;
    return value;
  }

  void fail(std::string_view why) {
    if (!failed_) failure_ = std::string(why);
    failed_ = true;
  }
  bool failed() const { return failed_; }
  bool at_end() const { return rest_.empty(); }
  // Ok when every read succeeded and every byte was consumed.
  Status finish() const {
    if (failed_) return Status(ErrorCode::kInvalidInput, failure_);
    if (!rest_.empty()) return Status(ErrorCode::kInvalidInput, "trailing bytes after message");
    return Status::ok();
  }

 private:
  static constexpr int kMaxVarintBits = 70;  // 10 bytes of 7 bits cover 64-bit values
  std::string_view rest_;
  bool failed_ = false;
  std::string failure_;
};

}  // namespace lockstep::node
