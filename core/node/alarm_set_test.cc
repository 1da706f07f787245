#include "core/node/alarm_set.h"

#include <gtest/gtest.h>

namespace lockstep::node {
namespace {

TEST(AlarmSetTest, ActivateDeactivateAndListLikeEtcd) {
  AlarmSet alarms;
  EXPECT_FALSE(alarms.has(AlarmType::kNoSpace));
  EXPECT_TRUE(alarms.activate({NodeId(7), AlarmType::kNoSpace}));
  EXPECT_FALSE(alarms.activate({NodeId(7), AlarmType::kNoSpace})) << "raising twice is one alarm";
  EXPECT_TRUE(alarms.activate({NodeId(3), AlarmType::kCorrupt}));
  EXPECT_TRUE(alarms.has(AlarmType::kNoSpace));
  EXPECT_EQ(alarms.list(), (std::vector<AlarmMember>{{NodeId(3), AlarmType::kCorrupt},
                                                     {NodeId(7), AlarmType::kNoSpace}}));
  EXPECT_EQ(alarms.list(NodeId(7)), (std::vector<AlarmMember>{{NodeId(7), AlarmType::kNoSpace}}));
  EXPECT_EQ(alarms.list(kNoNode, AlarmType::kCorrupt).size(), 1u);
  EXPECT_FALSE(alarms.deactivate({NodeId(3), AlarmType::kNoSpace})) << "not set: a no-op";
  EXPECT_TRUE(alarms.deactivate({NodeId(7), AlarmType::kNoSpace}));
  EXPECT_FALSE(alarms.has(AlarmType::kNoSpace));
}

TEST(AlarmSetTest, EncodingRoundTripsAndRejectsGarbage) {
  AlarmSet alarms;
  alarms.activate({NodeId(0x8e9e05c52164694d), AlarmType::kNoSpace});
  alarms.activate({NodeId(2), AlarmType::kCorrupt});
  Result<AlarmSet> decoded = AlarmSet::decode(alarms.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->list(), alarms.list());
  EXPECT_TRUE(AlarmSet::decode(AlarmSet().encode())->list().empty());
  EXPECT_FALSE(AlarmSet::decode("\x05").is_ok()) << "a count beyond the bytes";
  EXPECT_FALSE(AlarmSet::decode(std::string("\x01\x02\x09", 3)).is_ok()) << "unknown alarm type";
}

TEST(AlarmSetTest, AlarmEntriesAreToldApartFromKvEntries) {
  const AlarmEntry entry{ProposalTag{NodeId(5), 42},
                         AlarmRequest{AlarmAction::kDeactivate, NodeId(5), AlarmType::kNoSpace}};
  const std::string bytes = encode_alarm_entry(entry);
  EXPECT_TRUE(is_alarm_entry(bytes));
  Result<AlarmEntry> decoded = decode_alarm_entry(bytes);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->tag, entry.tag);
  EXPECT_EQ(decoded->request, entry.request);
  const std::string kv =
      encode_entry_payload(EntryPayload{ProposalTag{NodeId(5), 1}, mvcc::PutRequest{}});
  EXPECT_FALSE(is_alarm_entry(kv));
  EXPECT_FALSE(is_alarm_entry(""));
  EXPECT_FALSE(decode_alarm_entry(bytes.substr(0, bytes.size() - 1)).is_ok());
}

}  // namespace
}  // namespace lockstep::node
