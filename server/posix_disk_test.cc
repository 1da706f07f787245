#include "server/posix_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace lockstep::server {
namespace {

// A fresh directory under the system's temp dir, removed with everything in it afterwards.
class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "posix_disk_XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class PosixDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<PosixDisk>> opened = PosixDisk::open_root(temp_.path() + "/data");
    ASSERT_TRUE(opened.is_ok()) << opened.error();
    disk_ = std::move(opened).value();
  }

  std::unique_ptr<env::File> open_file(std::string_view path) {
    Result<std::unique_ptr<env::File>> file = disk_->open(path, env::OpenMode::kCreateReadWrite);
    EXPECT_TRUE(file.is_ok()) << file.error();
    return file.is_ok() ? std::move(file).value() : nullptr;
  }

  TempDirectory temp_;
  std::unique_ptr<PosixDisk> disk_;
};

TEST_F(PosixDiskTest, OpenRootCreatesMissingParents) {
  Result<std::unique_ptr<PosixDisk>> nested = PosixDisk::open_root(temp_.path() + "/a/b/c");
  ASSERT_TRUE(nested.is_ok()) << nested.error();
  EXPECT_TRUE(std::filesystem::is_directory(temp_.path() + "/a/b/c"));
}

TEST_F(PosixDiskTest, WriteThenReadBackAtOffsets) {
  auto file = open_file("log");
  ASSERT_TRUE(file->write(0, "hello world").is_ok());
  ASSERT_TRUE(file->write(6, "WORLD").is_ok());
  ASSERT_TRUE(file->sync().is_ok());

  Result<std::string> all = file->read(0, 11);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(*all, "hello WORLD");
  Result<std::string> middle = file->read(3, 4);
  ASSERT_TRUE(middle.is_ok());
  EXPECT_EQ(*middle, "lo W");
  Result<uint64_t> size = file->size();
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(*size, 11u);
}

TEST_F(PosixDiskTest, ReadPastEndReturnsFewerBytes) {
  auto file = open_file("short");
  ASSERT_TRUE(file->write(0, "abc").is_ok());
  Result<std::string> tail = file->read(1, 100);
  ASSERT_TRUE(tail.is_ok());
  EXPECT_EQ(*tail, "bc");
  Result<std::string> beyond = file->read(50, 10);
  ASSERT_TRUE(beyond.is_ok());
  EXPECT_EQ(*beyond, "");
}

TEST_F(PosixDiskTest, WriteBeyondEndLeavesZeroFilledHole) {
  auto file = open_file("holey");
  ASSERT_TRUE(file->write(4, "x").is_ok());
  Result<std::string> bytes = file->read(0, 5);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(*bytes, std::string("\0\0\0\0x", 5));
}

TEST_F(PosixDiskTest, TruncateShrinksAndGrows) {
  auto file = open_file("t");
  ASSERT_TRUE(file->write(0, "0123456789").is_ok());
  ASSERT_TRUE(file->truncate(4).is_ok());
  EXPECT_EQ(*file->size(), 4u);
  EXPECT_EQ(*file->read(0, 10), "0123");
  ASSERT_TRUE(file->truncate(6).is_ok());
  EXPECT_EQ(*file->read(0, 10), std::string("0123\0\0", 6));
}

TEST_F(PosixDiskTest, DataSurvivesReopenThroughANewDiskObject) {
  {
    auto file = open_file("persist");
    ASSERT_TRUE(file->write(0, "durable").is_ok());
    ASSERT_TRUE(file->sync().is_ok());
  }
  ASSERT_TRUE(disk_->sync_directory("").is_ok());
  Result<std::unique_ptr<PosixDisk>> again = PosixDisk::open_root(temp_.path() + "/data");
  ASSERT_TRUE(again.is_ok());
  Result<std::unique_ptr<env::File>> file = (*again)->open("persist", env::OpenMode::kReadWrite);
  ASSERT_TRUE(file.is_ok()) << file.error();
  EXPECT_EQ(*(*file)->read(0, 100), "durable");
}

