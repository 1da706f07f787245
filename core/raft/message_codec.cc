#include "core/raft/message_codec.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/base/crc32c.h"
#include "core/base/limits.h"

namespace lockstep::raft {

namespace {

constexpr size_t kChecksumBytes = 4;
constexpr uint8_t kFlagReject = 1 << 0;
constexpr uint8_t kFlagSnapshot = 1 << 1;
constexpr uint8_t kKnownFlags = kFlagReject | kFlagSnapshot;
constexpr size_t kMaxVarintBytes = 10;

// The encoder runs twice over a message: once with a Sizer to learn the exact length, then
// with a Writer into a string of that length, so an encoding costs one allocation and no
// per-byte capacity checks (a loaded simulated cluster encodes ~100k messages a run).
class Sizer {
 public:
  void u8(uint8_t) { ++size_; }
  void varint(uint64_t value) { size_ += varint_size(value); }
  void bytes(std::string_view value) {
    varint(value.size());
    size_ += value.size();
  }
  void fixed32(uint32_t) { size_ += 4; }
  size_t size() const { return size_; }

  static size_t varint_size(uint64_t value) {
    size_t bytes = 1;
    while (value >= 0x80) {
      value >>= 7;
      ++bytes;
    }
    return bytes;
  }

 private:
  size_t size_ = 0;
};

class Writer {
 public:
  explicit Writer(char* out) : next_(out) {}

  void u8(uint8_t value) { *next_++ = static_cast<char>(value); }
  void varint(uint64_t value) {
    while (value >= 0x80) {
      *next_++ = static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    *next_++ = static_cast<char>(value);
  }
  void bytes(std::string_view value) {
    varint(value.size());
    if (!value.empty()) std::memcpy(next_, value.data(), value.size());
    next_ += value.size();
  }
  void fixed32(uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) *next_++ = static_cast<char>(value >> shift);
  }
  const char* position() const { return next_; }

 private:
  char* next_;
};

// Runs `write(sink)` with a Sizer, then into a string of exactly that size.
template <class Write>
std::string encode_exactly(const Write& write) {
  Sizer sizer;
  write(sizer);
  std::string out(sizer.size(), '\0');
  Writer writer(out.data());
  write(writer);
  ASSERT(writer.position() == out.data() + out.size(), "sizer and writer disagree");
  return out;
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  bool at_end() const { return position_ == in_.size(); }
  size_t remaining() const { return in_.size() - position_; }

  uint8_t u8(const char* field) {
    if (failed_) return 0;
    if (remaining() < 1) return fail(field, "truncated"), 0;
    return static_cast<uint8_t>(in_[position_++]);
  }
  uint64_t varint(const char* field) {
    if (failed_) return 0;
    // Most fields of most messages (ids, small terms, flags, counts) fit in one byte.
    if (position_ < in_.size() && static_cast<uint8_t>(in_[position_]) < 0x80) {
      return static_cast<uint8_t>(in_[position_++]);
    }
    return long_varint(field);
  }
  std::string bytes(const char* field) {
    const uint64_t length = varint(field);
    if (failed_) return {};
    if (length > remaining()) return fail(field, "length exceeds the input"), std::string();
    std::string value(in_.substr(position_, length));
    position_ += length;
    return value;
  }
  // A count of items each taking at least one byte: bounded by the input and a limit.
  size_t count(const char* field, size_t limit) {
    const uint64_t value = varint(field);
    if (failed_) return 0;
    if (value > remaining() || value > limit) return fail(field, "count out of range"), 0;
    return static_cast<size_t>(value);
  }
  void fail(const char* field, const char* reason) {
    if (failed_) return;
    failed_ = true;
    error_ = std::string(field) + ": " + reason;
  }

 private:
  uint64_t long_varint(const char* field) {
    uint64_t value = 0;
    for (size_t i = 0; i < kMaxVarintBytes; ++i) {
      if (remaining() < 1) return fail(field, "truncated varint"), 0;
      const uint8_t byte = static_cast<uint8_t>(in_[position_++]);
      if (i == kMaxVarintBytes - 1 && byte > 1) return fail(field, "varint overflows 64 bits"), 0;
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) return value;
    }
    fail(field, "varint too long");
    return 0;
  }

