#pragma once

#include <variant>

#include "core/mvcc/lease_requests.h"
#include "core/mvcc/requests.h"

namespace lockstep::mvcc {

// What one committed Raft entry asks the state machine to do (the MVCC part of etcd's
// InternalRaftRequest). A RangeRequest is here too because a linearizable read may be
// ordered through the log instead of ReadIndex.
using ApplyRequest =
    std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest,
                 LeaseGrantRequest, LeaseRevokeRequest, LeaseCheckpointRequest>;

using ApplyResponse =
    std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse,
                 LeaseGrantResponse, LeaseRevokeResponse, LeaseCheckpointResponse>;

}  // namespace lockstep::mvcc
