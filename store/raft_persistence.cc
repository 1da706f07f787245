#include "store/raft_persistence.h"

#include <algorithm>

namespace lockstep::store {
namespace {

bool has_marker(const WalContents& contents, const SnapshotFile& file) {
  const WalSnapshotMarker marker{file.index, file.term};
  return std::find(contents.snapshot_markers.begin(), contents.snapshot_markers.end(), marker) !=
         contents.snapshot_markers.end();
}

// Whether the WAL's log continues from a snapshot at (index, term): it must hold every entry
// after `index`, and where it holds the entry at `index` its term must match.
bool wal_continues_from(const WalContents& contents, LogIndex index, Term term) {
  if (index < contents.base_index) return false;
  if (index > contents.last_index()) return index == contents.base_index;
  if (index == contents.base_index) return true;
  return contents.entries[index.value() - contents.base_index.value() - 1].term == term;
}

}  // namespace

Result<std::unique_ptr<RaftPersistence>> RaftPersistence::open(env::Disk& disk,
                                                               RaftPersistenceOptions options) {
  ASSERT(options.retained_snapshots >= 1, "the newest snapshot is always retained");
  std::unique_ptr<RaftPersistence> persistence(new RaftPersistence(disk, std::move(options)));
  WalOptions wal_options;
  wal_options.directory = persistence->options_.wal_directory;
  wal_options.segment_bytes = persistence->options_.wal_segment_bytes;
  wal_options.preallocate_bytes = persistence->options_.wal_preallocate_bytes;
  RETURN_IF_ERROR(persistence->snapshotter_.open());
  WalContents contents;
  Result<std::unique_ptr<Wal>> wal = Wal::open(disk, wal_options, contents);
  RETURN_IF_ERROR(wal.status());
  persistence->wal_ = std::move(wal).value();
  RaftRecoveredState state;
  if (contents.torn_tail_note) state.notes.push_back(*contents.torn_tail_note);
  RETURN_IF_ERROR(persistence->choose_snapshot(contents, state));
  state.hard_state = contents.hard_state;
  const LogIndex snapshot_index = state.snapshot.metadata.index;
  for (raft::Entry& entry : contents.entries) {
    if (entry.index > snapshot_index) state.entries.push_back(std::move(entry));
  }
  persistence->recovered_ = std::move(state);
  return persistence;
}

Status RaftPersistence::choose_snapshot(const WalContents& contents, RaftRecoveredState& state) {
  Result<std::vector<SnapshotFile>> files = snapshotter_.list();
  RETURN_IF_ERROR(files.status());
  std::optional<std::string> newer_corrupt;
  for (const SnapshotFile& file : *files) {
    if (!has_marker(contents, file)) {
      // Its WAL marker never became durable (a crash between the two writes), or its marker
      // was in released segments of an older, unretained snapshot: not part of the state.
      state.notes.push_back("ignored snapshot without a WAL marker: " + file.path);
      continue;
    }
    const bool continues = wal_continues_from(contents, file.index, file.term);
    if (!state.snapshot.empty()) {
      // An older snapshot kept as a fallback for the next boot; not read now.
      if (continues) snapshots_.push_back(file);
      continue;
    }
    Result<raft::Snapshot> snapshot = snapshotter_.load(file);
    if (!snapshot) {
      if (snapshot.code() != ErrorCode::kDataCorruption) return snapshot.status();
      state.notes.push_back("skipped corrupt snapshot " + snapshot.error().detail());
      if (!newer_corrupt) newer_corrupt = snapshot.error().detail();
      continue;
    }
    if (!continues) {
      if (newer_corrupt) {
        return Error(ErrorCode::kDataCorruption,
                     "newest snapshot is corrupt (" + *newer_corrupt +
                         ") and the WAL does not continue from the older snapshot " + file.path);
      }
      return Error(ErrorCode::kDataCorruption,
                   "the WAL (entries after index " + std::to_string(contents.base_index.value()) +
                       ") does not continue from snapshot " + file.path);
    }
    snapshots_.push_back(file);
    state.snapshot = std::move(snapshot).value();
  }
  if (!state.snapshot.empty()) return Status::ok();
  if (contents.base_index != LogIndex(0)) {
    return Error(ErrorCode::kDataCorruption,
                 "the WAL starts after index " + std::to_string(contents.base_index.value()) +
                     " but no valid snapshot covers it" +
                     (newer_corrupt ? " (corrupt: " + *newer_corrupt + ")" : std::string()));
  }
  return Status::ok();
}

Result<RaftRecoveredState> RaftPersistence::load() {
  if (saved_since_open_ || !recovered_) {
    return Error(ErrorCode::kInternal, "load() describes the disk at open; call it before save()");
  }
  return *recovered_;
}

Status RaftPersistence::save(const raft::HardState& hard_state,
                             std::span<const raft::Entry> entries, const raft::Snapshot& snapshot) {
  saved_since_open_ = true;
  if (!snapshot.empty()) {
    // The file first: a marker must never name a snapshot that is not durable.
    RETURN_IF_ERROR(snapshotter_.save(snapshot));
    wal_->append_snapshot_marker(
        WalSnapshotMarker{snapshot.metadata.index, snapshot.metadata.term});
    const SnapshotFile file{snapshotter_.path_for(snapshot.metadata.index, snapshot.metadata.term),
                            snapshot.metadata.index, snapshot.metadata.term};
    std::erase(snapshots_, file);
    snapshots_.insert(snapshots_.begin(), file);
  }
  if (hard_state != raft::HardState{}) wal_->append_hard_state(hard_state);
  wal_->append_entries(entries);
  if (!wal_->has_pending()) return Status::ok();
  return wal_->sync();
}

Result<raft::Snapshot> RaftPersistence::load_snapshot(LogIndex index, Term term) {
  return snapshotter_.load(SnapshotFile{snapshotter_.path_for(index, term), index, term});
}

Status RaftPersistence::release_through(LogIndex index) {
  // Snapshots at or below `index` are durable and covered; keep the newest few of them.
  std::vector<SnapshotFile> covered;
  for (const SnapshotFile& file : snapshots_) {
    if (file.index <= index) covered.push_back(file);
  }
  if (covered.empty()) return Status::ok();
  const size_t keep = std::min(covered.size(), options_.retained_snapshots);
  const LogIndex oldest_retained = covered[keep - 1].index;
  RETURN_IF_ERROR(wal_->release_through(oldest_retained));
  for (size_t i = keep; i < covered.size(); ++i) {
    RETURN_IF_ERROR(snapshotter_.remove(covered[i]));
    std::erase(snapshots_, covered[i]);
  }
  return Status::ok();
}

}  // namespace lockstep::store
