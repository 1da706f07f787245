#include "core/mvcc/byte_codec.h"

namespace lockstep::mvcc {
namespace {

// A 64-bit value needs at most ten 7-bit groups.
constexpr int kMaxVarintBytes = 10;

}  // namespace

void ByteWriter::put_varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void ByteWriter::put_signed(int64_t value) {
  const uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  put_varint(zigzag);
}

void ByteWriter::put_bytes(std::string_view bytes) {
  put_varint(bytes.size());
  out_.append(bytes);
}

void ByteWriter::put_fixed32(uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out_.push_back(static_cast<char>(value >> shift));
}

bool ByteReader::get_varint(uint64_t& value) {
  value = 0;
  for (int index = 0; index < kMaxVarintBytes; ++index) {
    if (in_.empty()) return false;
    const auto byte = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * index);
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool ByteReader::get_signed(int64_t& value) {
  uint64_t zigzag = 0;
  if (!get_varint(zigzag)) return false;
  value = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
  return true;
}

bool ByteReader::get_bytes(std::string& bytes) {
  uint64_t size = 0;
  if (!get_varint(size)) return false;
  if (size > in_.size()) return false;
  bytes.assign(in_.substr(0, size));
  in_.remove_prefix(size);
  return true;
}

bool ByteReader::get_fixed32(uint32_t& value) {
  if (in_.size() < 4) return false;
  value = 0;
  for (int index = 0; index < 4; ++index) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in_[index])) << (8 * index);
  }
  in_.remove_prefix(4);
  return true;
}

bool ByteReader::get_raw(size_t count, std::string_view& bytes) {
  if (count > in_.size()) return false;
  bytes = in_.substr(0, count);
  in_.remove_prefix(count);
  return true;
}

}  // namespace lockstep::mvcc
