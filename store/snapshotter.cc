#include "store/snapshotter.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "core/base/crc32c.h"
#include "store/byte_reader.h"
#include "store/byte_writer.h"
#include "store/wal.h"

namespace lockstep::store {
namespace {

// "LKSTSNP1" read as a little-endian u64.
constexpr uint64_t kSnapshotMagic = 0x31504e5354534b4cull;
constexpr uint32_t kSnapshotFormatVersion = 1;
constexpr std::string_view kSnapshotSuffix = ".snap";
constexpr std::string_view kTemporarySuffix = ".tmp";
constexpr size_t kNameHexDigits = 16;
constexpr size_t kChecksumBytes = 4;
// A ConfState lists members; anything beyond this many ids is a corrupt count, not a cluster.
constexpr uint64_t kMaxConfStateIds = 1u << 16;

void write_ids(ByteWriter& writer, const std::vector<NodeId>& ids) {
  writer.u64(ids.size());
  for (NodeId id : ids) writer.u64(id.value());
}

bool read_ids(ByteReader& reader, std::vector<NodeId>& ids) {
  const uint64_t count = reader.u64();
  if (!reader.ok() || count > kMaxConfStateIds) return false;
  for (uint64_t i = 0; i < count; ++i) ids.push_back(NodeId(reader.u64()));
  return reader.ok();
}

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<uint64_t> parse_hex(std::string_view digits) {
  if (digits.size() != kNameHexDigits) return std::nullopt;
  uint64_t value = 0;
  for (char digit : digits) {
    value <<= 4;
    if (digit >= '0' && digit <= '9') {
      value |= static_cast<uint64_t>(digit - '0');
    } else if (digit >= 'a' && digit <= 'f') {
      value |= static_cast<uint64_t>(digit - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

}  // namespace

std::string encode_snapshot_file(const raft::Snapshot& snapshot) {
  std::string out;
  ByteWriter writer(out);
  writer.u64(kSnapshotMagic);
  writer.u32(kSnapshotFormatVersion);
  writer.u64(snapshot.metadata.index.value());
  writer.u64(snapshot.metadata.term.value());
  const raft::ConfState& conf = snapshot.metadata.conf_state;
  write_ids(writer, conf.voters);
  write_ids(writer, conf.learners);
  write_ids(writer, conf.voters_outgoing);
  write_ids(writer, conf.learners_next);
  writer.u8(conf.auto_leave ? 1 : 0);
  writer.bytes(snapshot.data);
  writer.u32(crc32c(out));
  return out;
}

Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes) {
  if (bytes.size() < kChecksumBytes) {
    return Error(ErrorCode::kDataCorruption, "snapshot file too short");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (crc32c(body) != load_u32(bytes.data() + body.size())) {
    return Error(ErrorCode::kDataCorruption, "snapshot checksum mismatch");
  }
  ByteReader reader(body);
  if (reader.u64() != kSnapshotMagic) {
    return Error(ErrorCode::kDataCorruption, "not a snapshot file (bad magic)");
  }
  if (const uint32_t version = reader.u32(); version != kSnapshotFormatVersion) {
    return Error(ErrorCode::kDataCorruption,
                 "unsupported snapshot format version " + std::to_string(version));
  }
  raft::Snapshot snapshot;
  snapshot.metadata.index = LogIndex(reader.u64());
  snapshot.metadata.term = Term(reader.u64());
  raft::ConfState& conf = snapshot.metadata.conf_state;
  const bool ids_ok = read_ids(reader, conf.voters) && read_ids(reader, conf.learners) &&
                      read_ids(reader, conf.voters_outgoing) &&
                      read_ids(reader, conf.learners_next);
  const uint8_t auto_leave = reader.u8();
  snapshot.data = std::string(reader.bytes());
  if (!ids_ok || !reader.at_end() || auto_leave > 1) {
    return Error(ErrorCode::kDataCorruption, "malformed snapshot file");
  }
  conf.auto_leave = auto_leave == 1;
  return snapshot;
}

std::string Snapshotter::path_for(LogIndex index, Term term) const {
  char name[2 * kNameHexDigits + 2];
  std::snprintf(name, sizeof(name), "%016" PRIx64 "-%016" PRIx64, term.value(), index.value());
  return directory_ + "/" + name + std::string(kSnapshotSuffix);
}

Status Snapshotter::open() {
  RETURN_IF_ERROR(disk_.create_directory(directory_));
  RETURN_IF_ERROR(disk_.sync_directory(parent_directory(directory_)));
  Result<std::vector<std::string>> listing = disk_.list(directory_);
  RETURN_IF_ERROR(listing.status());
  bool removed = false;
  for (const std::string& listed : *listing) {
    const std::string_view name = base_name(listed);
    if (!name.ends_with(kTemporarySuffix)) continue;
    RETURN_IF_ERROR(disk_.remove(directory_ + "/" + std::string(name)));
    removed = true;
  }
  if (removed) RETURN_IF_ERROR(disk_.sync_directory(directory_));
  return Status::ok();
}

Status Snapshotter::save(const raft::Snapshot& snapshot) {
  const std::string path = path_for(snapshot.metadata.index, snapshot.metadata.term);
  const std::string temporary = path + std::string(kTemporarySuffix);
  const std::string bytes = encode_snapshot_file(snapshot);
  {
    Result<std::unique_ptr<env::File>> file =
        disk_.open(temporary, env::OpenMode::kCreateReadWrite);
    RETURN_IF_ERROR(file.status());
    RETURN_IF_ERROR((*file)->truncate(0));
    RETURN_IF_ERROR((*file)->write(0, bytes));
    RETURN_IF_ERROR((*file)->sync());
  }
  RETURN_IF_ERROR(disk_.rename(temporary, path));
  return disk_.sync_directory(directory_);
}

Result<std::vector<SnapshotFile>> Snapshotter::list() {
  Result<std::vector<std::string>> listing = disk_.list(directory_);
  RETURN_IF_ERROR(listing.status());
  std::vector<SnapshotFile> files;
  for (const std::string& listed : *listing) {
    const std::string_view name = base_name(listed);
    const std::string path = directory_ + "/" + std::string(name);
    if (name.ends_with(kTemporarySuffix)) continue;  // a save in progress
    constexpr size_t kNameBytes = 2 * kNameHexDigits + 1 + kSnapshotSuffix.size();
    std::optional<uint64_t> term, index;
    if (name.size() == kNameBytes && name.ends_with(kSnapshotSuffix) &&
        name[kNameHexDigits] == '-') {
      term = parse_hex(name.substr(0, kNameHexDigits));
      index = parse_hex(name.substr(kNameHexDigits + 1, kNameHexDigits));
    }
    if (!term || !index) {
      return Error(ErrorCode::kDataCorruption,
                   "unexpected file in the snapshot directory: " + path);
    }
    files.push_back(SnapshotFile{path, LogIndex(*index), Term(*term)});
  }
  std::sort(files.begin(), files.end(), [](const SnapshotFile& a, const SnapshotFile& b) {
    if (a.index != b.index) return a.index > b.index;
    return a.term > b.term;
  });
  return files;
}

Result<raft::Snapshot> Snapshotter::load(const SnapshotFile& file) {
  Result<std::unique_ptr<env::File>> opened = disk_.open(file.path, env::OpenMode::kReadWrite);
  RETURN_IF_ERROR(opened.status());
  Result<uint64_t> size = (*opened)->size();
  RETURN_IF_ERROR(size.status());
  std::string bytes;
  while (bytes.size() < *size) {
    Result<std::string> chunk = (*opened)->read(bytes.size(), *size - bytes.size());
    RETURN_IF_ERROR(chunk.status());
    if (chunk->empty()) break;
    bytes += *chunk;
  }
  Result<raft::Snapshot> snapshot = decode_snapshot_file(bytes);
  if (!snapshot) {
    return Error(ErrorCode::kDataCorruption, file.path + ": " + snapshot.error().detail());
  }
  if (snapshot->metadata.index != file.index || snapshot->metadata.term != file.term) {
    return Error(ErrorCode::kDataCorruption, file.path + ": contents disagree with the name");
  }
  return snapshot;
}

Status Snapshotter::remove(const SnapshotFile& file) {
  RETURN_IF_ERROR(disk_.remove(file.path));
  return disk_.sync_directory(directory_);
}

}  // namespace lockstep::store
