#include "core/node/replicated_counter.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

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
  // Header (8 bytes) plus the body: CRC32C detects every single-bit error.
  const size_t record_bytes = 8 + (slot.find_last_not_of('\0') + 1 - 8);
  for (size_t bit = 0; bit < record_bytes * 8; ++bit) {
    std::string damaged = slot;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    auto record = decode_counter_slot(damaged);
    ASSERT_FALSE(record.is_ok()) << "bit " << bit;
  }
}

TEST(ReplicatedCounterFormat, TornAndEmptySlotsAreTellApart) {
  const std::string slot = encode_counter_slot(3, kCounts);
  EXPECT_EQ(decode_counter_slot(std::string(kCounterSlotBytes, '\0')).code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(decode_counter_slot("").code(), ErrorCode::kInvalidInput);
  // A torn write that kept only the first few bytes of a record: length says more follows.
  std::string torn = slot.substr(0, 10) + std::string(kCounterSlotBytes - 10, '\0');
  EXPECT_EQ(decode_counter_slot(torn).code(), ErrorCode::kDataCorruption);
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
