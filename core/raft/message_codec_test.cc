#include "core/raft/message_codec.h"

#include <gtest/gtest.h>

#include "core/base/crc32c.h"
#include "core/base/random.h"

namespace lockstep::raft {
namespace {

Message full_message() {
  Message message{.type = MessageType::kSnapshot,
                  .from = NodeId(3),
                  .to = NodeId(1),
                  .term = Term(7),
                  .log_term = Term(6),
                  .index = LogIndex(1234567890123ull),
                  .commit = LogIndex(99),
                  .reject = true,
                  .reject_hint = LogIndex(42),
                  .context = std::string("ctx\0with-nul", 12)};
  message.entries.push_back(Entry{.term = Term(6), .index = LogIndex(100), .data = "hello"});
  message.entries.push_back(Entry{.term = Term(7),
                                  .index = LogIndex(101),
                                  .type = EntryType::kConfChange,
                                  .data = encode_conf_change(ConfChange{})});
  message.snapshot.metadata =
      SnapshotMetadata{.index = LogIndex(90),
                       .term = Term(5),
                       .conf_state = ConfState{.voters = {NodeId(1), NodeId(2)},
                                               .learners = {NodeId(4)},
                                               .voters_outgoing = {NodeId(1), NodeId(3)},
                                               .learners_next = {NodeId(3)},
                                               .auto_leave = true}};
  message.snapshot.data = std::string(1000, 'x');
  return message;
}

TEST(MessageCodecTest, RoundTripsEveryField) {
  const Message original = full_message();
  Result<Message> decoded = decode_message(encode_message(original));
  ASSERT_TRUE(decoded.is_ok()) << decoded.error();
  EXPECT_EQ(*decoded, original);
}

TEST(MessageCodecTest, RoundTripsEveryMessageType) {
  for (uint8_t type = 1; type <= kMaxMessageType; ++type) {
    Message message{.type = static_cast<MessageType>(type), .from = NodeId(1), .to = NodeId(2)};
    Result<Message> decoded = decode_message(encode_message(message));
    ASSERT_TRUE(decoded.is_ok()) << decoded.error();
    EXPECT_EQ(*decoded, message);
  }
}

TEST(MessageCodecTest, HeartbeatIsCompact) {
  const Message heartbeat{.type = MessageType::kHeartbeat,
                          .from = NodeId(1),
                          .to = NodeId(2),
                          .term = Term(5),
                          .commit = LogIndex(1000)};
  // version, type, 7 small varints, flags, empty context, no entries, crc: well under 32.
  EXPECT_LT(encode_message(heartbeat).size(), 24u);
}

TEST(MessageCodecTest, RejectsEveryTruncation) {
  const std::string bytes = encode_message(full_message());
  for (size_t length = 0; length < bytes.size(); ++length) {
    Result<Message> decoded = decode_message(std::string_view(bytes).substr(0, length));
    EXPECT_FALSE(decoded.is_ok()) << "prefix of " << length << " bytes decoded";
  }
}

TEST(MessageCodecTest, DetectsEverySingleBitFlip) {
  const std::string bytes = encode_message(full_message());
  for (size_t bit = 0; bit < bytes.size() * 8; bit += 7) {
    std::string corrupted = bytes;
    corrupted[bit / 8] = static_cast<char>(corrupted[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(decode_message(corrupted).is_ok()) << "flip of bit " << bit << " went unnoticed";
  }
}

TEST(MessageCodecTest, ChecksumMismatchIsDataCorruption) {
  std::string bytes = encode_message(full_message());
  bytes.back() = static_cast<char>(bytes.back() ^ 1);
  EXPECT_EQ(decode_message(bytes).code(), ErrorCode::kDataCorruption);
}

TEST(MessageCodecTest, RejectsUnknownVersionWithClearError) {
  std::string bytes = encode_message(Message{.type = MessageType::kHeartbeat});
  // Re-seal with a valid checksum so the version check itself is exercised.
  std::string body = bytes.substr(0, bytes.size() - 4);
  body[0] = 9;

  const uint32_t crc = crc32c(body);
  for (int shift = 0; shift < 32; shift += 8) body.push_back(static_cast<char>(crc >> shift));
  Result<Message> decoded = decode_message(body);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(decoded.error().detail().find("version 9"), std::string::npos) << decoded.error();
}

TEST(MessageCodecTest, RandomBytesNeverCrashTheDecoder) {
  Random random(20240601);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(random.below(64), '\0');
    for (char& byte : bytes) byte = static_cast<char>(random.below(256));
    if (random.chance(0.5) && bytes.size() >= 4) {
      // Give it a valid checksum so the structural checks are reached.
      std::string body = bytes.substr(0, bytes.size() - 4);
      if (!body.empty()) body[0] = static_cast<char>(kMessageFormatVersion);
      const uint32_t crc = crc32c(body);
      for (int shift = 0; shift < 32; shift += 8) body.push_back(static_cast<char>(crc >> shift));
      bytes = body;
    }
    Result<Message> decoded = decode_message(bytes);
    if (decoded.is_ok()) {
      // Whatever decodes must re-encode to the same bytes (a canonical encoding).
      EXPECT_EQ(encode_message(*decoded), bytes);
    }
  }
}

TEST(MessageCodecTest, ConfChangeRoundTripsAndRejectsGarbage) {
  ConfChange change{.transition = ConfChangeTransition::kJointExplicit,
                    .changes = {{ConfChangeType::kAddNode, NodeId(4)},
                                {ConfChangeType::kRemoveNode, NodeId(1)},
                                {ConfChangeType::kAddLearnerNode, NodeId(7)},
                                {ConfChangeType::kUpdateNode, NodeId(4)}},
                    .context = "peer urls"};
  Result<ConfChange> decoded = decode_conf_change(encode_conf_change(change));
  ASSERT_TRUE(decoded.is_ok()) << decoded.error();
  EXPECT_EQ(*decoded, change);
  EXPECT_FALSE(decode_conf_change("").is_ok());
  EXPECT_FALSE(decode_conf_change(std::string("\x01\x09\x00\x00", 4)).is_ok());  // transition
  std::string bad_type = encode_conf_change(change);
  bad_type[3] = 4;  // etcd's raftpb has no ConfChangeType 4
  EXPECT_FALSE(decode_conf_change(bad_type).is_ok());
}

}  // namespace
}  // namespace lockstep::raft
