#include "sim/trace.h"

#include <cstring>
#include <sstream>

#include "core/base/assert.h"

namespace lockstep::sim {

std::string_view trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::kFiberSpawn:
      return "fiber_spawn";
    case TraceKind::kFiberRun:
      return "fiber_run";
    case TraceKind::kFiberTimeout:
      return "fiber_timeout";
    case TraceKind::kFiberEnd:
      return "fiber_end";
    case TraceKind::kSend:
      return "send";
    case TraceKind::kDeliver:
      return "deliver";
    case TraceKind::kDrop:
      return "drop";
    case TraceKind::kDuplicate:
      return "duplicate";
    case TraceKind::kDiskWrite:
      return "disk_write";
    case TraceKind::kDiskSync:
      return "disk_sync";
    case TraceKind::kDiskDirectory:
      return "disk_directory";
    case TraceKind::kDiskFault:
      return "disk_fault";
    case TraceKind::kProcessStart:
      return "process_start";
    case TraceKind::kProcessCrash:
      return "process_crash";
    case TraceKind::kProcessPause:
      return "process_pause";
    case TraceKind::kProcessResume:
      return "process_resume";
    case TraceKind::kNetworkChange:
      return "network";
    case TraceKind::kClockChange:
      return "clock";
    case TraceKind::kBuggifyFired:
      return "buggify";
    case TraceKind::kUser:
      return "user";
    case TraceKind::kCallback:
      return "callback";
  }
  UNREACHABLE("unknown TraceKind");
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kLoss:
      return "loss";
    case DropReason::kPartitioned:
      return "partitioned";
    case DropReason::kDestinationDown:
      return "destination_down";
    case DropReason::kInboxFull:
      return "inbox_full";
    case DropReason::kUnknownDestination:
      return "unknown_destination";
  }
  UNREACHABLE("unknown DropReason");
}

uint64_t hash_bytes(std::string_view bytes) {
  // One multiply per 8-byte word (FNV-1a's step, widened to words), and one strong mix at the
  // end: payload hashing is on every send, so it must cost about a nanosecond per word.
  uint64_t hash = 0xcbf29ce484222325ull ^ bytes.size();
  size_t position = 0;
  for (; position + 8 <= bytes.size(); position += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + position, 8);
    hash = (hash ^ word) * 0x100000001b3ull;
    hash ^= hash >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + position, bytes.size() - position);
  return trace_mix(hash, tail);
}

namespace {

std::string format_detail(TraceKind kind, uint64_t a, uint64_t b, uint64_t c,
                          std::string_view text) {
  std::ostringstream out;
  switch (kind) {
    case TraceKind::kFiberSpawn:
    case TraceKind::kFiberRun:
    case TraceKind::kFiberTimeout:
    case TraceKind::kFiberEnd:
      // Fiber ids pack (generation << 32 | slot + 1); show them as slot.generation.
      out << "fiber=" << ((a & 0xffffffffu) - 1) << '.' << (a >> 32);
      break;
    case TraceKind::kSend:
      out << "to=" << a << " bytes=" << b << " hash=" << std::hex << c;
      break;
    case TraceKind::kDeliver:
      out << "from=" << a << " bytes=" << b << " hash=" << std::hex << c;
      break;
    case TraceKind::kDrop:
      out << "from=" << a << " to=" << b << " reason=" << drop_reason_name(DropReason(c));
      break;
    case TraceKind::kDuplicate:
      out << "to=" << a;
      break;
    case TraceKind::kDiskWrite:
      out << "inode=" << a << " offset=" << b << " bytes=" << c;
      break;
    case TraceKind::kDiskSync:
      out << "inode=" << a << " durable_writes=" << b;
      break;
    case TraceKind::kProcessStart:
      out << "incarnation=" << a;
      break;
    case TraceKind::kProcessCrash:
      out << "incarnation=" << a << " crash_mode=" << b;
      break;
    case TraceKind::kClockChange:
      out << "local_ns=" << static_cast<int64_t>(a);
      break;
    case TraceKind::kCallback:
    case TraceKind::kDiskDirectory:
    case TraceKind::kDiskFault:
    case TraceKind::kProcessPause:
    case TraceKind::kProcessResume:
    case TraceKind::kNetworkChange:
    case TraceKind::kBuggifyFired:
    case TraceKind::kUser:
      break;
  }
  if (!text.empty()) {
    if (out.tellp() > 0) out << ' ';
    out << text;
  }
  return out.str();
}

}  // namespace

void Trace::record(Instant time, uint64_t node, TraceKind kind, uint64_t a, uint64_t b, uint64_t c,
                   std::string_view text) {
  records_.push_back(TraceRecord{count_, time, node, kind, format_detail(kind, a, b, c, text)});
}

void Trace::record_user(Instant time, uint64_t node, std::string_view kind,
                        std::string_view detail) {
  std::string text(kind);
  text += ": ";
  text += detail;
  records_.push_back(TraceRecord{count_, time, node, TraceKind::kUser, std::move(text)});
}

std::string TraceRecord::to_string() const {
  std::ostringstream out;
  out << "#" << index << " t=" << time.nanoseconds() << "ns node=" << node << ' '
      << trace_kind_name(kind);
  if (!detail.empty()) out << ' ' << detail;
  return out.str();
}

std::string TraceDivergence::to_string() const {
  std::ostringstream out;
  out << "first divergent event #" << index
      << "\n  first run:  " << (first_run ? first_run->to_string() : std::string("(trace ended)"))
      << "\n  second run: "
      << (second_run ? second_run->to_string() : std::string("(trace ended)"));
  return out.str();
}

namespace {
bool same_event(const TraceRecord& left, const TraceRecord& right) {
  return left.time == right.time && left.node == right.node && left.kind == right.kind &&
         left.detail == right.detail;
}
}  // namespace

std::optional<TraceDivergence> find_first_divergence(const std::vector<TraceRecord>& first_run,
                                                     const std::vector<TraceRecord>& second_run) {
  const size_t common = std::min(first_run.size(), second_run.size());
  for (size_t index = 0; index < common; ++index) {
    if (!same_event(first_run[index], second_run[index])) {
      return TraceDivergence{index, first_run[index], second_run[index]};
    }
  }
  if (first_run.size() == second_run.size()) return std::nullopt;
  TraceDivergence divergence{common, std::nullopt, std::nullopt};
  if (common < first_run.size()) divergence.first_run = first_run[common];
  if (common < second_run.size()) divergence.second_run = second_run[common];
  return divergence;
}

}  // namespace lockstep::sim
