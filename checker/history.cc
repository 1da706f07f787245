#include "checker/history.h"

#include <array>
#include <utility>

namespace lockstep::checker {

namespace {

constexpr std::array<std::pair<RequestKind, std::string_view>, 9> kKindNames = {{
    {RequestKind::kRead, "read"},
    {RequestKind::kWrite, "write"},
    {RequestKind::kCas, "cas"},
    {RequestKind::kGet, "get"},
    {RequestKind::kPut, "put"},
    {RequestKind::kAppend, "append"},
    {RequestKind::kDelete, "delete"},
    {RequestKind::kRange, "range"},
    {RequestKind::kTxn, "txn"},
}};

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += "\"";
  return out;
}

std::string_view compare_target_name(CompareTarget target) {
  switch (target) {
    case CompareTarget::kValue:
      return "value";
    case CompareTarget::kVersion:
      return "version";
    case CompareTarget::kCreateRevision:
      return "create";
    case CompareTarget::kModRevision:
      return "mod";
  }
  return "?";
}

std::string_view compare_result_name(CompareResult result) {
  switch (result) {
    case CompareResult::kEqual:
      return "==";
    case CompareResult::kNotEqual:
      return "!=";
    case CompareResult::kLess:
      return "<";
    case CompareResult::kGreater:
      return ">";
  }
  return "?";
}

std::string describe_compare(const Compare& compare) {
  std::string out = std::string(compare_target_name(compare.target)) + "(" + quoted(compare.key) +
                    ") " + std::string(compare_result_name(compare.result)) + " ";
  out += compare.target == CompareTarget::kValue ? quoted(compare.value)
                                                 : std::to_string(compare.number);
  return out;
}

std::string describe_ops(const std::vector<Request>& requests) {
  std::string out;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (i > 0) out += ", ";
    out += describe_request(requests[i]);
  }
  return out;
}

std::string describe_kvs(const std::vector<KeyValue>& kvs) {
  std::string out = "[";
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (i > 0) out += ", ";
    const KeyValue& kv = kvs[i];
    out += quoted(kv.key) + "=" + quoted(kv.value) + " c" + std::to_string(kv.create_revision) +
           " m" + std::to_string(kv.mod_revision) + " v" + std::to_string(kv.version);
  }
  return out + "]";
}

std::string describe_result(const Request& request, const Response& response) {
  std::string out;
  switch (request.kind) {
    case RequestKind::kRead:
    case RequestKind::kGet:
      if (response.has_kvs) {
        out = describe_kvs(response.kvs);
      } else {
        out = response.value ? quoted(*response.value) : "nil";
      }
      break;
    case RequestKind::kRange:
      out = describe_kvs(response.kvs);
      break;
    case RequestKind::kCas:
      out = response.succeeded ? "ok" : "fail";
      break;
    case RequestKind::kDelete:
      out = response.deleted >= 0 ? "deleted " + std::to_string(response.deleted) : "ok";
      break;
    case RequestKind::kTxn:
      out = response.succeeded ? "succeeded" : "failed";
      break;
    case RequestKind::kWrite:
    case RequestKind::kPut:
    case RequestKind::kAppend:
      out = "ok";
      break;
  }
  if (response.revision != 0) out += " @" + std::to_string(response.revision);
  return out;
}

}  // namespace

std::string_view request_kind_name(RequestKind kind) {
  for (const auto& [known, name] : kKindNames) {
    if (known == kind) return name;
  }
  return "?";
}

std::optional<RequestKind> request_kind_from_name(std::string_view name) {
  for (const auto& [kind, known] : kKindNames) {
    if (known == name) return kind;
  }
  return std::nullopt;
}

std::string describe_request(const Request& request) {
  const std::string name(request_kind_name(request.kind));
  switch (request.kind) {
    case RequestKind::kRead:
      return "read()";
    case RequestKind::kWrite:
      return "write(" + quoted(request.value) + ")";
    case RequestKind::kCas:
      return "cas(" + quoted(request.expected) + " -> " + quoted(request.value) + ")";
    case RequestKind::kGet:
      return "get(" + quoted(request.key) + ")";
    case RequestKind::kPut:
    case RequestKind::kAppend:
      return name + "(" + quoted(request.key) + ", " + quoted(request.value) + ")";
    case RequestKind::kDelete:
    case RequestKind::kRange:
      if (request.range_end.empty()) return name + "(" + quoted(request.key) + ")";
      return name + "(" + quoted(request.key) + ".." + quoted(request.range_end) + ")";
    case RequestKind::kTxn: {
      std::string out = "txn(if ";
      for (size_t i = 0; i < request.compares.size(); ++i) {
        if (i > 0) out += " && ";
        out += describe_compare(request.compares[i]);
      }
      return out + " then " + describe_ops(request.success) + " else " +
             describe_ops(request.failure) + ")";
    }
  }
  return name;
}

std::string describe_response(const Operation& operation) {
  if (operation.indeterminate) return "?";
  return describe_result(operation.request, operation.response);
}

std::string describe_operation(const Operation& operation) {
  return describe_request(operation.request) + " -> " + describe_response(operation);
}

}  // namespace lockstep::checker
