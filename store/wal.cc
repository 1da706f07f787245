#include "store/wal.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "core/base/assert.h"
#include "core/base/known_bugs.h"
#include "store/wal_replay.h"
#include "store/wal_segment_scan.h"

namespace lockstep::store {
namespace {

constexpr std::string_view kSegmentSuffix = ".wal";
constexpr std::string_view kTemporarySuffix = ".tmp";
constexpr size_t kSegmentNameHexDigits = 16;

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<uint64_t> parse_hex(std::string_view digits) {
  if (digits.size() != kSegmentNameHexDigits) return std::nullopt;
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

// Reads a whole file; env::File::read may return fewer bytes than asked, so it loops.
Result<std::string> read_whole_file(env::File& file, std::string_view path) {
  Result<uint64_t> size = file.size();
  RETURN_IF_ERROR(size.status());
  std::string bytes;
  bytes.reserve(*size);
  while (bytes.size() < *size) {
    Result<std::string> chunk = file.read(bytes.size(), *size - bytes.size());
    RETURN_IF_ERROR(chunk.status());
    if (chunk->empty()) {
      return Error(ErrorCode::kIoError, "short read of " + std::string(path) + " at offset " +
                                            std::to_string(bytes.size()));
    }
    bytes += *chunk;
  }
  return bytes;
}

}  // namespace

std::string parent_directory(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::optional<std::pair<uint64_t, LogIndex>> parse_wal_segment_name(std::string_view name) {
  constexpr size_t kNameBytes = 2 * kSegmentNameHexDigits + 1 + kSegmentSuffix.size();
  if (name.size() != kNameBytes || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  if (name[kSegmentNameHexDigits] != '-') return std::nullopt;
  std::optional<uint64_t> sequence = parse_hex(name.substr(0, kSegmentNameHexDigits));
  std::optional<uint64_t> first =
      parse_hex(name.substr(kSegmentNameHexDigits + 1, kSegmentNameHexDigits));
  if (!sequence || !first) return std::nullopt;
  return std::make_pair(*sequence, LogIndex(*first));
}

std::string Wal::segment_path(uint64_t sequence, LogIndex first_index) const {
  char name[2 * kSegmentNameHexDigits + 2];
  std::snprintf(name, sizeof(name), "%016" PRIx64 "-%016" PRIx64, sequence, first_index.value());
  return options_.directory + "/" + name + std::string(kSegmentSuffix);
}

Result<std::unique_ptr<Wal>> Wal::open(env::Disk& disk, WalOptions options, WalContents& contents) {
  ASSERT(options.segment_bytes >= 4096, "segments must hold more than their prologue");
  ASSERT(options.segment_bytes < (1ull << 32), "synced_through offsets are 32-bit");
  ASSERT(!options.directory.empty(), "the WAL needs a directory of its own");
  std::unique_ptr<Wal> wal(new Wal(disk, std::move(options)));
  RETURN_IF_ERROR(wal->recover(contents));
  return wal;
}

Wal::~Wal() = default;

Status Wal::fail(Error error) {
  if (!failed_) failed_ = error;
  return error;
}

void Wal::remember_marker(const WalSnapshotMarker& marker) {
  if (std::find(recent_markers_.begin(), recent_markers_.end(), marker) != recent_markers_.end()) {
    return;
  }
  recent_markers_.push_back(marker);
  if (recent_markers_.size() > kWalRepeatedSnapshotMarkers) recent_markers_.pop_front();
}

Status Wal::recover(WalContents& contents) {
  const std::string& directory = options_.directory;
  RETURN_IF_ERROR(disk_.create_directory(directory));
  // The directory's own name must be durable before files inside it can be.
  RETURN_IF_ERROR(disk_.sync_directory(parent_directory(directory)));
  Result<std::vector<std::string>> listing = disk_.list(directory);
  RETURN_IF_ERROR(listing.status());
  bool removed_temporary = false;
  for (const std::string& listed : *listing) {
    const std::string_view name = base_name(listed);
    const std::string path = directory + "/" + std::string(name);
    if (name.ends_with(kTemporarySuffix)) {
      // A segment whose creation did not finish: it never held appended records.
      RETURN_IF_ERROR(disk_.remove(path));
      removed_temporary = true;
      continue;
    }
    std::optional<std::pair<uint64_t, LogIndex>> parsed = parse_wal_segment_name(name);
    if (!parsed) {
      return Error(ErrorCode::kDataCorruption, "unexpected file in the WAL directory: " + path);
    }
    segments_.push_back(Segment{parsed->first, parsed->second, path});
  }
  if (removed_temporary) RETURN_IF_ERROR(disk_.sync_directory(directory));
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.sequence < b.sequence; });
  if (segments_.empty()) {
    contents = WalContents{};
    return create_first_segment();
  }
  for (size_t i = 1; i < segments_.size(); ++i) {
    if (segments_[i].sequence != segments_[i - 1].sequence + 1) {
      return Error(
          ErrorCode::kDataCorruption,
          "WAL segment missing between " + segments_[i - 1].path + " and " + segments_[i].path);
    }
  }

  WalReplay replay;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    const bool is_final = i + 1 == segments_.size();
    Result<std::unique_ptr<env::File>> file = disk_.open(segment.path, env::OpenMode::kReadWrite);
    RETURN_IF_ERROR(file.status());
    Result<std::string> bytes = read_whole_file(**file, segment.path);
    RETURN_IF_ERROR(bytes.status());
    Result<WalSegmentScan> scan =
        scan_wal_segment(segment.path, segment.sequence, *bytes, is_final);
    RETURN_IF_ERROR(scan.status());
    // The header was fsynced before the segment got its final name, so it must be there.
    std::optional<WalSegmentHeader> header;
    if (!scan->frames.empty() && scan->frames[0].type == WalRecordType::kSegmentHeader) {
      Result<WalSegmentHeader> decoded = decode_segment_header(scan->frames[0].payload);
      if (decoded) header = *decoded;
    }
    if (!header || header->sequence != segment.sequence ||
        header->first_index != segment.first_index) {
      return Error(ErrorCode::kDataCorruption,
                   "WAL segment " + segment.path + " offset 0: missing or mismatched header");
    }
    uint64_t offset = 0;
    for (const WalFrame& frame : scan->frames) {
      RETURN_IF_ERROR(replay.apply(frame, segment.path, offset));
      offset = frame.next_offset;
    }
    if (!is_final) continue;
    if (scan->torn_tail_bytes > 0) {
      const std::string_view tail = std::string_view(*bytes).substr(scan->valid_end_offset);
      const bool preallocated =
          options_.preallocate_bytes > 0 && tail.find_first_not_of('\0') == std::string_view::npos;
      contents.torn_tail_note =
          (preallocated ? "cut preallocated zeros, " : "cut a torn tail of ") +
          std::to_string(scan->torn_tail_bytes) + " bytes from " + segment.path + " at offset " +
          std::to_string(scan->valid_end_offset);
      RETURN_IF_ERROR((*file)->truncate(scan->valid_end_offset));
    }
    // Whatever survived is made durable before new records claim it as synced.
    RETURN_IF_ERROR((*file)->sync());
    tail_file_ = std::move(file).value();
    tail_size_ = scan->valid_end_offset;
    tail_file_end_ = tail_size_;
    tail_prologue_end_ = scan->frames[0].next_offset;
  }
  std::optional<std::string> note = std::move(contents.torn_tail_note);
  contents = replay.take();
  contents.torn_tail_note = std::move(note);
  last_index_ = contents.last_index();
  entry_terms_base_ = contents.base_index;
  for (const raft::Entry& entry : contents.entries) entry_terms_.push_back(entry.term);
  hard_state_ = contents.hard_state;
  for (const WalSnapshotMarker& marker : contents.snapshot_markers) remember_marker(marker);
  return Status::ok();
}

Status Wal::create_first_segment() {
  last_index_ = LogIndex(0);
  entry_terms_base_ = LogIndex(0);
  return create_segment(0, LogIndex(1));
}

Status Wal::create_segment(uint64_t sequence, LogIndex first_index) {
  const std::string path = segment_path(sequence, first_index);
  const std::string temporary = path + std::string(kTemporarySuffix);
  std::string prologue;
  append_wal_frame(prologue, sequence, 0, 0, WalRecordType::kSegmentHeader,
                   encode_segment_header(WalSegmentHeader{sequence, first_index}));
  for (const WalSnapshotMarker& marker : recent_markers_) {
    append_wal_frame(prologue, sequence, prologue.size(), 0, WalRecordType::kSnapshotMarker,
                     encode_snapshot_marker(marker));
  }
  append_wal_frame(prologue, sequence, prologue.size(), 0, WalRecordType::kHardState,
                   encode_hard_state(hard_state_));
  {
    // Written under a temporary name and renamed only once durable, so a segment with its
    // final name always starts with a valid header (etcd creates segments the same way).
    Result<std::unique_ptr<env::File>> file =
        disk_.open(temporary, env::OpenMode::kCreateReadWrite);
    if (!file) return fail(file.error());
    Status status = (*file)->truncate(0);
    if (status) status = (*file)->write(0, prologue);
    if (status) status = (*file)->sync();
    if (!status) return fail(status.error());
  }
  Status status = disk_.rename(temporary, path);
  if (status) status = disk_.sync_directory(options_.directory);
  if (!status) return fail(status.error());
  Result<std::unique_ptr<env::File>> file = disk_.open(path, env::OpenMode::kReadWrite);
  if (!file) return fail(file.error());
  tail_file_ = std::move(file).value();
  tail_size_ = prologue.size();
  tail_file_end_ = prologue.size();
  tail_prologue_end_ = prologue.size();
  segments_.push_back(Segment{sequence, first_index, path});
  stats_.segments_created++;
  stats_.bytes_written += prologue.size();
  return Status::ok();
}

Status Wal::cut_segment() {
  return create_segment(segments_.back().sequence + 1, last_index_.next());
}

void Wal::append_hard_state(const raft::HardState& hard_state) {
  pending_.push_back(
      PendingRecord{WalRecordType::kHardState, encode_hard_state(hard_state), {}, {}});
}

void Wal::append_entries(std::span<const raft::Entry> entries) {
  for (const raft::Entry& entry : entries) {
    pending_.push_back(
        PendingRecord{WalRecordType::kEntry, encode_entry(entry), entry.index, entry.term});
  }
}

void Wal::append_snapshot_marker(const WalSnapshotMarker& marker) {
  pending_.push_back(PendingRecord{WalRecordType::kSnapshotMarker, encode_snapshot_marker(marker),
                                   marker.index, marker.term});
}

// Mirrors WalReplay so that a new segment's first index is exactly where replay will find the
// log ending.
void Wal::track(const PendingRecord& record) {
  switch (record.type) {
    case WalRecordType::kHardState:
      hard_state_ = *decode_hard_state(record.payload);
      return;
    case WalRecordType::kEntry: {
      const LogIndex index = record.index;
      ASSERT(index > entry_terms_base_, "Raft never appends at or below a snapshot");
      ASSERT(index <= last_index_.next(), "Raft appends without gaps");
      entry_terms_.resize(index.value() - entry_terms_base_.value() - 1);
      entry_terms_.push_back(record.term);
      last_index_ = index;
      return;
    }
    case WalRecordType::kSnapshotMarker: {
      const WalSnapshotMarker marker{record.index, record.term};
      remember_marker(marker);
      if (marker.index <= entry_terms_base_) return;
      const bool beyond_log = marker.index > last_index_;
      if (beyond_log ||
          entry_terms_[marker.index.value() - entry_terms_base_.value() - 1] != marker.term) {
        entry_terms_.clear();
        entry_terms_base_ = marker.index;
        last_index_ = marker.index;
      }
      return;
    }
    case WalRecordType::kSegmentHeader:
      break;
  }
  UNREACHABLE("segment headers are never appended by callers");
}

Status Wal::write_and_sync(const std::string& batch) {
  if (!batch.empty()) {
    const uint64_t end = tail_size_ + batch.size();
    Status status = Status::ok();
    if (options_.preallocate_bytes > 0 && end > tail_file_end_) {
      std::string with_zeros = batch;
      with_zeros.resize(batch.size() + options_.preallocate_bytes, '\0');
      status = tail_file_->write(tail_size_, with_zeros);
      if (status) tail_file_end_ = end + options_.preallocate_bytes;
    } else {
      status = tail_file_->write(tail_size_, batch);
      if (status) tail_file_end_ = std::max(tail_file_end_, end);
    }
    if (!status) return fail(status.error());
  }
  Status status = Status::ok();
#ifdef LOCKSTEP_KNOWN_BUGS
  // KNOWN BUG ack-before-fsync: reports the batch durable while it is only written (still
  // pending in the page cache, lost or torn by a crash).
  if (!known_bug_active(KnownBug::kAckBeforeFsync)) status = tail_file_->sync();
#else
  status = tail_file_->sync();
#endif
  if (!status) return fail(status.error());
  tail_size_ += batch.size();
  stats_.bytes_written += batch.size();
  stats_.syncs++;
  return Status::ok();
}

Status Wal::sync() {
  if (failed_) return Error(ErrorCode::kIoError, "WAL failed earlier: " + failed_->to_string());
  const uint64_t sequence = segments_.back().sequence;
  std::string batch;
  size_t batch_bytes = 0;
  for (const PendingRecord& record : pending_) {
    batch_bytes += wal_framed_size(record.payload.size());
  }
  batch.reserve(batch_bytes);
  uint64_t batch_sequence = sequence;
  for (const PendingRecord& record : pending_) {
    const size_t framed = wal_framed_size(record.payload.size());
    const bool segment_has_records = tail_size_ + batch.size() > tail_prologue_end_;
    if (segment_has_records && tail_size_ + batch.size() + framed > options_.segment_bytes) {
      // Seal: the old segment is fully durable before the next exists, so a damaged record
      // in a sealed segment can only be corruption (wal_segment_scan.h).
      RETURN_IF_ERROR(write_and_sync(batch));
      batch.clear();
      RETURN_IF_ERROR(trim_preallocation());
      RETURN_IF_ERROR(cut_segment());
      batch_sequence = segments_.back().sequence;
    }
    append_wal_frame(batch, batch_sequence, tail_size_ + batch.size(),
                     static_cast<uint32_t>(tail_size_), record.type, record.payload);
    track(record);
    stats_.records_appended++;
  }
  pending_.clear();
  return write_and_sync(batch);
}

Status Wal::trim_preallocation() {
  if (tail_file_end_ <= tail_size_) return Status::ok();
  Status status = tail_file_->truncate(tail_size_);
  if (status) status = tail_file_->sync();
  if (!status) return fail(status.error());
  tail_file_end_ = tail_size_;
  return Status::ok();
}

Status Wal::release_through(LogIndex index) {
  if (failed_) return Error(ErrorCode::kIoError, "WAL failed earlier: " + failed_->to_string());
  // Segment k may go when segment k+1 starts at or below index + 1: every entry written in
  // segment k then has an index at or below `index`.
  while (segments_.size() > 1 && segments_[1].first_index <= index.next()) {
    Status status = disk_.remove(segments_.front().path);
    if (status) status = disk_.sync_directory(options_.directory);
    if (!status) return fail(status.error());
    segments_.erase(segments_.begin());
    stats_.segments_released++;
  }
  // Terms at or below the new base are no longer needed to mirror replay.
  while (!entry_terms_.empty() && entry_terms_base_ < segments_.front().first_index.previous()) {
    entry_terms_.pop_front();
    entry_terms_base_ = entry_terms_base_.next();
  }
  return Status::ok();
}

}  // namespace lockstep::store
