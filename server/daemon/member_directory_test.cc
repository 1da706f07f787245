#include "server/daemon/member_directory.h"

#include <gtest/gtest.h>

#include "core/base/random.h"
#include "store/memory_disk.h"

namespace lockstep::daemon {
namespace {

MemberAttributes attributes(std::string name, std::string peer_url,
                            std::vector<std::string> client_urls = {}) {
  return MemberAttributes{std::move(name), {std::move(peer_url)}, std::move(client_urls)};
}

TEST(MemberDirectoryTest, AttributesRoundTripAsEtcdsContextJson) {
  const MemberAttributes member =
      attributes("m2", "http://10.0.0.2:2380", {"http://10.0.0.2:2379"});
  Result<MemberAttributes> decoded = decode_member_attributes(encode_member_attributes(member));
  ASSERT_TRUE(decoded.is_ok()) << decoded.error();
  EXPECT_EQ(*decoded, member);
  EXPECT_FALSE(decode_member_attributes("[1]").is_ok());
  EXPECT_FALSE(decode_member_attributes(R"({"peerURLs":"http://not-a-list"})").is_ok());
}

// A restart must see the members as the log last left them (a member update moved m2), not
// as --initial-cluster named them.
TEST(MemberDirectoryTest, SavedDirectoryIsLoadedWhole) {
  store::MemoryDisk disk;
  MemberDirectory saved;
  saved.set(NodeId(0x10001), attributes("m1", "http://10.0.0.1:2380", {"http://10.0.0.1:2379"}));
  saved.set(NodeId(0x10002), attributes("m2", "http://10.0.0.2:12380"));
  ASSERT_TRUE(saved.save(disk).is_ok());
  saved.remove(NodeId(0x10002));
  ASSERT_TRUE(saved.save(disk).is_ok());  // replaces the previous copy

  MemberDirectory loaded;
  loaded.set(NodeId(0x10003), attributes("stale", "http://10.0.0.3:2380"));
  Result<bool> found = loaded.load(disk);
  ASSERT_TRUE(found.is_ok()) << found.error();
  EXPECT_TRUE(*found);
  EXPECT_EQ(loaded.members(), saved.members());
  EXPECT_EQ(loaded.find_by_peer_url("http://10.0.0.1:2380"), NodeId(0x10001));
  EXPECT_EQ(loaded.find_by_peer_url("http://10.0.0.3:2380"), kNoNode);
}

// save() returns only once the copy is durable: a crash that drops every unsynced write
// still finds it.
TEST(MemberDirectoryTest, SavedDirectorySurvivesACrash) {
  store::MemoryDisk disk;
  MemberDirectory saved;
  saved.set(NodeId(5), attributes("m5", "http://10.0.0.5:2380"));
  ASSERT_TRUE(saved.save(disk).is_ok());
  saved.set(NodeId(5), attributes("m5", "http://10.0.0.5:12380"));
  ASSERT_TRUE(saved.save(disk).is_ok());
  Random random{0};
  disk.crash(store::CrashMode::kDrop, random);
  MemberDirectory loaded;
  Result<bool> found = loaded.load(disk);
  ASSERT_TRUE(found.is_ok()) << found.error();
  ASSERT_TRUE(*found);
  EXPECT_EQ(loaded.get(NodeId(5)).peer_urls, std::vector<std::string>{"http://10.0.0.5:12380"});
}

TEST(MemberDirectoryTest, NoSavedCopyLeavesTheDirectoryAndGarbageIsRefused) {
  store::MemoryDisk disk;
  MemberDirectory directory;
  directory.set(NodeId(7), attributes("m7", "http://10.0.0.7:2380"));
  Result<bool> found = directory.load(disk);
  ASSERT_TRUE(found.is_ok()) << found.error();
  EXPECT_FALSE(*found);
  EXPECT_EQ(directory.get(NodeId(7)).name, "m7");

  for (std::string garbage : {"not json", R"({"x":{}})", R"({"0":{}})", R"({"9":[]})"}) {
    Result<std::unique_ptr<env::File>> file =
        disk.open(kMemberDirectoryFile, env::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->truncate(0).is_ok());
    ASSERT_TRUE((*file)->write(0, garbage).is_ok());
    Result<bool> refused = directory.load(disk);
    ASSERT_FALSE(refused.is_ok()) << garbage;
    EXPECT_EQ(refused.code(), ErrorCode::kDataCorruption) << garbage;
    EXPECT_EQ(directory.get(NodeId(7)).name, "m7");
  }
}

}  // namespace
}  // namespace lockstep::daemon
