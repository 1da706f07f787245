#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/base/time.h"
#include "core/env/runtime.h"

namespace lockstep::node {

// A replicated grow-only counter (a state-based G-counter CRDT, Shapiro et al. 2011): the
// smallest program that exercises everything a real member does against its world — it
// persists with write + fsync, talks over an unreliable network, survives crashes and
// restarts, and must converge. It runs over env::Runtime only, so the same code runs in the
// simulated world (sim/, `lockstep sim selftest`) and on real sockets and disks (server/).
//
// Each member owns one entry of the counter vector. It increments its own entry up to
// `target_increments`, each increment made durable before it counts (write the record, then
// fsync; an increment whose fsync failed is retried, never assumed). Every gossip interval it
// sends its whole vector to every other member; a receiver merges by pointwise maximum, which
// is idempotent, commutative and associative — so loss, duplication and reordering cannot
// break convergence, only delay it. Once every member reaches its target and the network
// heals, every member's total is the sum of the targets.
//
// Persistence: "<directory>/state" holds two fixed-size slots. A record (sequence number,
// vector, CRC32C in the slot's last sector) goes to slot `sequence % 2`, so the newest durable
// record is never overwritten; a torn or corrupt slot fails its checksum and recovery takes the
// other one. After a failed write or fsync the *same* slot is rewritten with the same sequence
// number (after an fsync error the kernel may have dropped the pages — PostgreSQL's 2018
// "fsyncgate" — so the only safe move is to write again).

// At most this many members: one record must fit one slot.
inline constexpr size_t kMaxCounterMembers = 32;
// A state slot: two disk sectors, so a power cut can tear a record in the middle.
inline constexpr uint64_t kCounterSlotBytes = 1024;

struct CounterConfig {
  std::vector<NodeId> members;  // every member, including this one
  uint64_t target_increments = 100;
  Duration increment_interval = std::chrono::milliseconds(20);
  Duration gossip_interval = std::chrono::milliseconds(50);
  Duration retry_backoff = std::chrono::milliseconds(10);
  std::string directory = "counter";
};

// What a member reports about itself, for tests, the self-test and logs.
struct CounterSnapshot {
  enum class Reason : uint8_t { kRecovered, kIncremented, kMerged };

  NodeId self;
  Reason reason = Reason::kRecovered;
  std::map<NodeId, uint64_t> counts;  // this member's view of every member's entry
  uint64_t own_durable = 0;           // this member's own entry, known durable
  uint64_t total() const;
};

// Validates the configuration (kInvalidInput with a reason when it cannot run).
Status validate_counter_config(const CounterConfig& config, NodeId self);

// Runs one member on `runtime` forever (until its process dies): recovers from disk, then
// increments and gossips. `observer`, when set, is called on the member's own fibers after
// recovery and after every change; it must not block.
void run_replicated_counter(env::Runtime& runtime, const CounterConfig& config,
                            std::function<void(const CounterSnapshot&)> observer = nullptr);

// --- the formats, exposed for tests ---

// One state record, framed for a slot: [u32 body length][body][zeros][u32 crc32c], exactly
// kCounterSlotBytes, the checksum (over length and body) in the slot's last four bytes.
std::string encode_counter_slot(uint64_t sequence, const std::map<NodeId, uint64_t>& counts);
struct CounterRecord {
  uint64_t sequence = 0;
  std::map<NodeId, uint64_t> counts;
};
// kDataCorruption for a torn or damaged slot, kInvalidInput for an empty one.
Result<CounterRecord> decode_counter_slot(std::string_view slot);

// A gossip message: the sender and its whole vector.
struct CounterGossip {
  NodeId sender;
  std::map<NodeId, uint64_t> counts;
};
std::string encode_counter_gossip(const CounterGossip& gossip);
// kInvalidInput for anything malformed, oversized or with a zero member id.
Result<CounterGossip> decode_counter_gossip(std::string_view payload);

}  // namespace lockstep::node
