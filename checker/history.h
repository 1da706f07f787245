#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::checker {

// What a client asked for. One type covers the three models the checker knows (a
// compare-and-set register, Porcupine's key-value store and etcd's v3 key-value API); each
// model accepts only the kinds it understands and rejects the rest with a clear error.
enum class RequestKind : uint8_t {
  kRead,    // cas-register: read the register
  kWrite,   // cas-register: overwrite the register
  kCas,     // cas-register: if register == expected then register = value
  kGet,     // kv and etcd: read one key
  kPut,     // kv and etcd: overwrite one key
  kAppend,  // kv: append to one key
  kDelete,  // etcd: delete one key or the range [key, range_end)
  kRange,   // etcd: read the range [key, range_end)
  kTxn,     // etcd: if all compares hold then success ops else failure ops, atomically
};

std::string_view request_kind_name(RequestKind kind);
std::optional<RequestKind> request_kind_from_name(std::string_view name);

// etcd's Compare (etcdserverpb.Compare): which field of a key is compared, and how.
enum class CompareTarget : uint8_t { kValue, kVersion, kCreateRevision, kModRevision };
enum class CompareResult : uint8_t { kEqual, kNotEqual, kLess, kGreater };

struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::kValue;
  CompareResult result = CompareResult::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for kVersion, kCreateRevision, kModRevision
};

struct Request {
  RequestKind kind = RequestKind::kRead;
  std::string key;
  std::string range_end;          // etcd: empty means the single key `key`
  std::string value;              // write/put/append/cas: the new value
  std::string expected;           // cas: the value the register must hold
  std::vector<Compare> compares;  // txn
  std::vector<Request> success;   // txn
  std::vector<Request> failure;   // txn
};

// etcd's mvccpb.KeyValue, the per-key facts a response carries.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
};

// What the client was told. Fields a client did not record stay at their "not reported"
// value (revision 0, no kvs check) so a model checks only what was observed.
struct Response {
  bool succeeded = true;             // cas: swapped; txn: the compares held
  std::optional<std::string> value;  // read/get: the value, nullopt = key absent / nil
  int64_t revision = 0;              // etcd header revision; 0 = not reported
  bool has_kvs = false;              // etcd get/range: `kvs` was recorded
  std::vector<KeyValue> kvs;         // etcd get/range, in key order
  int64_t deleted = -1;              // etcd delete: number of keys deleted; -1 = not reported
  std::vector<Response> responses;   // etcd txn: one per op of the branch taken
};

// Times are in any unit that orders events (nanoseconds, virtual ticks, or line numbers for
// logs that carry no clock). Operation a precedes b in real time iff a.return_time <
// b.invoke_time; equal times count as concurrent.
struct Operation {
  int64_t client = 0;
  int64_t invoke_time = 0;
  int64_t return_time = 0;  // meaningless when indeterminate
  // The client never learned the outcome (a timeout, a crash, Jepsen's :info): the operation
  // may have taken effect at any point after its invoke, or never, and its response is unknown.
  bool indeterminate = false;
  Request request;
  Response response;
  int64_t source_line = 0;  // where it was read from, for messages; 0 = not from a file
};

struct History {
  std::vector<Operation> operations;
  std::string source_name;  // the file it was read from, for messages
  std::string model_hint;   // a model named by the file itself (jsonl header), or ""
  // etcd model: the store is empty at this revision when the history begins (a fresh etcd
  // cluster starts at revision 1). A jsonl header may say otherwise.
  int64_t initial_revision = 1;
};

// Human-readable one-line form: "put(k, v) -> ok", used by reports and the HTML view.
std::string describe_request(const Request& request);
std::string describe_response(const Operation& operation);
std::string describe_operation(const Operation& operation);

}  // namespace lockstep::checker
