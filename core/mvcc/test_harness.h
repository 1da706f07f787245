#pragma once

// Test-only helpers: a StateMachine over a MemoryBackend that applies requests at
// consecutive Raft indexes, with terse builders. Included by *_test.cc files only.

#include <gtest/gtest.h>

#include <string>

#include "core/mvcc/memory_backend.h"
#include "core/mvcc/state_machine.h"

namespace lockstep::mvcc::testing {

class Harness {
 public:
  explicit Harness(StateMachineOptions options = {})
      : machine_(std::make_unique<StateMachine>(backend_, options)), options_(options) {}

  StateMachine& machine() { return *machine_; }
  MemoryBackend& backend() { return backend_; }
  LogIndex last_index() const { return index_; }

  // Applies at the next index; a backend failure fails the test.
  Result<ApplyResponse> apply(const ApplyRequest& request) {
    index_ = index_.next();
    Result<ApplyOutcome> outcome = machine_->apply(index_, request);
    EXPECT_TRUE(outcome.is_ok()) << outcome.status().to_string();
    if (!outcome.is_ok()) return outcome.error();
    return outcome->response;
  }

  template <typename Response>
  Response apply_ok(const ApplyRequest& request) {
    Result<ApplyResponse> response = apply(request);
    EXPECT_TRUE(response.is_ok()) << response.status().to_string();
    if (!response.is_ok()) return Response{};
    return std::get<Response>(*response);
  }

  ErrorCode apply_error(const ApplyRequest& request) { return apply(request).code(); }

  PutResponse put(const std::string& key, const std::string& value, LeaseId lease = kNoLease) {
    return apply_ok<PutResponse>(PutRequest{.key = key, .value = value, .lease = lease});
  }
  DeleteRangeResponse del(const std::string& key, const std::string& range_end = "") {
    return apply_ok<DeleteRangeResponse>(
        DeleteRangeRequest{.key = key, .range_end = range_end, .prev_kv = true});
  }
  RangeResponse get(const std::string& key, const std::string& range_end = "",
                    Revision revision = Revision(0)) {
    Result<RangeResponse> response =
        machine_->range(RangeRequest{.key = key, .range_end = range_end, .revision = revision});
    EXPECT_TRUE(response.is_ok()) << response.status().to_string();
    return response.is_ok() ? *response : RangeResponse{};
  }
  Result<RangeResponse> range(const RangeRequest& request) { return machine_->range(request); }
  TxnResponse txn(const TxnRequest& request) { return apply_ok<TxnResponse>(request); }

  // A fresh state machine over the same backend, as after a crash and restart.
  void reboot() {
    machine_ = std::make_unique<StateMachine>(backend_, options_);
    Status status = machine_->restore();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

 private:
  MemoryBackend backend_;
  std::unique_ptr<StateMachine> machine_;
  StateMachineOptions options_;
  LogIndex index_{0};
};

inline Compare compare_value(const std::string& key, CompareResult result,
                             const std::string& value) {
  return Compare{.result = result, .target = CompareTarget::kValue, .key = key, .value = value};
}
inline Compare compare_version(const std::string& key, CompareResult result, int64_t version) {
  return Compare{
      .result = result, .target = CompareTarget::kVersion, .key = key, .version = version};
}
inline Compare compare_mod(const std::string& key, CompareResult result, int64_t revision) {
  return Compare{.result = result,
                 .target = CompareTarget::kMod,
                 .key = key,
                 .mod_revision = Revision(revision)};
}
inline Compare compare_create(const std::string& key, CompareResult result, int64_t revision) {
  return Compare{.result = result,
                 .target = CompareTarget::kCreate,
                 .key = key,
                 .create_revision = Revision(revision)};
}

}  // namespace lockstep::mvcc::testing
