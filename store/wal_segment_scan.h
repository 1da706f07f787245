#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "store/wal_record.h"

namespace lockstep::store {

// The records of one segment file, as far as they verify.
struct WalSegmentScan {
  std::vector<WalFrame> frames;  // payloads point into the scanned bytes
  // Offset just past the last valid record: where a torn tail is cut and appending resumes.
  uint64_t valid_end_offset = 0;
  // Bytes after valid_end_offset that were recognised as a torn tail (0 when the file ends
  // cleanly).
  uint64_t torn_tail_bytes = 0;
};

// Scans `bytes`, the contents of segment `path` with sequence `sequence`.
//
// A record that does not verify is either the torn tail of a crash or corruption, and the two
// must never be confused: cutting rot silently loses acknowledged data, while refusing a torn
// tail makes a crash unrecoverable. The rule:
//  - In a sealed (non-final) segment every byte was fsynced before the next segment was
//    created, so any damaged record is corruption.
//  - In the final segment, a damaged record at offset X is corruption exactly when some later
//    valid record says (synced_through > X) that X had already been fsynced when it was
//    written. Otherwise X lies past the last fsync, where a crash may leave anything (a short
//    write, zeros, or later writes of the same batch without earlier ones), so it and
//    everything after it are the torn tail.
// Corruption is kDataCorruption naming the file and offset.
Result<WalSegmentScan> scan_wal_segment(std::string_view path, uint64_t sequence,
                                        std::string_view bytes, bool is_final_segment);

}  // namespace lockstep::store
