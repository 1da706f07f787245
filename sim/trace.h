#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/time.h"

namespace lockstep::sim {

// What happened, in a byte. The hot path hashes this code and a few integers; the words are
// produced only when the full trace is recorded.
enum class TraceKind : uint8_t {
  kFiberSpawn,     // a = fiber id
  kFiberRun,       // a = fiber id
  kFiberTimeout,   // a = fiber id
  kFiberEnd,       // a = fiber id
  kSend,           // a = destination, b = payload bytes, c = payload hash
  kDeliver,        // a = source, b = payload bytes, c = payload hash
  kDrop,           // a = source, b = destination, c = DropReason
  kDuplicate,      // a = destination
  kDiskWrite,      // a = inode, b = offset, c = bytes
  kDiskSync,       // a = inode, b = pending writes made durable
  kDiskDirectory,  // text = operation and path
  kDiskFault,      // text = which fault
  kProcessStart,   // a = incarnation
  kProcessCrash,   // a = incarnation, b = CrashMode
  kProcessPause,   //
  kProcessResume,  //
  kNetworkChange,  // text = partition / heal / clog / model
  kClockChange,    // a = new local time ns, text = what
  kBuggifyFired,   // text = site
  kUser,           // text = "kind: detail" from Runtime::trace
  kCallback,       // a = callback id
};

std::string_view trace_kind_name(TraceKind kind);

// Why a message did not arrive.
enum class DropReason : uint8_t {
  kLoss,
  kPartitioned,
  kDestinationDown,
  kInboxFull,
  kUnknownDestination,
};

std::string_view drop_reason_name(DropReason reason);

// One recorded event, kept only when the world records its full trace.
struct TraceRecord {
  uint64_t index = 0;
  Instant time;
  uint64_t node = 0;  // 0 = the world itself
  TraceKind kind = TraceKind::kUser;
  std::string detail;

  std::string to_string() const;
};

// Cheap 64-bit mixing (the splitmix64 finaliser): enough to make every field count in the
// rolling hash. Not cryptographic; it only needs to differ when runs differ.
inline uint64_t trace_mix(uint64_t hash, uint64_t value) {
  uint64_t z = hash ^ (value + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Hash of opaque bytes (payloads, user text), eight bytes at a time.
uint64_t hash_bytes(std::string_view bytes);

// The run's trace: a rolling hash over every event, plus (when recording) the events
// themselves. Recording formats a string per event, so large runs hash only.
class Trace {
 public:
  explicit Trace(bool record) : record_(record) {}

  // Adds one event. `text` is hashed and, when recording, shown; the integers are formatted
  // according to `kind`.
  void add(Instant time, uint64_t node, TraceKind kind, uint64_t a = 0, uint64_t b = 0,
           uint64_t c = 0, std::string_view text = {}) {
    // Two full mixes per event: the fields are first folded with distinct odd multipliers
    // (so equal values in different fields do not cancel), then avalanched into the hash.
    uint64_t hash =
        trace_mix(hash_, static_cast<uint64_t>(time.nanoseconds()) +
                             ((node << 8) | static_cast<uint64_t>(kind)) * 0x9e3779b97f4a7c15ull);
    hash = trace_mix(
        hash, a * 0xd6e8feb86659fd93ull + b * 0xa0761d6478bd642full + c * 0xe7037ed1a0b428dbull);
    if (!text.empty()) hash = trace_mix(hash, hash_bytes(text));
    hash_ = hash;
    if (record_) record(time, node, kind, a, b, c, text);
    ++count_;
  }

  // A Runtime::trace event: "kind: detail" from process code.
  void add_user(Instant time, uint64_t node, std::string_view kind, std::string_view detail) {
    uint64_t hash = trace_mix(hash_, static_cast<uint64_t>(time.nanoseconds()));
    hash = trace_mix(hash, (node << 8) | static_cast<uint64_t>(TraceKind::kUser));
    hash = trace_mix(hash, hash_bytes(kind));
    hash_ = trace_mix(hash, hash_bytes(detail));
    if (record_) record_user(time, node, kind, detail);
    ++count_;
  }

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  bool recording() const { return record_; }
  const std::vector<TraceRecord>& records() const { return records_; }

 private:
  void record(Instant time, uint64_t node, TraceKind kind, uint64_t a, uint64_t b, uint64_t c,
              std::string_view text);
  void record_user(Instant time, uint64_t node, std::string_view kind, std::string_view detail);

  bool record_;
  uint64_t hash_ = 0x6c6f636b73746570ull;  // "lockstep"
  uint64_t count_ = 0;
  std::vector<TraceRecord> records_;
};

// Where two recorded traces of the same seed first differ.
struct TraceDivergence {
  uint64_t index = 0;
  std::optional<TraceRecord> first_run;  // nullopt: that run's trace ended earlier
  std::optional<TraceRecord> second_run;

  std::string to_string() const;
};

// nullopt when the traces are identical.
std::optional<TraceDivergence> find_first_divergence(const std::vector<TraceRecord>& first_run,
                                                     const std::vector<TraceRecord>& second_run);

}  // namespace lockstep::sim
