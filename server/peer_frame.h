#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/base/limits.h"

namespace lockstep::server {

// The wire format of one peer message on a TCP connection between two lockstep processes:
//
//   offset  size  field
//        0     4  magic "LKS1" (rejects a client of another protocol on the peer port)
//        4     4  payload length, little endian, at most limits::kMaxMessageBytes
//        8     8  sender NodeId, little endian, never 0
//       16     4  CRC-32C of bytes 0..15 followed by the payload, little endian
//       20     n  payload
//
// The checksum covers the header too, so a flipped length or sender is caught as well as a
// flipped payload byte. TCP's own 16-bit checksum misses some corruptions that a NIC or a
// middlebox can introduce; etcd's WAL uses CRC-32C for the same reason. A receiver that finds
// a bad magic, an oversized length, sender 0 or a bad checksum closes the connection: after
// one bad frame it cannot know where the next one starts.
inline constexpr uint32_t kPeerFrameMagic = 0x31534B4C;  // "LKS1" read as little endian
inline constexpr size_t kPeerFrameHeaderBytes = 20;

using PeerFrameHeader = std::array<char, kPeerFrameHeaderBytes>;

// The header for `payload` from `sender`. `payload` must fit limits::kMaxMessageBytes.
PeerFrameHeader encode_peer_frame_header(NodeId sender, std::string_view payload);
// Header and payload in one string (tests and tools; the network gathers the two in one sendmsg).
std::string encode_peer_frame(NodeId sender, std::string_view payload);

struct PeerFrame {
  NodeId sender;
  std::string payload;
};

// Cuts a byte stream into frames, whatever the read boundaries. Reads go straight into the
// decoder's buffer (writable_tail + commit) so bytes are copied once, into the payload.
//
//   std::span<char> tail = decoder.writable_tail(kReadChunkBytes);
//   decoder.commit(::read(fd, tail.data(), tail.size()));
//   while (auto frame = decoder.next()) { if (!frame.is_ok()) close(); else if (!*frame) break; }
class PeerFrameDecoder {
 public:
  // Room for at least `min_bytes` more bytes at the end of the buffered stream.
  std::span<char> writable_tail(size_t min_bytes);
  // Marks `bytes` of the writable tail as received.
  void commit(size_t bytes);
  // Appends bytes (tests; the network uses writable_tail + commit).
  void append(std::string_view bytes);

  // The next complete frame, nullopt when more bytes are needed, or an error (kInvalidInput
  // for bad magic, oversized length or sender 0; kDataCorruption for a checksum mismatch).
  // After an error the stream is unusable and every later call repeats the error.
  Result<std::optional<PeerFrame>> next();

  size_t buffered_bytes() const { return end_ - begin_; }

 private:
  Status check_header() const;

  std::string buffer_;
  size_t begin_ = 0;  // first byte not yet consumed
  size_t end_ = 0;    // one past the last received byte
  std::optional<Error> failed_;
};

}  // namespace lockstep::server