TEST_F(PosixDiskTest, OpenMissingWithoutCreateIsFileNotFoundNamingThePath) {
  Result<std::unique_ptr<env::File>> file = disk_->open("missing.wal", env::OpenMode::kReadWrite);
  ASSERT_FALSE(file.is_ok());
  EXPECT_EQ(file.code(), ErrorCode::kFileNotFound);
  EXPECT_NE(file.error().detail().find("missing.wal"), std::string::npos) << file.error();
  EXPECT_FALSE(disk_->exists("missing.wal")) << "a failed open must not create the file";
}

TEST_F(PosixDiskTest, CreateInMissingDirectoryIsFileNotFound) {
  Result<std::unique_ptr<env::File>> file =
      disk_->open("nodir/file", env::OpenMode::kCreateReadWrite);
  ASSERT_FALSE(file.is_ok());
  EXPECT_EQ(file.code(), ErrorCode::kFileNotFound);
}

TEST_F(PosixDiskTest, DirectoriesListSortedWithFullPaths) {
  ASSERT_TRUE(disk_->create_directory("wal").is_ok());
  for (const char* name : {"wal/0003.wal", "wal/0001.wal", "wal/0002.wal"}) open_file(name);
  open_file("top");
  ASSERT_TRUE(disk_->sync_directory("wal").is_ok());

  Result<std::vector<std::string>> wal = disk_->list("wal");
  ASSERT_TRUE(wal.is_ok()) << wal.error();
  EXPECT_EQ(*wal, (std::vector<std::string>{"wal/0001.wal", "wal/0002.wal", "wal/0003.wal"}));
  Result<std::vector<std::string>> root = disk_->list("");
  ASSERT_TRUE(root.is_ok());
  EXPECT_EQ(*root, (std::vector<std::string>{"top"})) << "directories are not listed";
}

TEST_F(PosixDiskTest, CreateDirectoryNeedsItsParentAndIsIdempotent) {
  EXPECT_EQ(disk_->create_directory("snap/db").code(), ErrorCode::kFileNotFound);
  ASSERT_TRUE(disk_->create_directory("snap").is_ok());
  ASSERT_TRUE(disk_->create_directory("snap/db").is_ok());
  ASSERT_TRUE(disk_->create_directory("snap/db").is_ok());
  EXPECT_TRUE(disk_->exists("snap/db"));
  open_file("plain");
  EXPECT_EQ(disk_->create_directory("plain").code(), ErrorCode::kInvalidInput);
}

