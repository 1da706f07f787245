#include "core/node/replicated_counter.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "core/base/assert.h"
#include "core/base/crc32c.h"
#include "core/node/wire_codec.h"

namespace lockstep::node {
namespace {

constexpr uint8_t kGossipTag = 0x47;  // 'G'
constexpr uint8_t kRecordVersion = 1;
constexpr size_t kSlotHeaderBytes = 8;  // u32 body length + u32 crc32c
constexpr std::string_view kStateFile = "state";
constexpr int64_t kBuggifyFsyncDelayFactor = 10;

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(value >> shift));
}

uint32_t get_u32(std::string_view bytes) {
  uint32_t value = 0;
  for (int index = 3; index >= 0; --index) {
    value = (value << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(index)]);
  }
  return value;
}

void write_counts(WireWriter& writer, const std::map<NodeId, uint64_t>& counts) {
  writer.varint(counts.size());
  for (const auto& [member, count] : counts) {
    writer.varint(member.value());
    writer.varint(count);
  }
}

Status read_counts(WireReader& reader, std::map<NodeId, uint64_t>& counts) {
  const uint64_t entries = reader.count();
  if (entries > kMaxCounterMembers) return Status(ErrorCode::kInvalidInput, "too many members");
  for (uint64_t index = 0; index < entries && !reader.failed(); ++index) {
    const NodeId member(reader.varint());
    const uint64_t count = reader.varint();
    if (reader.failed()) break;
    if (member == kNoNode) return Status(ErrorCode::kInvalidInput, "member id 0");
    if (!counts.emplace(member, count).second) {
      return Status(ErrorCode::kInvalidInput, "member listed twice");
    }
  }
  return reader.finish();
}

}  // namespace

uint64_t CounterSnapshot::total() const {
  uint64_t sum = 0;
  for (const auto& [member, count] : counts) sum += count;
  return sum;
}

Status validate_counter_config(const CounterConfig& config, NodeId self) {
  if (config.members.empty()) return Status(ErrorCode::kInvalidInput, "no members");
  if (config.members.size() > kMaxCounterMembers) {
    return Status(ErrorCode::kInvalidInput, "more than kMaxCounterMembers members");
  }
  const std::set<NodeId> unique(config.members.begin(), config.members.end());
  if (unique.size() != config.members.size()) {
    return Status(ErrorCode::kInvalidInput, "duplicate member");
  }
  if (unique.contains(kNoNode)) return Status(ErrorCode::kInvalidInput, "member id 0");
  if (!unique.contains(self)) return Status(ErrorCode::kInvalidInput, "self is not a member");
  if (config.increment_interval <= Duration(0) || config.gossip_interval <= Duration(0) ||
      config.retry_backoff <= Duration(0)) {
    return Status(ErrorCode::kInvalidInput, "intervals must be positive");
  }
  if (config.directory.empty()) return Status(ErrorCode::kInvalidInput, "empty directory");
  return Status::ok();
}

std::string encode_counter_slot(uint64_t sequence, const std::map<NodeId, uint64_t>& counts) {
  WireWriter body;
  body.u8(kRecordVersion);
  body.varint(sequence);
  write_counts(body, counts);
  ASSERT(body.data().size() + kSlotHeaderBytes <= kCounterSlotBytes,
         "a counter record must fit its slot (kMaxCounterMembers bounds it)");
  std::string slot;
  slot.reserve(kCounterSlotBytes);
  put_u32(slot, static_cast<uint32_t>(body.data().size()));
  slot += body.data();
  // The checksum sits in the slot's last bytes, in its last sector: a write torn after the
  // first sector leaves a new body under an old or zero checksum, which cannot match.
  const uint32_t checksum = crc32c(slot);
  slot.resize(kCounterSlotBytes - 4, '\0');
  put_u32(slot, checksum);
  return slot;
}

