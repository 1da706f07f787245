#pragma once

// Small builders for hand-made histories in tests.
#include <optional>
#include <string>

#include "checker/history.h"

namespace lockstep::checker::testing {

inline Operation make_operation(int64_t client, int64_t invoke, int64_t returned, Request request,
                                Response response = {}) {
  Operation operation;
  operation.client = client;
  operation.invoke_time = invoke;
  operation.return_time = returned;
  operation.request = std::move(request);
  operation.response = std::move(response);
  return operation;
}

inline Request register_write(std::string value) {
  Request request;
  request.kind = RequestKind::kWrite;
  request.value = std::move(value);
  return request;
}

inline Request register_read() {
  Request request;
  request.kind = RequestKind::kRead;
  return request;
}

inline Request register_cas(std::string expected, std::string value) {
  Request request;
  request.kind = RequestKind::kCas;
  request.expected = std::move(expected);
  request.value = std::move(value);
  return request;
}

inline Response read_result(std::optional<std::string> value) {
  Response response;
  response.value = std::move(value);
  return response;
}

inline Response cas_result(bool succeeded) {
  Response response;
  response.succeeded = succeeded;
  return response;
}

inline Operation indeterminate(Operation operation) {
  operation.indeterminate = true;
  operation.response = {};
  return operation;
}

}  // namespace lockstep::checker::testing
