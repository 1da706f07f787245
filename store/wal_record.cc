#include "store/wal_record.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/base/crc32c.h"
#include "store/byte_reader.h"
#include "store/byte_writer.h"

namespace lockstep::store {
namespace {

uint32_t position_seeded_crc(uint64_t segment_sequence, uint64_t offset, std::string_view body) {
  char seed[16];
  store_u64(seed, segment_sequence);
  store_u64(seed + 8, offset);
  return crc32c_extend(crc32c(std::string_view(seed, sizeof seed)), body);
}

size_t padding_for(size_t bytes) {
  return (kWalRecordAlignmentBytes - bytes % kWalRecordAlignmentBytes) % kWalRecordAlignmentBytes;
}

// term, index, type: what append_entry_payload writes before the entry's data.
constexpr size_t kEntryPayloadHeaderBytes = 8 + 8 + 1;

Error bad_payload(std::string_view what) {
  return Error(ErrorCode::kDataCorruption, std::string("malformed WAL ") + std::string(what));
}

}  // namespace

bool is_known_wal_record_type(uint8_t type) {
  return type >= static_cast<uint8_t>(WalRecordType::kSegmentHeader) &&
         type <= static_cast<uint8_t>(WalRecordType::kSnapshotMarker);
}

size_t wal_framed_size(size_t payload_bytes) {
  const size_t unpadded = kWalRecordHeaderBytes + payload_bytes;
  return unpadded + padding_for(unpadded);
}

void append_wal_frame(std::string& out, uint64_t segment_sequence, uint64_t offset,
                      uint32_t synced_through, WalRecordType type, std::string_view payload) {
  ASSERT(offset % kWalRecordAlignmentBytes == 0, "records are 8-byte aligned");
  ASSERT(payload.size() <= kWalMaxRecordPayloadBytes, "callers bound entry sizes");
  // One resize (zero-filled: the three reserved header bytes and the padding stay zero), then
  // the fields in place: the WAL frames every entry of every Ready.
  const size_t start = out.size();
  out.resize(start + wal_framed_size(payload.size()));
  char* frame = out.data() + start;
  store_u32(frame + 4, static_cast<uint32_t>(payload.size()));
  store_u32(frame + 8, synced_through);
  frame[12] = static_cast<char>(type);
  if (!payload.empty()) std::memcpy(frame + kWalRecordHeaderBytes, payload.data(), payload.size());
  const std::string_view body(frame + 4, kWalRecordHeaderBytes - 4 + payload.size());
  store_u32(frame, position_seeded_crc(segment_sequence, offset, body));
}

std::optional<WalFrame> decode_wal_frame(std::string_view segment_bytes, uint64_t segment_sequence,
                                         uint64_t offset) {
  if (offset > segment_bytes.size()) return std::nullopt;
  if (segment_bytes.size() - offset < kWalRecordHeaderBytes) return std::nullopt;
  const char* header = segment_bytes.data() + offset;
  const uint32_t stored_crc = load_u32(header);
  const uint32_t payload_length = load_u32(header + 4);
  const uint32_t synced_through = load_u32(header + 8);
  const uint8_t type = static_cast<uint8_t>(header[12]);
  if (payload_length > kWalMaxRecordPayloadBytes) return std::nullopt;
  if (!is_known_wal_record_type(type)) return std::nullopt;
  if (header[13] != 0 || header[14] != 0 || header[15] != 0) return std::nullopt;
  const size_t framed = wal_framed_size(payload_length);
  if (segment_bytes.size() - offset < framed) return std::nullopt;
  const std::string_view body(header + 4, kWalRecordHeaderBytes - 4 + payload_length);
  if (position_seeded_crc(segment_sequence, offset, body) != stored_crc) return std::nullopt;
  // Padding is outside the checksum, so it is checked to be zero instead: no bit of a record
  // may change unnoticed.
  for (size_t at = kWalRecordHeaderBytes + payload_length; at < framed; ++at) {
    if (header[at] != 0) return std::nullopt;
  }
  // A record can only claim durability for bytes before itself.
  if (synced_through > offset) return std::nullopt;
  return WalFrame{
      .type = static_cast<WalRecordType>(type),
      .synced_through = synced_through,
      .payload = std::string_view(header + kWalRecordHeaderBytes, payload_length),
      .next_offset = offset + framed,
  };
}

std::string encode_segment_header(const WalSegmentHeader& header) {
  std::string out;
  ByteWriter writer(out);
  writer.u64(kWalMagic);
  writer.u32(kWalFormatVersion);
  writer.u64(header.sequence);
  writer.u64(header.first_index.value());
  return out;
}

Result<WalSegmentHeader> decode_segment_header(std::string_view payload) {
  ByteReader reader(payload);
  const uint64_t magic = reader.u64();
  const uint32_t version = reader.u32();
  WalSegmentHeader header;
  header.sequence = reader.u64();
  header.first_index = LogIndex(reader.u64());
  if (!reader.at_end()) return bad_payload("segment header");
  if (magic != kWalMagic) return bad_payload("segment header magic");
  if (version != kWalFormatVersion) {
    return Error(ErrorCode::kDataCorruption,
                 "unsupported WAL format version " + std::to_string(version));
  }
  return header;
}

std::string encode_hard_state(const raft::HardState& hard_state) {
  std::string out;
  ByteWriter writer(out);
  writer.u64(hard_state.term.value());
  writer.u64(hard_state.vote.value());
  writer.u64(hard_state.commit.value());
  return out;
}

Result<raft::HardState> decode_hard_state(std::string_view payload) {
  ByteReader reader(payload);
  raft::HardState hard_state;
  hard_state.term = Term(reader.u64());
  hard_state.vote = NodeId(reader.u64());
  hard_state.commit = LogIndex(reader.u64());
  if (!reader.at_end()) return bad_payload("hard state");
  return hard_state;
}

void append_entry_payload(std::string& out, const raft::Entry& entry) {
  ByteWriter writer(out);
  writer.u64(entry.term.value());
  writer.u64(entry.index.value());
  writer.u8(static_cast<uint8_t>(entry.type));
  writer.raw(entry.data);  // the rest of the payload: its length is the record's
}

std::string encode_entry(const raft::Entry& entry) {
  std::string out;
  out.reserve(kEntryPayloadHeaderBytes + entry.data.size());
  append_entry_payload(out, entry);
  return out;
}

Result<raft::Entry> decode_entry(std::string_view payload) {
  ByteReader reader(payload);
  raft::Entry entry;
  entry.term = Term(reader.u64());
  entry.index = LogIndex(reader.u64());
  const uint8_t type = reader.u8();
  if (!reader.ok()) return bad_payload("entry");
  if (type > static_cast<uint8_t>(raft::EntryType::kConfChange)) return bad_payload("entry type");
  entry.type = static_cast<raft::EntryType>(type);
  entry.data = std::string(reader.raw(reader.remaining()));
  return entry;
}

std::string encode_snapshot_marker(const WalSnapshotMarker& marker) {
  std::string out;
  ByteWriter writer(out);
  writer.u64(marker.index.value());
  writer.u64(marker.term.value());
  return out;
}

Result<WalSnapshotMarker> decode_snapshot_marker(std::string_view payload) {
  ByteReader reader(payload);
  WalSnapshotMarker marker;
  marker.index = LogIndex(reader.u64());
  marker.term = Term(reader.u64());
  if (!reader.at_end()) return bad_payload("snapshot marker");
  return marker;
}

}  // namespace lockstep::store