  std::string_view in_;
  size_t position_ = 0;
  bool failed_ = false;
  std::string error_;
};

template <class Sink>
void write_ids(Sink& writer, const std::vector<NodeId>& ids) {
  writer.varint(ids.size());
  for (NodeId id : ids) writer.varint(id.value());
}

std::vector<NodeId> read_ids(Reader& reader, const char* field) {
  const size_t count = reader.count(field, kMaxMembersPerConfState);
  std::vector<NodeId> ids;
  ids.reserve(count);
  for (size_t i = 0; i < count && !reader.failed(); ++i) ids.emplace_back(reader.varint(field));
  return ids;
}

template <class Sink>
void write_entry(Sink& writer, const Entry& entry) {
  writer.varint(entry.term.value());
  writer.varint(entry.index.value());
  writer.u8(static_cast<uint8_t>(entry.type));
  writer.bytes(entry.data);
}

Entry read_entry(Reader& reader) {
  Entry entry;
  entry.term = Term(reader.varint("entry.term"));
  entry.index = LogIndex(reader.varint("entry.index"));
  const uint8_t type = reader.u8("entry.type");
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) reader.fail("entry.type", "unknown");
  entry.type = static_cast<EntryType>(type);
  entry.data = reader.bytes("entry.data");
  return entry;
}

template <class Sink>
void write_snapshot(Sink& writer, const Snapshot& snapshot) {
  writer.varint(snapshot.metadata.index.value());
  writer.varint(snapshot.metadata.term.value());
  const ConfState& conf = snapshot.metadata.conf_state;
  write_ids(writer, conf.voters);
  write_ids(writer, conf.learners);
  write_ids(writer, conf.voters_outgoing);
  write_ids(writer, conf.learners_next);
  writer.u8(conf.auto_leave ? 1 : 0);
  writer.bytes(snapshot.data);
}

Snapshot read_snapshot(Reader& reader) {
  Snapshot snapshot;
  snapshot.metadata.index = LogIndex(reader.varint("snapshot.index"));
  snapshot.metadata.term = Term(reader.varint("snapshot.term"));
  ConfState& conf = snapshot.metadata.conf_state;
  conf.voters = read_ids(reader, "snapshot.voters");
  conf.learners = read_ids(reader, "snapshot.learners");
  conf.voters_outgoing = read_ids(reader, "snapshot.voters_outgoing");
  conf.learners_next = read_ids(reader, "snapshot.learners_next");
  const uint8_t auto_leave = reader.u8("snapshot.auto_leave");
  if (auto_leave > 1) reader.fail("snapshot.auto_leave", "not a boolean");
  conf.auto_leave = auto_leave == 1;
  snapshot.data = reader.bytes("snapshot.data");
  return snapshot;
}

uint32_t read_fixed32(std::string_view bytes) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[static_cast<size_t>(i)])) << (8 * i);
  }
  return value;
}

// Everything but the trailing checksum.
template <class Sink>
void write_message_body(Sink& writer, const Message& message) {
  writer.u8(kMessageFormatVersion);
  writer.u8(static_cast<uint8_t>(message.type));
  writer.varint(message.from.value());
  writer.varint(message.to.value());
  writer.varint(message.term.value());
  writer.varint(message.log_term.value());
  writer.varint(message.index.value());
  writer.varint(message.commit.value());
  writer.varint(message.reject_hint.value());
  const bool has_snapshot = message.type == MessageType::kSnapshot;
  writer.u8((message.reject ? kFlagReject : 0) | (has_snapshot ? kFlagSnapshot : 0));
  writer.bytes(message.context);
  writer.varint(message.entries.size());
  for (const Entry& entry : message.entries) write_entry(writer, entry);
  if (has_snapshot) write_snapshot(writer, message.snapshot);
}

}  // namespace

std::string encode_message(const Message& message) {
  Sizer sizer;
  write_message_body(sizer, message);
  const size_t body_bytes = sizer.size();
  std::string out(body_bytes + kChecksumBytes, '\0');
  Writer writer(out.data());
  write_message_body(writer, message);
  ASSERT(writer.position() == out.data() + body_bytes, "sizer and writer disagree");
  writer.fixed32(crc32c(std::string_view(out.data(), body_bytes)));
  return out;
}

