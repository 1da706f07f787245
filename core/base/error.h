#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/base/assert.h"

namespace lockstep {

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), which is how
// etcd reports its errors to clients.
enum class GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// The one table of expected failures. Where etcd defines an error (api/v3rpc/rpctypes), the
// gRPC code and message are etcd's so that clients see what they would from etcd.
#define LOCKSTEP_ERROR_TABLE(X)                                                               \
  X(kEmptyKey, kInvalidArgument, "etcdserver: key is not provided")                           \
  X(kKeyNotFound, kInvalidArgument, "etcdserver: key not found")                              \
  X(kValueProvided, kInvalidArgument, "etcdserver: value is provided")                        \
  X(kLeaseProvided, kInvalidArgument, "etcdserver: lease is provided")                        \
  X(kTooManyOps, kInvalidArgument, "etcdserver: too many operations in txn request")          \
  X(kDuplicateKey, kInvalidArgument, "etcdserver: duplicate key given in txn request")        \
  X(kCompacted, kOutOfRange, "etcdserver: mvcc: required revision has been compacted")        \
  X(kFutureRevision, kOutOfRange, "etcdserver: mvcc: required revision is a future revision") \
  X(kNoSpace, kResourceExhausted, "etcdserver: mvcc: database space exceeded")                \
  X(kLeaseNotFound, kNotFound, "etcdserver: requested lease not found")                       \
  X(kLeaseExists, kFailedPrecondition, "etcdserver: lease already exists")                    \
  X(kLeaseTtlTooLarge, kOutOfRange, "etcdserver: too large lease TTL")                        \
  X(kMemberExists, kFailedPrecondition, "etcdserver: member ID already exist")                \
  X(kPeerUrlExists, kFailedPrecondition, "etcdserver: Peer URLs already exists")              \
  X(kMemberNotEnoughStarted, kFailedPrecondition,                                             \
    "etcdserver: re-configuration failed due to not enough started members")                  \
  X(kMemberBadUrls, kInvalidArgument, "etcdserver: given member URLs are invalid")            \
  X(kMemberNotFound, kNotFound, "etcdserver: member not found")                               \
  X(kMemberNotLearner, kFailedPrecondition, "etcdserver: can only promote a learner member")  \
  X(kLearnerNotReady, kFailedPrecondition,                                                    \
    "etcdserver: can only promote a learner member which is in sync with leader")             \
  X(kTooManyLearners, kFailedPrecondition, "etcdserver: too many learner members in cluster") \
  X(kRequestTooLarge, kInvalidArgument, "etcdserver: request is too large")                   \
  X(kTooManyRequests, kResourceExhausted, "etcdserver: too many requests")                    \
  X(kNoLeader, kUnavailable, "etcdserver: no leader")                                         \
  X(kNotLeader, kFailedPrecondition, "etcdserver: not leader")                                \
  X(kLeaderChanged, kUnavailable, "etcdserver: leader changed")                               \
  X(kNotCapable, kUnavailable, "etcdserver: not capable")                                     \
  X(kStopped, kUnavailable, "etcdserver: server stopped")                                     \
  X(kTimeout, kUnavailable, "etcdserver: request timed out")                                  \
  X(kTimeoutDueToLeaderFail, kUnavailable,                                                    \
    "etcdserver: request timed out, possibly due to previous leader failure")                 \
  X(kTimeoutDueToConnectionLost, kUnavailable,                                                \
    "etcdserver: request timed out, possibly due to connection lost")                         \
  X(kUnhealthy, kUnavailable, "etcdserver: unhealthy cluster")                                \
  X(kCorrupt, kDataLoss, "etcdserver: corrupt cluster")                                       \
  X(kBadLeaderTransferee, kFailedPrecondition, "etcdserver: bad leader transferee")           \
  X(kProposalDropped, kUnavailable, "raft proposal dropped")                                  \
  X(kIoError, kInternal, "input/output error")                                                \
  X(kDiskFull, kResourceExhausted, "no space left on device")                                 \
  X(kFileNotFound, kNotFound, "no such file or directory")                                    \
  X(kDataCorruption, kDataLoss, "data corruption detected")                                   \
  X(kInvalidInput, kInvalidArgument, "invalid input")                                         \
  X(kConnectionClosed, kUnavailable, "connection closed")                                     \
  X(kCancelled, kCancelled, "operation cancelled")                                            \
  X(kInternal, kInternal, "internal error")

enum class ErrorCode : int {
  kOk = 0,
#define LOCKSTEP_ERROR_ENUM(name, grpc, message) name,
  LOCKSTEP_ERROR_TABLE(LOCKSTEP_ERROR_ENUM)
#undef LOCKSTEP_ERROR_ENUM
};

std::string_view error_message(ErrorCode code);
std::string_view error_name(ErrorCode code);
GrpcCode error_grpc_code(ErrorCode code);

// An expected failure: a code from the table plus optional detail for humans (a file name,
// a field, an offset). The detail never changes what the client-visible message is.
class Error {
 public:
  Error(ErrorCode code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {
    ASSERT(code != ErrorCode::kOk, "an Error must carry a failure code");
  }

  ErrorCode code() const { return code_; }
  const std::string& detail() const { return detail_; }
  std::string_view message() const { return error_message(code_); }
  GrpcCode grpc_code() const { return error_grpc_code(code_); }
  // "<message>: <detail>" or just the message.
  std::string to_string() const;

  bool operator==(const Error& other) const { return code_ == other.code_; }

 private:
  ErrorCode code_;
  std::string detail_;
};

std::ostream& operator<<(std::ostream& out, const Error& error);

// Either success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}
  Status(ErrorCode code, std::string detail = {}) : Status(Error(code, std::move(detail))) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return failed_ ? error_.code() : ErrorCode::kOk; }
  const Error& error() const {
    ASSERT(failed_, "error() on an ok Status");
    return error_;
  }
  std::string to_string() const { return failed_ ? error_.to_string() : "ok"; }

 private:
  Error error_{ErrorCode::kInternal};
  bool failed_ = false;
};

// A value or an Error (C++23's std::expected, in the subset this code base needs).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}
  Result(ErrorCode code, std::string detail = {}) : Result(Error(code, std::move(detail))) {}
  Result(Status status) : state_(std::in_place_index<1>, status.error()) {}

  bool is_ok() const { return state_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  T& value() & {
    ASSERT(is_ok(), "value() on a failed Result");
    return std::get<0>(state_);
  }
  const T& value() const& {
    ASSERT(is_ok(), "value() on a failed Result");
    return std::get<0>(state_);
  }
  T&& value() && {
    ASSERT(is_ok(), "value() on a failed Result");
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    ASSERT(!is_ok(), "error() on a successful Result");
    return std::get<1>(state_);
  }
  ErrorCode code() const { return is_ok() ? ErrorCode::kOk : error().code(); }
  Status status() const { return is_ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace lockstep

// Propagates a failed Status or Result from the current function.
#define RETURN_IF_ERROR(expression)                           \
  do {                                                        \
    auto lockstep_status_ = (expression);                     \
    if (!lockstep_status_.is_ok()) return lockstep_status_.error(); \
  } while (false)
