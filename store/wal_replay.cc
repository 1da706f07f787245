#include "store/wal_replay.h"

#include <algorithm>

namespace lockstep::store {
namespace {

Error corruption_at(std::string_view path, uint64_t offset, std::string_view why) {
  return Error(ErrorCode::kDataCorruption, "WAL segment " + std::string(path) + " offset " +
                                               std::to_string(offset) + ": " + std::string(why));
}

Status located(Status status, std::string_view path, uint64_t offset) {
  if (status.is_ok()) return status;
  return corruption_at(path, offset, status.error().detail());
}

}  // namespace

Status WalReplay::apply(const WalFrame& frame, std::string_view path, uint64_t offset) {
  switch (frame.type) {
    case WalRecordType::kSegmentHeader: {
      Result<WalSegmentHeader> header = decode_segment_header(frame.payload);
      RETURN_IF_ERROR(located(header.status(), path, offset));
      return apply_segment_header(*header, path, offset);
    }
    case WalRecordType::kHardState: {
      Result<raft::HardState> hard_state = decode_hard_state(frame.payload);
      RETURN_IF_ERROR(located(hard_state.status(), path, offset));
      contents_.hard_state = *hard_state;
      return Status::ok();
    }
    case WalRecordType::kEntry: {
      Result<raft::Entry> entry = decode_entry(frame.payload);
      RETURN_IF_ERROR(located(entry.status(), path, offset));
      return apply_entry(std::move(entry).value(), path, offset);
    }
    case WalRecordType::kSnapshotMarker: {
      Result<WalSnapshotMarker> marker = decode_snapshot_marker(frame.payload);
      RETURN_IF_ERROR(located(marker.status(), path, offset));
      apply_snapshot_marker(*marker);
      return Status::ok();
    }
  }
  return corruption_at(path, offset, "unknown record type");
}

Status WalReplay::apply_segment_header(const WalSegmentHeader& header, std::string_view path,
                                       uint64_t offset) {
  if (offset != 0) return corruption_at(path, offset, "segment header inside a segment");
  if (!seen_first_segment_) {
    // The oldest retained segment: entries before its first index were released.
    seen_first_segment_ = true;
    if (header.first_index == LogIndex(0)) {
      return corruption_at(path, offset, "segment first index 0");
    }
    contents_.base_index = header.first_index.previous();
    base_is_released_prefix_ = true;
    return Status::ok();
  }
  if (header.first_index != contents_.last_index().next()) {
    return corruption_at(path, offset,
                         "segment starts at index " + std::to_string(header.first_index.value()) +
                             " but the log before it ends at " +
                             std::to_string(contents_.last_index().value()));
  }
  return Status::ok();
}

Status WalReplay::apply_entry(raft::Entry entry, std::string_view path, uint64_t offset) {
  if (!seen_first_segment_) return corruption_at(path, offset, "entry before a segment header");
  const LogIndex index = entry.index;
  if (index <= contents_.base_index) {
    if (base_is_released_prefix_) {
      // The oldest retained segment may overwrite entries that lived in a released segment
      // (a new leader's entries written after the cut). The log is then this entry after an
      // unknown, released prefix.
      contents_.entries.clear();
      contents_.base_index = index.previous();
    } else {
      // Raft never appends at or below a snapshot it has (thesis §5.1).
      return corruption_at(path, offset,
                           "entry " + std::to_string(index.value()) +
                               " at or below the snapshot index " +
                               std::to_string(contents_.base_index.value()));
    }
  }
  if (index > contents_.last_index().next()) {
    return corruption_at(path, offset,
                         "gap: entry " + std::to_string(index.value()) + " after last index " +
                             std::to_string(contents_.last_index().value()));
  }
  const uint64_t keep = index.value() - contents_.base_index.value() - 1;
  contents_.entries.resize(keep);  // drops the overwritten suffix, if any
  contents_.entries.push_back(std::move(entry));
  return Status::ok();
}

void WalReplay::apply_snapshot_marker(const WalSnapshotMarker& marker) {
  auto& markers = contents_.snapshot_markers;
  if (std::find(markers.begin(), markers.end(), marker) == markers.end()) {
    markers.push_back(marker);
  }
  const LogIndex base = contents_.base_index;
  if (marker.index <= base) return;  // a repeated marker of an older snapshot
  const bool beyond_log = marker.index > contents_.last_index();
  const bool term_disagrees =
      !beyond_log && contents_.entries[marker.index.value() - base.value() - 1].term != marker.term;
  if (beyond_log || term_disagrees) {
    contents_.entries.clear();
    contents_.base_index = marker.index;
    base_is_released_prefix_ = false;
  }
}

}  // namespace lockstep::store
