#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/base/limits.h"
#include "core/raft/types.h"

namespace lockstep::store {

// What a WAL record holds. Values are part of the on-disk format: append only.
enum class WalRecordType : uint8_t {
  kSegmentHeader = 1,   // first record of every segment: magic, version, sequence, first index
  kHardState = 2,       // raft::HardState (Raft paper Figure 2: currentTerm, votedFor; + commit)
  kEntry = 3,           // one raft::Entry
  kSnapshotMarker = 4,  // a snapshot file at (index, term) is durable (etcd's walpb.Snapshot)
};

bool is_known_wal_record_type(uint8_t type);

// The framing of one record, 8-byte aligned so that recovery can probe for valid records
// after a damaged one at every aligned offset (see wal_segment_scan.h):
//
//   u32 crc32c          over (u64 segment sequence, u64 record offset) and bytes [4, 16+length)
//   u32 payload_length
//   u32 synced_through  offset in this segment that was durable (fsynced) when this record was
//                       written: everything before it had been acknowledged to Raft
//   u8  type, u8[3] zero
//   payload, then zero padding to a multiple of 8
//
// Why a per-record checksum seeded with the record's position rather than etcd's chained CRC:
// a chain makes every record depend on the previous one, so after one damaged record nothing
// later can be verified and a torn tail cannot be told apart from mid-log rot. Seeding with
// (segment, offset) keeps the chain's other benefit: bytes that are valid somewhere else (a
// misdirected write, a stale record of an older segment) do not verify here.
inline constexpr size_t kWalRecordHeaderBytes = 16;
inline constexpr size_t kWalRecordAlignmentBytes = 8;
// A record holds at most one entry, and an entry at most one network message.
inline constexpr size_t kWalMaxRecordPayloadBytes = limits::kMaxMessageBytes + 64;

size_t wal_framed_size(size_t payload_bytes);

// Appends the framed record to `out`; `offset` must be where it will land in its segment.
void append_wal_frame(std::string& out, uint64_t segment_sequence, uint64_t offset,
                      uint32_t synced_through, WalRecordType type, std::string_view payload);

// A record that verified at a given offset.
struct WalFrame {
  WalRecordType type;
  uint32_t synced_through = 0;
  std::string_view payload;  // points into the segment bytes that were decoded
  uint64_t next_offset = 0;  // offset just past the record and its padding
};

// Decodes the record at `offset` of `segment_bytes`. nullopt when the bytes there are not a
// complete record whose checksum verifies at this position (torn, zeroed, rotten or absent).
std::optional<WalFrame> decode_wal_frame(std::string_view segment_bytes, uint64_t segment_sequence,
                                         uint64_t offset);

// ---- Payloads ----

// "LKSTWAL1" read as a little-endian u64.
inline constexpr uint64_t kWalMagic = 0x314c41575453'4b4cull;
inline constexpr uint32_t kWalFormatVersion = 1;

struct WalSegmentHeader {
  uint64_t sequence = 0;
  // Index the next entry appended after this segment was cut would get: every entry written in
  // earlier segments has a smaller index (Raft only truncates uncommitted suffixes, so entries
  // written later may have smaller indexes, never earlier ones larger).
  LogIndex first_index;

  bool operator==(const WalSegmentHeader&) const = default;
};

// A snapshot the WAL knows is durable; only snapshot files with a marker are loaded at boot,
// so a snapshot file whose WAL record never became durable is ignored (etcd does the same).
struct WalSnapshotMarker {
  LogIndex index;
  Term term;

  bool operator==(const WalSnapshotMarker&) const = default;
};

std::string encode_segment_header(const WalSegmentHeader& header);
Result<WalSegmentHeader> decode_segment_header(std::string_view payload);
std::string encode_hard_state(const raft::HardState& hard_state);
Result<raft::HardState> decode_hard_state(std::string_view payload);
void append_entry_payload(std::string& out, const raft::Entry& entry);
std::string encode_entry(const raft::Entry& entry);
Result<raft::Entry> decode_entry(std::string_view payload);
std::string encode_snapshot_marker(const WalSnapshotMarker& marker);
Result<WalSnapshotMarker> decode_snapshot_marker(std::string_view payload);

}  // namespace lockstep::store