Result<CounterRecord> decode_counter_slot(std::string_view slot) {
  if (slot.size() < kCounterSlotBytes) {
    if (slot.find_first_not_of('\0') == std::string_view::npos) {
      return Error(ErrorCode::kInvalidInput, "empty slot");
    }
    return Error(ErrorCode::kDataCorruption, "slot shorter than kCounterSlotBytes");
  }
  if (slot.find_first_not_of('\0') == std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput, "empty slot");
  }
  const uint32_t length = get_u32(slot);
  if (length > kCounterSlotBytes - kSlotHeaderBytes) {
    return Error(ErrorCode::kDataCorruption, "record length beyond its slot");
  }
  const uint32_t checksum = get_u32(slot.substr(kCounterSlotBytes - 4));
  if (crc32c(slot.substr(0, 4 + length)) != checksum) {
    return Error(ErrorCode::kDataCorruption, "record checksum");
  }
  WireReader reader(slot.substr(4, length));
  CounterRecord record;
  if (reader.u8() != kRecordVersion) {
    return Error(ErrorCode::kDataCorruption, "unknown record version");
  }
  record.sequence = reader.varint();
  const Status counts = read_counts(reader, record.counts);
  if (!counts.is_ok()) return Error(ErrorCode::kDataCorruption, counts.to_string());
  return record;
}

std::string encode_counter_gossip(const CounterGossip& gossip) {
  WireWriter writer;
  writer.u8(kGossipTag);
  writer.varint(gossip.sender.value());
  write_counts(writer, gossip.counts);
  return writer.take();
}

Result<CounterGossip> decode_counter_gossip(std::string_view payload) {
  WireReader reader(payload);
  if (reader.u8() != kGossipTag) return Error(ErrorCode::kInvalidInput, "not counter gossip");
  CounterGossip gossip;
  gossip.sender = NodeId(reader.varint());
  RETURN_IF_ERROR(read_counts(reader, gossip.counts));
  if (gossip.sender == kNoNode) return Error(ErrorCode::kInvalidInput, "sender id 0");
  return gossip;
}

namespace {

// One member's state and fibers. Shared by its fibers (each holds a shared_ptr), so it lives
// until the last of them ends or is killed, whatever order a crash unwinds them in.
class CounterMember : public std::enable_shared_from_this<CounterMember> {
 public:
  CounterMember(env::Runtime& runtime, CounterConfig config,
                std::function<void(const CounterSnapshot&)> observer)
      : runtime_(runtime), config_(std::move(config)), observer_(std::move(observer)) {
    for (NodeId member : config_.members) counts_[member] = 0;
  }

  void run() {
    while (!open_state().is_ok()) runtime_.sleep_for(config_.retry_backoff);
    recover();
    notify(CounterSnapshot::Reason::kRecovered);
    auto self = shared_from_this();
    runtime_.spawn("counter-receive", [self] { self->receive_loop(); });
    runtime_.spawn("counter-increment", [self] { self->increment_loop(); });
    gossip_loop();
  }

 private:
  std::string state_path() const { return config_.directory + "/" + std::string(kStateFile); }

  // Creates the directory and the state file durably (each new name needs an fsync of its
  // parent directory to survive a crash), then opens the file.
  Status open_state() {
    env::Disk& disk = runtime_.disk();
    if (!disk.exists(config_.directory)) {
      RETURN_IF_ERROR(disk.create_directory(config_.directory));
      RETURN_IF_ERROR(disk.sync_directory(""));
    }
    const bool existed = disk.exists(state_path());
    auto file = disk.open(state_path(), env::OpenMode::kCreateReadWrite);
    RETURN_IF_ERROR(file.status());
    if (!existed) RETURN_IF_ERROR(disk.sync_directory(config_.directory));
    file_ = std::move(*file);
    return Status::ok();
  }

  void recover() {
    std::optional<CounterRecord> newest;
    for (uint64_t slot = 0; slot < 2; ++slot) {
      auto bytes = file_->read(slot * kCounterSlotBytes, kCounterSlotBytes);
      if (!bytes.is_ok()) {
        runtime_.trace("counter", "read of slot failed: " + bytes.error().to_string());
        continue;
      }
      auto record = decode_counter_slot(*bytes);
      if (!record.is_ok()) {
        if (record.code() == ErrorCode::kDataCorruption) {
          PROBE(runtime_, "counter: torn or corrupt state slot skipped");
          runtime_.trace("counter",
                         "slot " + std::to_string(slot) + ": " + record.error().to_string());
        }
        continue;
      }
      if (!newest || record->sequence > newest->sequence) newest = std::move(*record);
    }
    if (!newest) {
      PROBE(runtime_, "counter: started with no state record");
      return;
    }
    PROBE(runtime_, "counter: recovered a state record");
    for (const auto& [member, count] : newest->counts) {
      if (counts_.contains(member)) counts_[member] = count;
    }
    own_durable_ = counts_[runtime_.self()];
    next_sequence_ = newest->sequence + 1;
  }

