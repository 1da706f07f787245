#pragma once

#include <functional>

#include "core/base/error.h"
#include "core/mvcc/kv_store.h"
#include "core/mvcc/requests.h"

namespace lockstep::mvcc {

// etcd's applierV3backend for the KV requests: Range (sorting, filters, limit/more/count),
// Put (prev_kv, ignore_value, ignore_lease, lease existence), DeleteRange and Txn (compares,
// branch choice, nested txns, pre-checks). Requests must already have passed
// request_validation.h. Writes go into a caller-owned WriteTxn so that the caller decides
// what else shares the revision and the backend batch.
class KvApplier {
 public:
  using LeaseExists = std::function<bool(LeaseId)>;

  KvApplier(KvStore& store, LeaseExists lease_exists)
      : store_(store), lease_exists_(std::move(lease_exists)) {}

  // A read outside any write transaction, at the store's current state.
  Result<RangeResponse> range(const RangeRequest& request) const;

  Result<PutResponse> put(KvStore::WriteTxn& txn, const PutRequest& request) const;
  Result<DeleteRangeResponse> delete_range(KvStore::WriteTxn& txn,
                                           const DeleteRangeRequest& request) const;
  Result<TxnResponse> txn(KvStore::WriteTxn& txn, const TxnRequest& request) const;

  // True if `request` has no put or delete anywhere (etcd isTxnReadonly).
  static bool is_read_only(const TxnRequest& request);

 private:
  // The branch each (nested) txn takes, in visiting order, decided against the state before
  // the transaction (etcd compareToPath).
  Result<std::vector<bool>> choose_path(const TxnRequest& request) const;
  Status choose_path_into(const TxnRequest& request, std::vector<bool>& path) const;
  Result<bool> compare_holds(const Compare& compare) const;
  Status check_ops(const TxnRequest& request, const std::vector<bool>& path,
                   size_t& path_position) const;
  Status execute(KvStore::WriteTxn& txn, const TxnRequest& request, const std::vector<bool>& path,
                 size_t& path_position, TxnResponse& response) const;

  KvStore& store_;
  LeaseExists lease_exists_;
};

}  // namespace lockstep::mvcc
