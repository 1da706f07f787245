#include "core/mvcc/lessor.h"

#include <algorithm>

#include "core/mvcc/byte_codec.h"

namespace lockstep::mvcc {
namespace {

constexpr uint64_t kLeaseRecordFormat = 1;

std::string encode_lease(const Lessor::Lease& lease) {
  ByteWriter writer;
  writer.put_varint(kLeaseRecordFormat);
  writer.put_signed(lease.ttl_seconds);
  writer.put_signed(lease.remaining_ttl_seconds);
  return writer.take();
}

Status decode_lease(std::string_view bytes, Lessor::Lease& lease) {
  ByteReader reader(bytes);
  uint64_t format = 0;
  if (!reader.get_varint(format) || format != kLeaseRecordFormat ||
      !reader.get_signed(lease.ttl_seconds) || !reader.get_signed(lease.remaining_ttl_seconds) ||
      !reader.at_end()) {
    return Error(ErrorCode::kDataCorruption, "lease record");
  }
  return Status::ok();
}

}  // namespace

Result<LeaseGrantResponse> Lessor::grant(LeaseId id, int64_t ttl_seconds, WriteBatch& batch) {
  if (id == kNoLease) return Error(ErrorCode::kLeaseNotFound);
  if (ttl_seconds > limits::kMaxLeaseTtlSeconds) return Error(ErrorCode::kLeaseTtlTooLarge);
  if (leases_.contains(id)) return Error(ErrorCode::kLeaseExists);
  Lease lease;
  lease.id = id;
  lease.ttl_seconds = std::max(ttl_seconds, options_.min_ttl_seconds);
  if (primary_) {
    lease.expiry = clock_ + std::chrono::seconds(lease.ttl_seconds);
    lease.next_checkpoint = clock_ + options_.checkpoint_interval;
  }
  persist(lease, batch);
  LeaseGrantResponse response;
  response.id = id;
  response.ttl_seconds = lease.ttl_seconds;
  leases_.emplace(id, std::move(lease));
  return response;
}

Status Lessor::remove(LeaseId id, WriteBatch& batch) {
  if (leases_.erase(id) == 0) return Error(ErrorCode::kLeaseNotFound);
  batch.lease_removals.push_back(id);
  return Status::ok();
}

void Lessor::checkpoint(const LeaseCheckpointRequest& request, WriteBatch& batch) {
  for (const LeaseCheckpoint& checkpoint : request.checkpoints) {
    auto it = leases_.find(checkpoint.id);
    if (it == leases_.end()) continue;
    it->second.remaining_ttl_seconds = checkpoint.remaining_ttl_seconds;
    persist(it->second, batch);
  }
}

void Lessor::attach(LeaseId id, const std::string& key) {
  auto it = leases_.find(id);
  ASSERT(it != leases_.end(), "a put names only an existing lease (checked before the write)");
  it->second.keys.insert(key);
}

void Lessor::detach(LeaseId id, const std::string& key) {
  auto it = leases_.find(id);
  // A key can outlive its lease's record only inside the revoke that deletes both.
  if (it != leases_.end()) it->second.keys.erase(key);
}

const Lessor::Lease* Lessor::find(LeaseId id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

std::vector<std::string> Lessor::keys_of(LeaseId id) const {
  const Lease* lease = find(id);
  if (lease == nullptr) return {};
  return std::vector<std::string>(lease->keys.begin(), lease->keys.end());
}

std::vector<LeaseId> Lessor::lease_ids() const {
  std::vector<LeaseId> ids;
  ids.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) ids.push_back(id);
  return ids;
}

Status Lessor::restore(const Backend& backend) {
  Result<std::vector<LeaseRecord>> records = backend.read_leases();
  if (!records.is_ok()) return records.error();
  std::map<LeaseId, Lease> leases;
  for (const LeaseRecord& record : *records) {
    Lease lease;
    lease.id = record.id;
    RETURN_IF_ERROR(decode_lease(record.data, lease));
    leases.emplace(record.id, std::move(lease));
  }
  leases_ = std::move(leases);
  // A leader that rebuilds (after a disk error, say) stays the primary: its deadlines were
  // lost with the old state, so it hands out fresh ones as on promotion. Leases can only
  // live longer this way, never shorter, which is the safe direction for lease holders.
  if (primary_) promote(clock_, Duration::zero());
  return Status::ok();
}

void Lessor::persist(const Lease& lease, WriteBatch& batch) const {
  batch.lease_puts.push_back(LeaseRecord{lease.id, encode_lease(lease)});
}

int64_t Lessor::remaining_or_full_seconds(const Lease& lease) const {
  return lease.remaining_ttl_seconds > 0 ? lease.remaining_ttl_seconds : lease.ttl_seconds;
}

void Lessor::advance_clock(Instant now) {
  // The leader's clock can jump backwards (an operator or NTP stepping it; the simulator's
  // clock-jump faults do exactly this, which is how this was found). Holding the lease clock
  // still until the host clock catches up only ever makes leases live longer, the safe
  // direction for lease holders.
  if (now > clock_) clock_ = now;
}

void Lessor::promote(Instant now, Duration extend) {
  advance_clock(now);
  now = clock_;
  primary_ = true;
  for (auto& [id, lease] : leases_) {
    lease.expiry = now + extend + std::chrono::seconds(remaining_or_full_seconds(lease));
    lease.report_again_after = kInstantZero;
    lease.next_checkpoint = now + options_.checkpoint_interval;
  }
}

void Lessor::demote() {
  primary_ = false;
  for (auto& [id, lease] : leases_) {
    lease.expiry = kInstantMax;
    lease.next_checkpoint = kInstantMax;
  }
}

Result<Lessor::Renewal> Lessor::renew(LeaseId id, Instant now) {
  if (!primary_) return Error(ErrorCode::kNotLeader);
  auto it = leases_.find(id);
  if (it == leases_.end()) return Error(ErrorCode::kLeaseNotFound);
  Lease& lease = it->second;
  if (now >= lease.expiry) return Error(ErrorCode::kLeaseNotFound);
  Renewal renewal;
  renewal.clear_checkpoint = lease.remaining_ttl_seconds > 0;
  lease.expiry = now + std::chrono::seconds(lease.ttl_seconds);
  lease.report_again_after = kInstantZero;
  renewal.ttl_seconds = lease.ttl_seconds;
  return renewal;
}

Result<LeaseTimeToLiveResponse> Lessor::time_to_live(LeaseId id, bool with_keys,
                                                     Instant now) const {
  const Lease* lease = find(id);
  if (lease == nullptr) return Error(ErrorCode::kLeaseNotFound);
  LeaseTimeToLiveResponse response;
  response.id = id;
  response.granted_ttl_seconds = lease->ttl_seconds;
  if (!primary_) {
    // A follower has no deadline; the node forwards TimeToLive to the leader as etcd does.
    // Answer with the best replicated knowledge: the checkpointed or full TTL.
    response.ttl_seconds = remaining_or_full_seconds(*lease);
  } else if (now >= lease->expiry) {
    response.ttl_seconds = -1;
  } else {
    response.ttl_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(lease->expiry - now).count();
  }
  if (with_keys) response.keys.assign(lease->keys.begin(), lease->keys.end());
  return response;
}

std::vector<LeaseId> Lessor::take_expired(Instant now, size_t limit) {
  std::vector<LeaseId> expired;
  if (!primary_) return expired;
  std::vector<std::pair<Instant, LeaseId>> candidates;
  for (const auto& [id, lease] : leases_) {
    if (lease.expiry <= now && lease.report_again_after <= now) {
      candidates.emplace_back(lease.expiry, id);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  if (candidates.size() > limit) candidates.resize(limit);
  for (const auto& [expiry, id] : candidates) {
    leases_.at(id).report_again_after = now + options_.expired_lease_retry_interval;
    expired.push_back(id);
  }
  return expired;
}

std::vector<LeaseCheckpoint> Lessor::take_checkpoints(Instant now, size_t limit) {
  std::vector<LeaseCheckpoint> checkpoints;
  if (!primary_) return checkpoints;
  for (auto& [id, lease] : leases_) {
    if (checkpoints.size() >= limit) break;
    if (lease.next_checkpoint > now || lease.expiry <= now) continue;
    const int64_t remaining =
        std::chrono::duration_cast<std::chrono::seconds>(lease.expiry - now).count();
    checkpoints.push_back(LeaseCheckpoint{id, std::max<int64_t>(remaining, 1)});
    lease.next_checkpoint = now + options_.checkpoint_interval;
  }
  return checkpoints;
}

}  // namespace lockstep::mvcc