  // Writes the next record into the slot that does not hold the newest durable one, then
  // fsyncs. On any error the sequence number stays, so the retry rewrites the same slot.
  Status persist(const std::map<NodeId, uint64_t>& counts) {
    const std::string slot = encode_counter_slot(next_sequence_, counts);
    RETURN_IF_ERROR(file_->write((next_sequence_ % 2) * kCounterSlotBytes, slot));
    // Simulation only: widen the window between write and fsync, so that crashes land in it
    // and recovery meets torn records more often.
    if (BUGGIFY(runtime_)) runtime_.sleep_for(config_.retry_backoff * kBuggifyFsyncDelayFactor);
    RETURN_IF_ERROR(file_->sync());
    ++next_sequence_;
    return Status::ok();
  }

  void increment_loop() {
    const NodeId self = runtime_.self();
    while (counts_[self] < config_.target_increments) {
      runtime_.sleep_for(config_.increment_interval);
      std::map<NodeId, uint64_t> next = counts_;
      const uint64_t value = counts_[self] + 1;
      next[self] = value;
      const Status persisted = persist(next);
      if (!persisted.is_ok()) {
        // Not durable, so not counted: retry after a pause (EIO, ENOSPC).
        PROBE(runtime_, "counter: persist failed, retrying");
        runtime_.trace("counter", "persist failed: " + persisted.to_string());
        runtime_.sleep_for(config_.retry_backoff);
        continue;
      }
      own_durable_ = value;
      counts_[self] = std::max(counts_[self], value);
      notify(CounterSnapshot::Reason::kIncremented);
    }
    PROBE(runtime_, "counter: reached its target");
  }

  void gossip_loop() {
    while (true) {
      const std::string payload = encode_counter_gossip(CounterGossip{runtime_.self(), counts_});
      for (NodeId member : config_.members) {
        if (member != runtime_.self()) runtime_.network().send(member, payload);
      }
      runtime_.sleep_for(config_.gossip_interval);
    }
  }

  void receive_loop() {
    while (true) {
      std::optional<env::Message> message = runtime_.network().receive(std::nullopt);
      if (!message) continue;
      auto gossip = decode_counter_gossip(message->payload);
      if (!gossip.is_ok()) {
        runtime_.trace("counter", "bad gossip: " + gossip.error().to_string());
        continue;
      }
      if (gossip->sender != message->from || !counts_.contains(gossip->sender)) {
        PROBE(runtime_, "counter: gossip from a non-member ignored");
        continue;
      }
      merge(gossip->counts);
    }
  }

  // G-counter merge: pointwise maximum over the members this member knows.
  void merge(const std::map<NodeId, uint64_t>& counts) {
    bool changed = false;
    for (const auto& [member, count] : counts) {
      auto known = counts_.find(member);
      if (known == counts_.end() || known->second >= count) continue;
      known->second = count;
      changed = true;
    }
    if (changed) notify(CounterSnapshot::Reason::kMerged);
  }

  void notify(CounterSnapshot::Reason reason) {
    if (!observer_) return;
    observer_(CounterSnapshot{runtime_.self(), reason, counts_, own_durable_});
  }

  env::Runtime& runtime_;
  const CounterConfig config_;
  const std::function<void(const CounterSnapshot&)> observer_;
  std::unique_ptr<env::File> file_;
  std::map<NodeId, uint64_t> counts_;
  uint64_t own_durable_ = 0;
  uint64_t next_sequence_ = 1;
};

}  // namespace

void run_replicated_counter(env::Runtime& runtime, const CounterConfig& config,
                            std::function<void(const CounterSnapshot&)> observer) {
  const Status valid = validate_counter_config(config, runtime.self());
  if (!valid.is_ok()) {
    runtime.trace("counter", "bad configuration: " + valid.to_string());
    return;
  }
  auto member = std::make_shared<CounterMember>(runtime, config, std::move(observer));
  member->run();
}

}  // namespace lockstep::node
