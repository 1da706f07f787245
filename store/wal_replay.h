#pragma once

#include <cstdint>
#include <string_view>

#include "core/base/error.h"
#include "store/wal.h"
#include "store/wal_record.h"

namespace lockstep::store {

// Rebuilds Raft's view of the log from WAL records in the order they were written, applying
// the same rules the writer relied on:
//  - an entry at index i <= last replaces the entry at i and drops everything after it (a new
//    leader overwrote an uncommitted suffix, Raft paper §5.3); i == last + 1 appends; a gap is
//    corruption, and so is an entry at or below a snapshot that replaced the log;
//  - a snapshot marker at (S, T) that lies beyond the log, or whose term disagrees with the
//    log's entry at S, replaces the whole log (Raft thesis §5.1: a follower installing a
//    snapshot discards its entire log unless it already has the snapshot's last entry);
//  - each segment header must continue the log where the previous segment left it.
class WalReplay {
 public:
  // `path` and `offset` locate the record for error messages.
  Status apply(const WalFrame& frame, std::string_view path, uint64_t offset);
  const WalContents& contents() const { return contents_; }
  WalContents take() { return std::move(contents_); }

 private:
  Status apply_segment_header(const WalSegmentHeader& header, std::string_view path,
                              uint64_t offset);
  Status apply_entry(raft::Entry entry, std::string_view path, uint64_t offset);
  void apply_snapshot_marker(const WalSnapshotMarker& marker);

  WalContents contents_;
  bool seen_first_segment_ = false;
  // True while base_index is only where the released segments ended (entries below it may
  // still be overwritten); false once a snapshot marker set it.
  bool base_is_released_prefix_ = false;
};

}  // namespace lockstep::store
