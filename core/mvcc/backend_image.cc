#include "core/mvcc/backend_image.h"

#include "core/base/crc32c.h"
#include "core/mvcc/byte_codec.h"

namespace lockstep::mvcc {
namespace {

constexpr std::string_view kImageMagic = "LSMVCC1\n";
constexpr size_t kChecksumBytes = 4;
// Records read per backend call while dumping, so a large store is read in bounded pages.
constexpr size_t kImageReadPageRecords = 4096;

Error corrupt(std::string detail) {
  return Error(ErrorCode::kDataCorruption, "backend image: " + std::move(detail));
}

}  // namespace

std::string encode_backend_image(const BackendImage& image) {
  ByteWriter writer;
  writer.put_raw(kImageMagic);
  writer.put_varint(image.consistent_index.value());
  writer.put_varint(image.revisions.size());
  for (const RevisionRecord& record : image.revisions) {
    writer.put_signed(record.revision.main.value());
    writer.put_signed(record.revision.sub);
    writer.put_varint(record.tombstone ? 1 : 0);
    writer.put_bytes(record.data);
  }
  writer.put_varint(image.leases.size());
  for (const LeaseRecord& lease : image.leases) {
    writer.put_signed(lease.id.value());
    writer.put_bytes(lease.data);
  }
  writer.put_varint(image.meta.size());
  for (const auto& [name, value] : image.meta) {
    writer.put_bytes(name);
    writer.put_bytes(value);
  }
  const uint32_t checksum = crc32c(writer.bytes());
  writer.put_fixed32(checksum);
  return writer.take();
}

Result<BackendImage> decode_backend_image(std::string_view bytes) {
  if (bytes.size() < kImageMagic.size() + kChecksumBytes) return corrupt("too short");
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  ByteReader checksum_reader(bytes.substr(body.size()));
  uint32_t stored_checksum = 0;
  ASSERT(checksum_reader.get_fixed32(stored_checksum), "four bytes were set aside");
  if (crc32c(body) != stored_checksum) return corrupt("checksum mismatch");

  ByteReader reader(body);
  std::string_view magic;
  if (!reader.get_raw(kImageMagic.size(), magic) || magic != kImageMagic) {
    return corrupt("bad magic");
  }
  BackendImage image;
  uint64_t consistent_index = 0;
  uint64_t count = 0;
  if (!reader.get_varint(consistent_index)) return corrupt("truncated consistent index");
  image.consistent_index = LogIndex(consistent_index);

  if (!reader.get_varint(count)) return corrupt("truncated revision count");
  for (uint64_t index = 0; index < count; ++index) {
    RevisionRecord record;
    int64_t main = 0;
    uint64_t tombstone = 0;
    if (!reader.get_signed(main) || !reader.get_signed(record.revision.sub) ||
        !reader.get_varint(tombstone) || !reader.get_bytes(record.data)) {
      return corrupt("truncated revision record");
    }
    if (tombstone > 1) return corrupt("bad tombstone flag");
    record.revision.main = Revision(main);
    record.tombstone = tombstone == 1;
    if (!image.revisions.empty() && !(image.revisions.back().revision < record.revision)) {
      return corrupt("revisions out of order");
    }
    image.revisions.push_back(std::move(record));
  }

  if (!reader.get_varint(count)) return corrupt("truncated lease count");
  for (uint64_t index = 0; index < count; ++index) {
    LeaseRecord lease;
    int64_t id = 0;
    if (!reader.get_signed(id) || !reader.get_bytes(lease.data)) {
      return corrupt("truncated lease record");
    }
    lease.id = LeaseId(id);
    if (!image.leases.empty() && !(image.leases.back().id < lease.id)) {
      return corrupt("leases out of order");
    }
    image.leases.push_back(std::move(lease));
  }

  if (!reader.get_varint(count)) return corrupt("truncated meta count");
  for (uint64_t index = 0; index < count; ++index) {
    std::string name;
    std::string value;
    if (!reader.get_bytes(name) || !reader.get_bytes(value)) return corrupt("truncated meta");
    if (!image.meta.emplace(std::move(name), std::move(value)).second) {
      return corrupt("duplicate meta entry");
    }
  }
  if (!reader.at_end()) return corrupt("trailing bytes");
  return image;
}

Result<BackendImage> read_backend_image(const Backend& backend) {
  BackendImage image;
  image.consistent_index = backend.consistent_index();
  RevisionKey from{Revision(0), 0};
  const RevisionKey until{Revision(INT64_MAX), INT64_MAX};
  while (true) {
    Result<std::vector<RevisionRecord>> page =
        backend.read_revisions(from, until, kImageReadPageRecords);
    if (!page.is_ok()) return page.error();
    if (page->empty()) break;
    from = RevisionKey{page->back().revision.main, page->back().revision.sub + 1};
    const bool last_page = page->size() < kImageReadPageRecords;
    for (RevisionRecord& record : *page) image.revisions.push_back(std::move(record));
    if (last_page) break;
  }
  Result<std::vector<LeaseRecord>> leases = backend.read_leases();
  if (!leases.is_ok()) return leases.error();
  image.leases = std::move(*leases);
  Result<std::map<std::string, std::string>> meta = backend.read_meta();
  if (!meta.is_ok()) return meta.error();
  image.meta = std::move(*meta);
  return image;
}

}  // namespace lockstep::mvcc