TEST_F(PosixDiskTest, DirectoriesAreNeitherRenamedNorReplaced) {
  ASSERT_TRUE(disk_->create_directory("dir").is_ok());
  open_file("file");
  EXPECT_EQ(disk_->rename("dir", "moved").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(disk_->rename("file", "dir").code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(disk_->exists("dir"));
  EXPECT_TRUE(disk_->exists("file"));
}

TEST_F(PosixDiskTest, RemovingANonEmptyDirectoryIsAnIoError) {
  ASSERT_TRUE(disk_->create_directory("full").is_ok());
  open_file("full/x");
  EXPECT_EQ(disk_->remove("full").code(), ErrorCode::kIoError);
  EXPECT_TRUE(disk_->exists("full/x"));
}

TEST_F(PosixDiskTest, RenameReplacesTargetAtomically) {
  auto old_file = open_file("target");
  ASSERT_TRUE(old_file->write(0, "old").is_ok());
  auto new_file = open_file("target.tmp");
  ASSERT_TRUE(new_file->write(0, "new").is_ok());
  ASSERT_TRUE(new_file->sync().is_ok());
  ASSERT_TRUE(disk_->rename("target.tmp", "target").is_ok());
  ASSERT_TRUE(disk_->sync_directory("").is_ok());

  EXPECT_FALSE(disk_->exists("target.tmp"));
  Result<std::unique_ptr<env::File>> reopened = disk_->open("target", env::OpenMode::kReadWrite);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(*(*reopened)->read(0, 10), "new");
}

TEST_F(PosixDiskTest, RenameOfMissingFileIsFileNotFound) {
  Status renamed = disk_->rename("nothing", "something");
  EXPECT_EQ(renamed.code(), ErrorCode::kFileNotFound);
  EXPECT_NE(renamed.error().detail().find("nothing"), std::string::npos);
}

TEST_F(PosixDiskTest, RemoveFilesAndEmptyDirectories) {
  open_file("gone");
  ASSERT_TRUE(disk_->remove("gone").is_ok());
  EXPECT_FALSE(disk_->exists("gone"));
  EXPECT_EQ(disk_->remove("gone").code(), ErrorCode::kFileNotFound);

  ASSERT_TRUE(disk_->create_directory("empty").is_ok());
  ASSERT_TRUE(disk_->remove("empty").is_ok());
  EXPECT_FALSE(disk_->exists("empty"));
}

TEST_F(PosixDiskTest, ListOfMissingDirectoryIsFileNotFound) {
  EXPECT_EQ(disk_->list("nowhere").code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk_->sync_directory("nowhere").code(), ErrorCode::kFileNotFound);
}

TEST_F(PosixDiskTest, PathsThatEscapeTheRootAreRejectedBeforeTouchingTheFileSystem) {
  // A file next to the data directory that an escaping path would reach.
  { std::ofstream(temp_.path() + "/outside") << "secret"; }
  for (std::string_view bad :
       {"../outside", "/etc/passwd", "a/../../outside", "./x", "a//b", "a/", "..", "."}) {
    SCOPED_TRACE(std::string(bad));
    EXPECT_EQ(disk_->open(bad, env::OpenMode::kCreateReadWrite).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(disk_->remove(bad).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(disk_->rename("x", bad).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(disk_->list(bad).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(disk_->create_directory(bad).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(disk_->sync_directory(bad).code(), ErrorCode::kInvalidInput);
    EXPECT_FALSE(disk_->exists(bad));
  }
  EXPECT_TRUE(std::filesystem::exists(temp_.path() + "/outside")) << "nothing was removed";
  EXPECT_EQ(disk_->open("", env::OpenMode::kCreateReadWrite).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(disk_->open(std::string_view("a\0b", 3), env::OpenMode::kCreateReadWrite).code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(
      disk_->open(std::string(kMaxDiskPathBytes + 1, 'x'), env::OpenMode::kCreateReadWrite).code(),
      ErrorCode::kInvalidInput);
}

TEST(DiskErrorFromErrno, MapsErrnoToTheErrorTable) {
  EXPECT_EQ(disk_error_from_errno(ENOENT, "open", "p").code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk_error_from_errno(ENOTDIR, "open", "p").code(), ErrorCode::kFileNotFound);
  EXPECT_EQ(disk_error_from_errno(ENOSPC, "write", "p").code(), ErrorCode::kDiskFull);
  EXPECT_EQ(disk_error_from_errno(EDQUOT, "write", "p").code(), ErrorCode::kDiskFull);
  const Error io = disk_error_from_errno(EIO, "fdatasync", "wal/1.wal");
  EXPECT_EQ(io.code(), ErrorCode::kIoError);
  EXPECT_EQ(io.detail(), "fdatasync wal/1.wal: Input/output error");
}

TEST(DiskFull, WritesToAFullDeviceReportDiskFull) {
  // /dev/full answers every write with ENOSPC: the real errno path, end to end.
  if (::access("/dev/full", W_OK) != 0) GTEST_FAIL() << "/dev/full missing on this system";
  Result<std::unique_ptr<PosixDisk>> dev = PosixDisk::open_root("/dev");
  ASSERT_TRUE(dev.is_ok());
  Result<std::unique_ptr<env::File>> full = (*dev)->open("full", env::OpenMode::kReadWrite);
  ASSERT_TRUE(full.is_ok()) << full.error();
  Status written = (*full)->write(0, "x");
  EXPECT_EQ(written.code(), ErrorCode::kDiskFull);
  EXPECT_NE(written.error().detail().find("full"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::server
