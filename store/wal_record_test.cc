#include "store/wal_record.h"

#include <gtest/gtest.h>

namespace lockstep::store {
namespace {

std::string one_frame(uint64_t sequence, uint64_t offset, std::string_view payload) {
  std::string out;
  append_wal_frame(out, sequence, offset, 0, WalRecordType::kEntry, payload);
  return out;
}

TEST(WalRecord, FramesAreAlignedAndRoundTrip) {
  for (size_t payload_bytes : {0, 1, 7, 8, 9, 100}) {
    const std::string payload(payload_bytes, 'x');
    const std::string frame = one_frame(3, 0, payload);
    EXPECT_EQ(frame.size() % kWalRecordAlignmentBytes, 0u);
    EXPECT_EQ(frame.size(), wal_framed_size(payload_bytes));
    std::optional<WalFrame> decoded = decode_wal_frame(frame, 3, 0);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->type, WalRecordType::kEntry);
    EXPECT_EQ(decoded->payload, payload);
    EXPECT_EQ(decoded->next_offset, frame.size());
  }
}

TEST(WalRecord, EveryFlippedBitIsDetected) {
  const std::string frame = one_frame(1, 0, "hello raft");
  for (size_t byte = 0; byte < frame.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = frame;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_FALSE(decode_wal_frame(damaged, 1, 0).has_value())
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(WalRecord, ARecordOnlyVerifiesWhereItWasWritten) {
  // The checksum is seeded with (segment, offset): a record copied to another place (a
  // misdirected write, a stale segment) must not be accepted there.
  std::string bytes(8, '\0');
  bytes += one_frame(5, 8, "payload");
  EXPECT_TRUE(decode_wal_frame(bytes, 5, 8).has_value());
  EXPECT_FALSE(decode_wal_frame(bytes, 6, 8).has_value());
  const std::string moved = one_frame(5, 8, "payload");
  EXPECT_FALSE(decode_wal_frame(moved, 5, 0).has_value());
}

TEST(WalRecord, TruncatedAndZeroFilledFramesAreRejected) {
  const std::string frame = one_frame(0, 0, "some bytes here");
  for (size_t length = 0; length < frame.size(); ++length) {
    EXPECT_FALSE(decode_wal_frame(frame.substr(0, length), 0, 0).has_value()) << length;
  }
  EXPECT_FALSE(decode_wal_frame(std::string(64, '\0'), 0, 0).has_value());
}

TEST(WalRecord, SyncedThroughCannotPointPastTheRecord) {
  std::string out(16, '\0');
  append_wal_frame(out, 0, 16, 16, WalRecordType::kHardState, "x");
  EXPECT_TRUE(decode_wal_frame(out, 0, 16).has_value());
  EXPECT_EQ(decode_wal_frame(out, 0, 16)->synced_through, 16u);
}

TEST(WalRecord, PayloadCodecsRoundTrip) {
  const raft::HardState hard_state{Term(7), NodeId(3), LogIndex(42)};
  EXPECT_EQ(*decode_hard_state(encode_hard_state(hard_state)), hard_state);
  const raft::Entry entry{Term(2), LogIndex(9), raft::EntryType::kConfChange,
                          std::string("\0a", 2)};
  EXPECT_EQ(*decode_entry(encode_entry(entry)), entry);
  const WalSnapshotMarker marker{LogIndex(100), Term(4)};
  EXPECT_EQ(*decode_snapshot_marker(encode_snapshot_marker(marker)), marker);
  const WalSegmentHeader header{12, LogIndex(1000)};
  EXPECT_EQ(*decode_segment_header(encode_segment_header(header)), header);
}

TEST(WalRecord, MalformedPayloadsAreCorruptionNotCrashes) {
  EXPECT_EQ(decode_hard_state("short").code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(decode_entry("short").code(), ErrorCode::kDataCorruption);
  std::string bad_type = encode_entry(raft::Entry{Term(1), LogIndex(1), {}, "x"});
  bad_type[16] = 9;
  EXPECT_EQ(decode_entry(bad_type).code(), ErrorCode::kDataCorruption);
  std::string bad_magic = encode_segment_header(WalSegmentHeader{1, LogIndex(1)});
  bad_magic[0] = 'X';
  EXPECT_EQ(decode_segment_header(bad_magic).code(), ErrorCode::kDataCorruption);
  EXPECT_EQ(decode_snapshot_marker(std::string(17, '\0')).code(), ErrorCode::kDataCorruption);
}

}  // namespace
}  // namespace lockstep::store
