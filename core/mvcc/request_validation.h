#pragma once

#include <cstddef>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/mvcc/requests.h"

namespace lockstep::mvcc {

// The checks etcd's gRPC layer makes before proposing a request (v3rpc/key.go: checkRange-
// Request, checkPutRequest, checkDeleteRequest, checkTxnRequest, checkIntervals). The state
// machine repeats them at apply, so a malformed entry fails the same way on every member.
Status validate_range(const RangeRequest& request);
Status validate_put(const PutRequest& request);
Status validate_delete_range(const DeleteRangeRequest& request);
// Includes the op-count limit (kTooManyOps: the largest of the compare, success and failure
// counts exceeds `max_txn_ops`) and the duplicate-key rule (kDuplicateKey).
Status validate_txn(const TxnRequest& request, size_t max_txn_ops = limits::kMaxTxnOpsDefault);

// etcd refuses a proposal whose encoded form exceeds --max-request-bytes (kRequestTooLarge).
// The size is of the node's encoding of the request (what goes into the Raft entry), so the
// node calls this with the encoded length before proposing.
Status validate_request_size(size_t encoded_bytes,
                             size_t max_request_bytes = limits::kMaxRequestBytesDefault);

}  // namespace lockstep::mvcc
