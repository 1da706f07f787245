#include "server/api/leased_key_queue.h"

#include <cstdio>

namespace lockstep::api {
namespace {

mvcc::RangeRequest first_created(const std::string& prefix) {
  mvcc::RangeRequest first;
  first.key = prefix;
  first.range_end = prefix_range_end(prefix);
  first.sort_target = mvcc::SortTarget::kCreate;
  first.sort_order = mvcc::SortOrder::kAscend;
  first.limit = 1;
  return first;
}

mvcc::Compare created_at(const std::string& key, Revision revision) {
  mvcc::Compare compare;
  compare.result = mvcc::CompareResult::kEqual;
  compare.target = mvcc::CompareTarget::kCreate;
  compare.key = key;
  compare.create_revision = revision;
  return compare;
}

const mvcc::RangeResponse* range_at(const mvcc::TxnResponse& txn, size_t index) {
  if (index >= txn.responses.size()) return nullptr;
  return std::get_if<mvcc::RangeResponse>(&txn.responses[index].response);
}

}  // namespace

std::string lease_key(const std::string& prefix, LeaseId lease) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(lease.value()));
  return prefix + hex;
}

void proclaim(ClientApi& api, const std::string& key, Revision create_revision, LeaseId lease,
              std::string value, Completion<mvcc::TxnResponse> done) {
  mvcc::TxnRequest txn;
  txn.compare.push_back(created_at(key, create_revision));
  txn.success.emplace_back().request = mvcc::PutRequest{key, std::move(value), lease};
  api.txn(std::move(txn), std::move(done));
}

LeasedKeyQueue::LeasedKeyQueue(ClientApi& api, Options options,
                               std::function<void(Result<QueuedKey>)> done)
    : api_(api), options_(std::move(options)), done_(std::move(done)) {
  mine_.key = lease_key(options_.prefix, options_.lease);
  mine_.lease = options_.lease;
}

std::shared_ptr<LeasedKeyQueue> LeasedKeyQueue::start(ClientApi& api, Options options,
                                                      std::function<void(Result<QueuedKey>)> done) {
  auto queue = std::make_shared<LeasedKeyQueue>(api, std::move(options), std::move(done));
  if (queue->options_.lease == kNoLease) {
    queue->grant_session();
  } else {
    queue->enqueue();
  }
  return queue;
}

// etcd's v3lock/v3election servers call concurrency.NewSession(WithLease(request.lease)); with
// lease 0 that grants a new lease (default TTL), which then holds the key and, orphaned by the
// server, outlives the call until it expires or the key is deleted.
void LeasedKeyQueue::grant_session() {
  mvcc::LeaseGrantRequest grant;
  grant.ttl_seconds = kDefaultSessionTtlSeconds;
  api_.lease_grant(grant, [self = shared_from_this()](Result<mvcc::LeaseGrantResponse> granted) {
    if (!granted.is_ok()) return self->finish(granted.error());
    self->options_.lease = granted->id;
    self->mine_.key = lease_key(self->options_.prefix, granted->id);
    self->mine_.lease = granted->id;
    self->enqueue();
  });
}

void LeasedKeyQueue::enqueue() {
  mvcc::TxnRequest txn;
  txn.compare.push_back(created_at(mine_.key, Revision(0)));
  txn.success.emplace_back().request = mvcc::PutRequest{mine_.key, options_.value, options_.lease};
  txn.success.emplace_back().request = first_created(options_.prefix);
  mvcc::RangeRequest existing;
  existing.key = mine_.key;
  txn.failure.emplace_back().request = existing;
  txn.failure.emplace_back().request = first_created(options_.prefix);
  api_.txn(std::move(txn), [self = shared_from_this()](Result<mvcc::TxnResponse> result) {
    if (!result.is_ok()) return self->finish(result.error());
    self->on_enqueued(*result);
  });
}

void LeasedKeyQueue::on_enqueued(const mvcc::TxnResponse& txn) {
  mine_.header = txn.header;
  const mvcc::RangeResponse* owner = range_at(txn, 1);
  if (txn.succeeded) {
    mine_.create_revision = txn.header.revision;
  } else {
    const mvcc::RangeResponse* existing = range_at(txn, 0);
    // Gone between the compare and the read cannot happen (one txn); a missing key here
    // means the lease expired and took it: a race the caller may retry.
    if (existing == nullptr || existing->kvs.empty() || owner == nullptr) {
      return finish(Error(ErrorCode::kLeaseNotFound));
    }
    mine_.create_revision = existing->kvs.front().create_revision;
    if (options_.proclaim_existing && existing->kvs.front().value != options_.value) {
      // Campaigning again with a new value updates it first (etcd Election.Campaign).
      return proclaim(api_, mine_.key, mine_.create_revision, options_.lease, options_.value,
                      [self = shared_from_this()](Result<mvcc::TxnResponse> proclaimed) {
                        if (!proclaimed.is_ok()) return self->finish(proclaimed.error());
                        self->wait_turn();
                      });
    }
  }
  if (owner != nullptr && !owner->kvs.empty() &&
      owner->kvs.front().create_revision == mine_.create_revision) {
    return finish(mine_);
  }
  wait_turn();
}

void LeasedKeyQueue::wait_turn() {
  bool cancelled_before = false;
  {
    std::lock_guard lock(mutex_);
    cancelled_before = cancelled_;
  }
  if (cancelled_before) return finish(Error(ErrorCode::kCancelled));
  // Started outside the lock: its first answer may arrive before start() returns.
  std::shared_ptr<DeleteWaiter> waiter =
      DeleteWaiter::start(api_, options_.prefix, mine_.create_revision.previous(),
                          [self = shared_from_this()](Status waited) {
                            if (!waited.is_ok()) return self->finish(waited.error());
                            self->finish(self->mine_);
                          });
  bool cancelled = false;
  {
    std::lock_guard lock(mutex_);
    waiter_ = waiter;
    cancelled = cancelled_;
  }
  if (cancelled) waiter->cancel();
}

void LeasedKeyQueue::cancel() {
  std::shared_ptr<DeleteWaiter> waiter;
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    waiter = waiter_;
  }
  if (waiter) waiter->cancel();
}

void LeasedKeyQueue::finish(Result<QueuedKey> result) {
  std::function<void(Result<QueuedKey>)> done;
  {
    std::lock_guard lock(mutex_);
    done = std::move(done_);
    done_ = nullptr;
    waiter_.reset();
  }
  if (!done) return;
  if (!result.is_ok() && mine_.create_revision != Revision(0)) {
    // Leave no place in the queue behind (etcd's server unlocks / resigns on a failed wait).
    api_.delete_range(mvcc::DeleteRangeRequest{mine_.key}, [](auto) {});
  }
  done(std::move(result));
}

}  // namespace lockstep::api
