#include "server/peer_frame.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/base/crc32c.h"

namespace lockstep::server {
namespace {

constexpr size_t kMagicOffset = 0;
constexpr size_t kLengthOffset = 4;
constexpr size_t kSenderOffset = 8;
constexpr size_t kChecksumOffset = 16;
static_assert(kChecksumOffset + 4 == kPeerFrameHeaderBytes);
static_assert(limits::kMaxMessageBytes <= UINT32_MAX, "the length field is 32 bits");

template <typename Integer>
void put_little_endian(char* out, Integer value) {
  for (size_t i = 0; i < sizeof(Integer); ++i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
  }
}

template <typename Integer>
Integer get_little_endian(const char* in) {
  Integer value = 0;
  for (size_t i = 0; i < sizeof(Integer); ++i) {
    value |= static_cast<Integer>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

uint32_t frame_checksum(const char* header, std::string_view payload) {
  const uint32_t over_header = crc32c(std::string_view(header, kChecksumOffset));
  return crc32c_extend(over_header, payload);
}

// Smallest growth of the receive buffer, so that many small reads do not reallocate.
constexpr size_t kMinBufferGrowthBytes = 64 * 1024;

}  // namespace

PeerFrameHeader encode_peer_frame_header(NodeId sender, std::string_view payload) {
  ASSERT(payload.size() <= limits::kMaxMessageBytes, "callers bound messages before framing");
  ASSERT(sender != kNoNode, "a frame names a real sender");
  PeerFrameHeader header{};
  put_little_endian<uint32_t>(header.data() + kMagicOffset, kPeerFrameMagic);
  put_little_endian<uint32_t>(header.data() + kLengthOffset, static_cast<uint32_t>(payload.size()));
  put_little_endian<uint64_t>(header.data() + kSenderOffset, sender.value());
  put_little_endian<uint32_t>(header.data() + kChecksumOffset,
                              frame_checksum(header.data(), payload));
  return header;
}

std::string encode_peer_frame(NodeId sender, std::string_view payload) {
  const PeerFrameHeader header = encode_peer_frame_header(sender, payload);
  std::string frame;
  frame.reserve(header.size() + payload.size());
  frame.append(header.data(), header.size());
  frame.append(payload);
  return frame;
}

std::span<char> PeerFrameDecoder::writable_tail(size_t min_bytes) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buffer_.size() - end_ < min_bytes) {
    // Slide the unconsumed bytes to the front before growing: a stream of small frames then
    // never grows the buffer beyond one read chunk plus one partial frame.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < min_bytes) {
      buffer_.resize(
          std::max(end_ + min_bytes, std::max(buffer_.size() * 2, kMinBufferGrowthBytes)));
    }
  }
  return std::span<char>(buffer_.data() + end_, buffer_.size() - end_);
}

void PeerFrameDecoder::commit(size_t bytes) {
  ASSERT(end_ + bytes <= buffer_.size(), "commit() of more bytes than writable_tail() offered");
  end_ += bytes;
}

void PeerFrameDecoder::append(std::string_view bytes) {
  std::span<char> tail = writable_tail(bytes.size());
  std::memcpy(tail.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

Status PeerFrameDecoder::check_header() const {
  // Each field is judged as soon as its bytes are in, so a client of another protocol or a
  // hostile length is refused without waiting for a full header that may never come.
  const char* header = buffer_.data() + begin_;
  const size_t available = buffered_bytes();
  if (available >= kLengthOffset &&
      get_little_endian<uint32_t>(header + kMagicOffset) != kPeerFrameMagic) {
    return Status(ErrorCode::kInvalidInput, "peer frame with bad magic (not a lockstep peer?)");
  }
  if (available >= kSenderOffset) {
    const uint32_t length = get_little_endian<uint32_t>(header + kLengthOffset);
    if (length > limits::kMaxMessageBytes) {
      return Status(ErrorCode::kInvalidInput, "peer frame of " + std::to_string(length) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(limits::kMaxMessageBytes));
    }
  }
  if (available >= kChecksumOffset && get_little_endian<uint64_t>(header + kSenderOffset) == 0) {
    return Status(ErrorCode::kInvalidInput, "peer frame from sender 0");
  }
  return Status::ok();
}

Result<std::optional<PeerFrame>> PeerFrameDecoder::next() {
  if (failed_) return *failed_;
  // Checked before waiting for the payload, so an oversized length is refused at once rather
  // than after buffering up to 4 GiB.
  if (Status header_ok = check_header(); !header_ok.is_ok()) {
    failed_ = header_ok.error();
    return *failed_;
  }
  if (buffered_bytes() < kPeerFrameHeaderBytes) return std::optional<PeerFrame>();
  const char* header = buffer_.data() + begin_;
  const size_t length = get_little_endian<uint32_t>(header + kLengthOffset);
  if (buffered_bytes() < kPeerFrameHeaderBytes + length) return std::optional<PeerFrame>();

  const std::string_view payload(header + kPeerFrameHeaderBytes, length);
  const uint32_t expected = get_little_endian<uint32_t>(header + kChecksumOffset);
  const uint32_t actual = frame_checksum(header, payload);
  if (expected != actual) {
    failed_ = Error(ErrorCode::kDataCorruption, "peer frame checksum mismatch (expected " +
                                                    std::to_string(expected) + ", computed " +
                                                    std::to_string(actual) + ")");
    return *failed_;
  }
  PeerFrame frame{NodeId(get_little_endian<uint64_t>(header + kSenderOffset)),
                  std::string(payload)};
  begin_ += kPeerFrameHeaderBytes + length;
  return std::optional<PeerFrame>(std::move(frame));
}

}  // namespace lockstep::server
