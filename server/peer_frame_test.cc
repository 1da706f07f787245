#include "server/peer_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/random.h"

namespace lockstep::server {
namespace {

// Drains every complete frame; fails the test on a decode error.
std::vector<PeerFrame> drain(PeerFrameDecoder& decoder) {
  std::vector<PeerFrame> frames;
  for (;;) {
    Result<std::optional<PeerFrame>> next = decoder.next();
    EXPECT_TRUE(next.is_ok()) << next.error();
    if (!next.is_ok() || !next->has_value()) return frames;
    frames.push_back(std::move(**next));
  }
}

TEST(PeerFrame, HeaderLayoutIsTheDocumentedOne) {
  const std::string frame = encode_peer_frame(NodeId(0x0102030405060708), "abc");
  ASSERT_EQ(frame.size(), kPeerFrameHeaderBytes + 3);
  EXPECT_EQ(frame.substr(0, 4), "LKS1");
  EXPECT_EQ(frame.substr(4, 4), std::string("\x03\0\0\0", 4));
  EXPECT_EQ(frame.substr(8, 8), "\x08\x07\x06\x05\x04\x03\x02\x01");
  EXPECT_EQ(frame.substr(20), "abc");
}

TEST(PeerFrame, RoundTripsIncludingEmptyAndBinaryPayloads) {
  PeerFrameDecoder decoder;
  const std::string binary("\0\xff\x01 frame", 9);
  decoder.append(encode_peer_frame(NodeId(1), "first"));
  decoder.append(encode_peer_frame(NodeId(2), ""));
  decoder.append(encode_peer_frame(NodeId(3), binary));
  std::vector<PeerFrame> frames = drain(decoder);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].sender, NodeId(1));
  EXPECT_EQ(frames[0].payload, "first");
  EXPECT_EQ(frames[1].sender, NodeId(2));
  EXPECT_EQ(frames[1].payload, "");
  EXPECT_EQ(frames[2].sender, NodeId(3));
  EXPECT_EQ(frames[2].payload, binary);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(PeerFrame, ReassemblesAcrossArbitraryReadBoundaries) {
  // TCP delivers a byte stream: frames arrive split and glued at any offset.
  Random random(42);
  std::string stream;
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back(std::string(random.below(300), static_cast<char>('a' + i % 26)));
    stream += encode_peer_frame(NodeId(7), sent.back());
  }
  PeerFrameDecoder decoder;
  std::vector<std::string> received;
  size_t offset = 0;
  while (offset < stream.size()) {
    const size_t chunk = std::min<size_t>(1 + random.below(97), stream.size() - offset);
    std::span<char> tail = decoder.writable_tail(chunk);
    std::copy_n(stream.data() + offset, chunk, tail.data());
    decoder.commit(chunk);
    offset += chunk;
    for (PeerFrame& frame : drain(decoder)) received.push_back(std::move(frame.payload));
  }
  EXPECT_EQ(received, sent);
}

TEST(PeerFrame, PartialHeaderWaitsForMoreBytes) {
  PeerFrameDecoder decoder;
  const std::string frame = encode_peer_frame(NodeId(1), "payload");
  decoder.append(frame.substr(0, 10));
  Result<std::optional<PeerFrame>> first = decoder.next();
  ASSERT_TRUE(first.is_ok());
  EXPECT_FALSE(first->has_value());
  decoder.append(frame.substr(10));
  EXPECT_EQ(drain(decoder).size(), 1u);
}

TEST(PeerFrame, EveryFlippedBitIsRejected) {
  // CRC-32C detects every single-bit error; the header fields are covered too.
  const std::string good = encode_peer_frame(NodeId(5), "some payload bytes");
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      PeerFrameDecoder decoder;
      decoder.append(bad);
      Result<std::optional<PeerFrame>> next = decoder.next();
      // A flipped length bit may make the frame look longer: then it waits for bytes that a
      // real peer never sends, and the connection's idle handling takes over. Any frame the
      // decoder does produce must be rejected.
      if (next.is_ok()) {
        EXPECT_FALSE(next->has_value()) << "corrupted frame accepted at byte " << byte;
        continue;
      }
      const ErrorCode code = next.code();
      EXPECT_TRUE(code == ErrorCode::kDataCorruption || code == ErrorCode::kInvalidInput)
          << "byte " << byte << " bit " << bit << ": " << next.error();
    }
  }
}

TEST(PeerFrame, ChecksumMismatchIsDataCorruptionAndSticks) {
  std::string bad = encode_peer_frame(NodeId(5), "payload");
  bad.back() ^= 0x20;
  PeerFrameDecoder decoder;
  decoder.append(bad);
  decoder.append(encode_peer_frame(NodeId(5), "a later good frame"));
  Result<std::optional<PeerFrame>> next = decoder.next();
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.code(), ErrorCode::kDataCorruption);
  // The stream position is lost after a bad frame: the later good frame must not surface.
  EXPECT_EQ(decoder.next().code(), ErrorCode::kDataCorruption);
}

TEST(PeerFrame, OversizedLengthIsRejectedBeforeThePayloadArrives) {
  std::string header = encode_peer_frame(NodeId(1), "").substr(0, kPeerFrameHeaderBytes);
  const uint32_t too_long = static_cast<uint32_t>(limits::kMaxMessageBytes + 1);
  for (int i = 0; i < 4; ++i) header[4 + i] = static_cast<char>((too_long >> (8 * i)) & 0xFF);
  PeerFrameDecoder decoder;
  decoder.append(header);
  Result<std::optional<PeerFrame>> next = decoder.next();
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(next.error().detail().find("exceeds"), std::string::npos) << next.error();
}

TEST(PeerFrame, LargestAllowedPayloadRoundTrips) {
  const std::string big(limits::kMaxMessageBytes, 'z');
  PeerFrameDecoder decoder;
  decoder.append(encode_peer_frame(NodeId(9), big));
  std::vector<PeerFrame> frames = drain(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), big.size());
}

TEST(PeerFrame, WrongMagicIsRejectedFromTheFirstFourBytes) {
  PeerFrameDecoder decoder;
  decoder.append("GET ");
  EXPECT_EQ(decoder.next().code(), ErrorCode::kInvalidInput);
}

TEST(PeerFrame, WrongMagicIsRejected) {
  PeerFrameDecoder decoder;
  decoder.append("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  Result<std::optional<PeerFrame>> next = decoder.next();
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace lockstep::server
