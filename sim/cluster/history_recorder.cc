#include "sim/cluster/history_recorder.h"

#include "core/base/assert.h"

namespace lockstep::sim {

size_t HistoryRecorder::invoke(int64_t client, Instant at, checker::Request request) {
  Slot slot;
  slot.operation.client = client;
  slot.operation.invoke_time = at.nanoseconds();
  slot.operation.request = std::move(request);
  slots_.push_back(std::move(slot));
  return slots_.size() - 1;
}

void HistoryRecorder::complete(size_t handle, Instant at, checker::Response response) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.operation.return_time = at.nanoseconds();
  slot.operation.response = std::move(response);
  ++completed_;
}

void HistoryRecorder::indeterminate(size_t handle, Instant at) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.operation.indeterminate = true;
  slot.operation.return_time = at.nanoseconds();
  ++indeterminate_;
}

void HistoryRecorder::fail(size_t handle) {
  Slot& slot = slots_.at(handle);
  ASSERT(slot.open, "an operation completes once");
  slot.open = false;
  slot.dropped = true;
  ++failed_;
}

checker::History HistoryRecorder::history() const {
  checker::History history;
  history.model_hint = "etcd";
  for (const Slot& slot : slots_) {
    if (slot.dropped) continue;
    checker::Operation operation = slot.operation;
    // An operation still open when the run ended never got its answer.
    if (slot.open) operation.indeterminate = true;
    history.operations.push_back(std::move(operation));
  }
  return history;
}

namespace {

checker::KeyValue to_checker_key_value(const mvcc::KeyValue& kv, RevisionRecording recording) {
  checker::KeyValue out;
  out.key = kv.key;
  out.value = kv.value;
  if (recording == RevisionRecording::kStrict) {
    out.create_revision = kv.create_revision.value();
    out.mod_revision = kv.mod_revision.value();
    out.version = kv.version;
  }
  return out;
}

int64_t header_revision(const mvcc::ResponseHeader& header, RevisionRecording recording) {
  return recording == RevisionRecording::kStrict ? header.revision.value() : 0;
}

checker::CompareTarget to_checker_target(mvcc::CompareTarget target) {
  switch (target) {
    case mvcc::CompareTarget::kValue:
      return checker::CompareTarget::kValue;
    case mvcc::CompareTarget::kVersion:
      return checker::CompareTarget::kVersion;
    case mvcc::CompareTarget::kCreate:
      return checker::CompareTarget::kCreateRevision;
    case mvcc::CompareTarget::kMod:
      return checker::CompareTarget::kModRevision;
    case mvcc::CompareTarget::kLease:
      break;
  }
  UNREACHABLE("workloads never compare leases");
}

checker::CompareResult to_checker_result(mvcc::CompareResult result) {
  switch (result) {
    case mvcc::CompareResult::kEqual:
      return checker::CompareResult::kEqual;
    case mvcc::CompareResult::kNotEqual:
      return checker::CompareResult::kNotEqual;
    case mvcc::CompareResult::kLess:
      return checker::CompareResult::kLess;
    case mvcc::CompareResult::kGreater:
      return checker::CompareResult::kGreater;
  }
  UNREACHABLE("compare result out of range");
}

checker::Request op_to_request(const mvcc::RequestOp& op) {
  return std::visit(
      [](const auto& typed) -> checker::Request {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnRequest>>) {
          return to_checker_request(*typed);
        } else {
          return to_checker_request(typed);
        }
      },
      op.request);
}

checker::Response op_to_response(const mvcc::ResponseOp& op, RevisionRecording recording) {
  return std::visit(
      [&](const auto& typed) -> checker::Response {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, mvcc::Boxed<mvcc::TxnResponse>>) {
          return to_checker_response(*typed, recording);
        } else {
          return to_checker_response(typed, recording);
        }
      },
      op.response);
}

}  // namespace

checker::Request to_checker_request(const mvcc::RangeRequest& request) {
  checker::Request out;
  out.kind = request.range_end.empty() ? checker::RequestKind::kGet : checker::RequestKind::kRange;
  out.key = request.key;
  out.range_end = request.range_end;
  return out;
}

checker::Request to_checker_request(const mvcc::PutRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kPut;
  out.key = request.key;
  out.value = request.value;
  return out;
}

checker::Request to_checker_request(const mvcc::DeleteRangeRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kDelete;
  out.key = request.key;
  out.range_end = request.range_end;
  return out;
}

checker::Request to_checker_request(const mvcc::TxnRequest& request) {
  checker::Request out;
  out.kind = checker::RequestKind::kTxn;
  for (const mvcc::Compare& compare : request.compare) {
    checker::Compare converted;
    converted.key = compare.key;
    converted.target = to_checker_target(compare.target);
    converted.result = to_checker_result(compare.result);
    converted.value = compare.value;
    switch (compare.target) {
      case mvcc::CompareTarget::kVersion:
        converted.number = compare.version;
        break;
      case mvcc::CompareTarget::kCreate:
        converted.number = compare.create_revision.value();
        break;
      case mvcc::CompareTarget::kMod:
        converted.number = compare.mod_revision.value();
        break;
      default:
        break;
    }
    out.compares.push_back(std::move(converted));
  }
  for (const mvcc::RequestOp& op : request.success) out.success.push_back(op_to_request(op));
  for (const mvcc::RequestOp& op : request.failure) out.failure.push_back(op_to_request(op));
  return out;
}

checker::Response to_checker_response(const mvcc::RangeResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  if (!response.kvs.empty()) out.value = response.kvs.front().value;
  // Without revisions the model can still judge a single key's value; the kvs list (with its
  // revisions) is recorded only when revisions are.
  if (recording == RevisionRecording::kStrict) {
    out.has_kvs = true;
    for (const mvcc::KeyValue& kv : response.kvs) {
      out.kvs.push_back(to_checker_key_value(kv, recording));
    }
  }
  return out;
}

checker::Response to_checker_response(const mvcc::PutResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  return out;
}

checker::Response to_checker_response(const mvcc::DeleteRangeResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  out.deleted = response.deleted;
  return out;
}

checker::Response to_checker_response(const mvcc::TxnResponse& response,
                                      RevisionRecording recording) {
  checker::Response out;
  out.revision = header_revision(response.header, recording);
  out.succeeded = response.succeeded;
  for (const mvcc::ResponseOp& op : response.responses) {
    checker::Response inner = op_to_response(op, recording);
    // Inner responses carry the txn's revision; the model checks the outer one.
    inner.revision = 0;
    out.responses.push_back(std::move(inner));
  }
  return out;
}

}  // namespace lockstep::sim
