#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/env/disk.h"
#include "core/raft/types.h"
#include "store/wal_record.h"

namespace lockstep::store {

// etcd's SegmentSizeBytes (64 MiB): large enough that rollover (an fsync of the old segment,
// a new file and a directory fsync) is rare, small enough that releasing a covered segment
// returns space soon after a snapshot.
inline constexpr uint64_t kWalSegmentBytesDefault = 64ull * 1024 * 1024;
// Snapshot markers repeated at the start of every new segment, so that the markers of the
// snapshot files still retained survive the release of the segment they were written in.
inline constexpr size_t kWalRepeatedSnapshotMarkers = 4;

struct WalOptions {
  std::string directory = "wal";
  // A segment is rolled over when the next batch would grow it past this size. A single
  // record larger than this still fits (a segment always takes at least one batch).
  //
  // Segments are not pre-allocated: a pre-sized zero-filled file costs a second full write
  // of every byte through env::Disk (there is no fallocate in the interface), holds memory
  // in the simulated disk, and makes a zero-filled tail the normal case instead of a sign of
  // a torn write. Without pre-allocation each fsync also persists the file size (fdatasync
  // does so when the size changed), which is the cost we accept.
  uint64_t segment_bytes = kWalSegmentBytesDefault;
  // The daemon's exception to the above (0 = off, as in simulation): when a write would pass
  // the zeros already written ahead of the tail, this many more zero bytes are written after
  // it in the same write. Appends then overwrite allocated, written blocks, so an fdatasync
  // flushes data only; a growing file makes each fdatasync also commit the file system's
  // journal for the new size (ext4: ~4 ms vs ~0.1 ms on the benchmark machine). etcd
  // preallocates its segments with fallocate, whose unwritten extents still need a journal
  // commit when first written. Recovery cuts the zero tail like a torn one; a segment is
  // trimmed to its records before it is sealed, as a sealed segment must end with a record.
  uint64_t preallocate_bytes = 0;
};

// What recovery found in the WAL, in Raft's terms.
struct WalContents {
  raft::HardState hard_state;                       // the last one written (empty when none)
  std::vector<WalSnapshotMarker> snapshot_markers;  // distinct markers, in the order written
  // The entries form the log (base_index, last]: entries.front().index == base_index + 1.
  // base_index is where the retained log starts: 0 for a log that was never released, the
  // last entry of the released segments, or a snapshot that replaced the whole log.
  LogIndex base_index;
  std::vector<raft::Entry> entries;
  // A human-readable note when recovery cut a torn tail (file, offset, bytes), for the trace.
  std::optional<std::string> torn_tail_note;

  LogIndex last_index() const { return entries.empty() ? base_index : entries.back().index; }
};

struct WalStats {
  uint64_t records_appended = 0;
  uint64_t syncs = 0;
  uint64_t bytes_written = 0;
  uint64_t segments_created = 0;
  uint64_t segments_released = 0;
};

// The Raft write-ahead log: segmented files of checksummed records (wal_record.h) in one
// directory of an env::Disk. Appends are buffered in memory; sync() writes the whole batch
// with one write per segment touched and makes it durable with one fsync — group commit, so a
// Ready's hard state and entries cost one fsync however many entries it carries.
//
// Conflict truncation (Raft paper §5.3) is logical, as in etcd: appending an entry whose index
// is at or below the last one replaces that entry and everything after it when the log is
// replayed, so no file is ever rewritten in place.
//
// After any failed write or fsync the WAL refuses further work (kIoError): what reached the
// disk is unknown, and only recovery at the next open can tell (etcd panics likewise).
class Wal {
 public:
  // Opens the WAL in `options.directory`, creating an empty one when there is none, recovers
  // it (cutting a torn tail) and reports what it holds in `contents`. Corruption a crash
  // cannot explain is kDataCorruption naming the file and offset.
  static Result<std::unique_ptr<Wal>> open(env::Disk& disk, WalOptions options,
                                           WalContents& contents);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Buffer records for the next sync(). Nothing is written until then.
  void append_hard_state(const raft::HardState& hard_state);
  void append_entries(std::span<const raft::Entry> entries);
  void append_snapshot_marker(const WalSnapshotMarker& marker);
  bool has_pending() const { return !pending_.empty(); }

  // Writes every buffered record and fsyncs: when this returns ok, all of them survive any
  // crash. Rolls over to a new segment when the current one is full.
  Status sync();

  // Removes sealed segments that only hold entries at or below `index` (a durable snapshot
  // covers them), oldest first, with a directory fsync after each so that a crash never
  // leaves a gap in the sequence.
  Status release_through(LogIndex index);

  LogIndex last_index() const { return last_index_; }
  const WalStats& stats() const { return stats_; }
  size_t segment_count() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t sequence = 0;
    LogIndex first_index;
    std::string path;
  };
  struct PendingRecord {
    WalRecordType type;
    std::string payload;
    // For entries and snapshot markers: their index and term, to track the log's shape.
    LogIndex index;
    Term term;
  };

  Wal(env::Disk& disk, WalOptions options) : disk_(disk), options_(std::move(options)) {}

  Status recover(WalContents& contents);
  Status create_first_segment();
  Status create_segment(uint64_t sequence, LogIndex first_index);
  void track(const PendingRecord& record);
  // Seals the current segment (it is already fsynced) and starts segment sequence+1 whose
  // prologue repeats the hard state and the recent snapshot markers.
  Status cut_segment();
  Status write_and_sync(const std::string& batch);
  // Cuts the preallocated zeros off the tail segment and fsyncs, before it is sealed.
  Status trim_preallocation();
  Status fail(Error error);
  void remember_marker(const WalSnapshotMarker& marker);
  std::string segment_path(uint64_t sequence, LogIndex first_index) const;

  env::Disk& disk_;
  WalOptions options_;
  std::vector<Segment> segments_;  // oldest first; the last is open for appending
  std::unique_ptr<env::File> tail_file_;
  uint64_t tail_size_ = 0;  // durable end of the tail segment (everything before is fsynced)
  uint64_t tail_prologue_end_ = 0;  // end of the tail segment's header and repeated state
  uint64_t tail_file_end_ = 0;      // the tail file's size: tail_size_ plus preallocated zeros
  std::vector<PendingRecord> pending_;
  // The log's shape as replay will see it: (entry_terms_base_, last_index_] with the term of
  // each entry, needed to decide whether a snapshot marker replaces the log (WalReplay).
  LogIndex last_index_;
  LogIndex entry_terms_base_;
  std::deque<Term> entry_terms_;
  raft::HardState hard_state_;
  std::deque<WalSnapshotMarker> recent_markers_;
  std::optional<Error> failed_;
  WalStats stats_;
};

// "a/b/c" -> "a/b"; "c" -> "" (the disk's root).
std::string parent_directory(std::string_view path);

// Parses "<16 hex sequence>-<16 hex first index>.wal"; nullopt for any other name.
std::optional<std::pair<uint64_t, LogIndex>> parse_wal_segment_name(std::string_view name);

}  // namespace lockstep::store