Result<Message> decode_message(std::string_view bytes) {
  if (bytes.size() > limits::kMaxMessageBytes) {
    return Result<Message>(ErrorCode::kInvalidInput, "raft message larger than the frame limit");
  }
  if (bytes.size() < 1 + kChecksumBytes) {
    return Result<Message>(ErrorCode::kInvalidInput, "raft message too short");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (crc32c(body) != read_fixed32(bytes.substr(body.size()))) {
    return Result<Message>(ErrorCode::kDataCorruption, "raft message checksum mismatch");
  }
  Reader reader(body);
  const uint8_t version = reader.u8("version");
  if (version != kMessageFormatVersion) {
    return Result<Message>(ErrorCode::kInvalidInput,
                           "unsupported raft message format version " + std::to_string(version));
  }
  Message message;
  const uint8_t type = reader.u8("type");
  if (type == 0 || type > kMaxMessageType) reader.fail("type", "unknown message type");
  message.type = static_cast<MessageType>(type);
  message.from = NodeId(reader.varint("from"));
  message.to = NodeId(reader.varint("to"));
  message.term = Term(reader.varint("term"));
  message.log_term = Term(reader.varint("log_term"));
  message.index = LogIndex(reader.varint("index"));
  message.commit = LogIndex(reader.varint("commit"));
  message.reject_hint = LogIndex(reader.varint("reject_hint"));
  const uint8_t flags = reader.u8("flags");
  if ((flags & ~kKnownFlags) != 0) reader.fail("flags", "unknown flag bits");
  message.reject = (flags & kFlagReject) != 0;
  message.context = reader.bytes("context");
  const size_t entry_count = reader.count("entries", kMaxEntriesPerMessage);
  message.entries.reserve(entry_count);
  for (size_t i = 0; i < entry_count && !reader.failed(); ++i) {
    message.entries.push_back(read_entry(reader));
  }
  const bool has_snapshot = (flags & kFlagSnapshot) != 0;
  if (has_snapshot != (message.type == MessageType::kSnapshot)) {
    reader.fail("flags", "snapshot flag does not match the message type");
  }
  if (has_snapshot && !reader.failed()) message.snapshot = read_snapshot(reader);
  if (!reader.failed() && !reader.at_end()) reader.fail("message", "trailing bytes");
  if (reader.failed()) {
    return Result<Message>(ErrorCode::kInvalidInput, "raft message: " + reader.error());
  }
  return message;
}

std::string encode_conf_change(const ConfChange& change) {
  return encode_exactly([&change](auto& writer) {
    writer.u8(kConfChangeFormatVersion);
    writer.u8(static_cast<uint8_t>(change.transition));
    writer.varint(change.changes.size());
    for (const ConfChangeSingle& single : change.changes) {
      writer.u8(static_cast<uint8_t>(single.type));
      writer.varint(single.node.value());
    }
    writer.bytes(change.context);
  });
}

Result<ConfChange> decode_conf_change(std::string_view bytes) {
  Reader reader(bytes);
  const uint8_t version = reader.u8("version");
  if (!reader.failed() && version != kConfChangeFormatVersion) {
    reader.fail("version", "unsupported conf change format version");
  }
  ConfChange change;
  const uint8_t transition = reader.u8("transition");
  if (transition > static_cast<uint8_t>(ConfChangeTransition::kJointExplicit)) {
    reader.fail("transition", "unknown");
  }
  change.transition = static_cast<ConfChangeTransition>(transition);
  const size_t count = reader.count("changes", kMaxChangesPerConfChange);
  for (size_t i = 0; i < count && !reader.failed(); ++i) {
    ConfChangeSingle single;
    const uint8_t type = reader.u8("change.type");
    if (type != static_cast<uint8_t>(ConfChangeType::kAddNode) &&
        type != static_cast<uint8_t>(ConfChangeType::kRemoveNode) &&
        type != static_cast<uint8_t>(ConfChangeType::kUpdateNode) &&
        type != static_cast<uint8_t>(ConfChangeType::kAddLearnerNode)) {
      reader.fail("change.type", "unknown");
    }
    single.type = static_cast<ConfChangeType>(type);
    single.node = NodeId(reader.varint("change.node"));
    change.changes.push_back(single);
  }
  change.context = reader.bytes("context");
  if (!reader.failed() && !reader.at_end()) reader.fail("conf change", "trailing bytes");
  if (reader.failed()) {
    return Result<ConfChange>(ErrorCode::kInvalidInput, "conf change: " + reader.error());
  }
  return change;
}

}  // namespace lockstep::raft
