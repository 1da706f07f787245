#include "store/wal_segment_scan.h"

namespace lockstep::store {
namespace {

Error corruption_at(std::string_view path, uint64_t offset, std::string_view why) {
  return Error(ErrorCode::kDataCorruption, "WAL segment " + std::string(path) + " offset " +
                                               std::to_string(offset) + ": " + std::string(why));
}

}  // namespace

Result<WalSegmentScan> scan_wal_segment(std::string_view path, uint64_t sequence,
                                        std::string_view bytes, bool is_final_segment) {
  WalSegmentScan scan;
  uint64_t offset = 0;
  while (offset < bytes.size()) {
    if (std::optional<WalFrame> frame = decode_wal_frame(bytes, sequence, offset)) {
      scan.frames.push_back(*frame);
      offset = frame->next_offset;
      continue;
    }
    if (!is_final_segment) {
      return corruption_at(path, offset, "damaged record in a sealed segment");
    }
    for (uint64_t probe = offset + kWalRecordAlignmentBytes;
         probe + kWalRecordHeaderBytes <= bytes.size(); probe += kWalRecordAlignmentBytes) {
      std::optional<WalFrame> later = decode_wal_frame(bytes, sequence, probe);
      if (later && later->synced_through > offset) {
        return corruption_at(path, offset,
                             "damaged record followed by a valid record at offset " +
                                 std::to_string(probe) + " written after it was synced");
      }
    }
    scan.valid_end_offset = offset;
    scan.torn_tail_bytes = bytes.size() - offset;
    return scan;
  }
  scan.valid_end_offset = offset;
  return scan;
}

}  // namespace lockstep::store
