#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace lockstep::mvcc {

// Little helpers for the MVCC layer's own binary encodings (records, leases, backend images):
// LEB128 varints and length-prefixed strings. Readers never trust their input: every read
// reports failure instead of running past the end, so a corrupt record becomes an error.
class ByteWriter {
 public:
  void put_varint(uint64_t value);
  void put_signed(int64_t value);          // zig-zag, so small negative numbers stay short
  void put_bytes(std::string_view bytes);  // length-prefixed
  void put_fixed32(uint32_t value);
  void put_raw(std::string_view bytes) { out_.append(bytes); }

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool get_varint(uint64_t& value);
  bool get_signed(int64_t& value);
  bool get_bytes(std::string& bytes);
  bool get_fixed32(uint32_t& value);
  bool get_raw(size_t count, std::string_view& bytes);

  bool at_end() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace lockstep::mvcc
