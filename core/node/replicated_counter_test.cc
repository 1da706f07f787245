#include "core/node/replicated_counter.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace lockstep::node {
namespace {

const std::map<NodeId, uint64_t> kCounts{{NodeId(1), 5}, {NodeId(2), 0}, {NodeId(7), 300}};

TEST(ReplicatedCounterFormat, SlotRoundTripsAndFillsItsSlot) {
  const std::string slot = encode_counter_slot(42, kCounts);
  EXPECT_EQ(slot.size(), kCounterSlotBytes);
  auto record = decode_counter_slot(slot);
  ASSERT_TRUE(record.is_ok()) << record.error().to_string();
  EXPECT_EQ(record->sequence, 42u);
  EXPECT_EQ(record->counts, kCounts);
}

TEST(ReplicatedCounterFormat, EveryBitFlipInTheRecordIsDetected) {
  const std::string slot = encode_counter_slot(9, kCounts);
  // CRC32C detects every single-bit error in the length, the body and the checksum itself.
  std::vector<size_t> record_bytes;
  for (size_t index = 0; index < kCounterSlotBytes; ++index) {
    if (index < 64 || index >= kCounterSlotBytes - 4) record_bytes.push_back(index);
  }
  for (size_t bit = 0; bit < record_bytes.size() * 8; ++bit) {
    const size_t byte = record_bytes[bit / 8];
    std::string damaged = slot;
    damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << (bit % 8)));
    auto record = decode_counter_slot(damaged);
    // Zero padding between the body and the checksum is not part of the record.
    const size_t body_end = 4 + static_cast<uint8_t>(slot[0]);
    if (byte >= body_end && byte < kCounterSlotBytes - 4) continue;
    ASSERT_FALSE(record.is_ok()) << "byte " << byte << " bit " << bit % 8;
  }
}

TEST(ReplicatedCounterFormat, TornAndEmptySlotsAreTellApart) {
  const std::string slot = encode_counter_slot(3, kCounts);
  EXPECT_EQ(decode_counter_slot(std::string(kCounterSlotBytes, '\0')).code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_slot("").code(), ErrorCode::kInvalidInput);
  // A write torn after its first sector: the new body under the zeros of a fresh file.
  const std::string torn = slot.substr(0, 512) + std::string(kCounterSlotBytes - 512, '\0');
  EXPECT_EQ(decode_counter_slot(torn).code(), ErrorCode::kDataCorruption);
  // ... or over an older record: new first sector, old checksum.
  const std::string older = encode_counter_slot(1, {{NodeId(1), 1}});
  EXPECT_EQ(decode_counter_slot(slot.substr(0, 512) + older.substr(512)).code(),
            ErrorCode::kDataCorruption);
  EXPECT_EQ(decode_counter_slot(slot.substr(0, 9)).code(), ErrorCode::kDataCorruption);
}

TEST(ReplicatedCounterFormat, GossipRoundTripsAndRejectsGarbage) {
  const std::string payload = encode_counter_gossip(CounterGossip{NodeId(7), kCounts});
  auto gossip = decode_counter_gossip(payload);
  ASSERT_TRUE(gossip.is_ok());
  EXPECT_EQ(gossip->sender, NodeId(7));
  EXPECT_EQ(gossip->counts, kCounts);
  EXPECT_EQ(decode_counter_gossip("").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_gossip("hello").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_gossip(payload + "x").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_gossip(payload.substr(0, payload.size() - 1)).code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_gossip(encode_counter_gossip(CounterGossip{kNoNode, kCounts})).code(),
            ErrorCode::kInvalidInput);
}

TEST(ReplicatedCounterConfig, RejectsConfigurationsThatCannotRun) {
  CounterConfig config;
  config.members = {NodeId(1), NodeId(2)};
  EXPECT_TRUE(validate_counter_config(config, NodeId(1)).is_ok());
  EXPECT_EQ(validate_counter_config(config, NodeId(3)).code(), ErrorCode::kInvalidInput);
  config.members = {NodeId(1), NodeId(1)};
  EXPECT_EQ(validate_counter_config(config, NodeId(1)).code(), ErrorCode::kInvalidInput);
  config.members = {NodeId(1)};
  config.gossip_interval = Duration(0);
  EXPECT_EQ(validate_counter_config(config, NodeId(1)).code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace lockstep::node
