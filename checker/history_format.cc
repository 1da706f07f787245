#include "checker/history_format.h"

#include <charconv>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "checker/guarantee_records.h"

namespace lockstep::checker {

namespace {

using Json = nlohmann::json;

// A recoverable parse problem: its text becomes "<source>:<line>: <problem>".
struct LineError {
  std::string problem;
};

Error invalid(std::string_view source, int64_t line, std::string_view problem) {
  return Error(ErrorCode::kInvalidInput,
               std::string(source) + ":" + std::to_string(line) + ": " + std::string(problem));
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

bool is_integer(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Pairs invokes with completions for the two log formats whose lines are events, not
// operations: one pending operation per process.
class EventPairer {
 public:
  explicit EventPairer(History& history) : history_(history) {}

  std::optional<LineError> invoke(int64_t process, int64_t line, Request request) {
    if (pending_.contains(process)) {
      return LineError{"process " + std::to_string(process) +
                       " invokes a new operation while its operation from line " +
                       std::to_string(history_.operations[pending_[process]].source_line) +
                       " is still pending"};
    }
    Operation operation;
    operation.client = process;
    operation.invoke_time = line;
    operation.source_line = line;
    operation.request = std::move(request);
    pending_[process] = history_.operations.size();
    history_.operations.push_back(std::move(operation));
    return std::nullopt;
  }

  // Returns the pending operation of `process`, completed at `line`, or an error.
  std::variant<Operation*, LineError> complete(int64_t process, int64_t line, RequestKind kind) {
    const auto found = pending_.find(process);
    if (found == pending_.end()) {
      return LineError{"process " + std::to_string(process) +
                       " completes an operation it never invoked"};
    }
    Operation& operation = history_.operations[found->second];
    pending_.erase(found);
    if (operation.request.kind != kind) {
      return LineError{"process " + std::to_string(process) + " completes a " +
                       std::string(request_kind_name(kind)) + " but invoked a " +
                       std::string(request_kind_name(operation.request.kind)) + " at line " +
                       std::to_string(operation.source_line)};
    }
    operation.return_time = line;
    return &operation;
  }

  // Operations still pending at the end of the log never returned: indeterminate.
  void finish() {
    for (const auto& [process, index] : pending_) history_.operations[index].indeterminate = true;
    pending_.clear();
  }

 private:
  History& history_;
  std::map<int64_t, size_t> pending_;  // process -> index of its pending operation
};

// ---- Jepsen etcd register logs ---------------------------------------------------------

std::optional<LineError> parse_jepsen_line(std::string_view line, int64_t line_number,
                                           EventPairer& pairer) {
  const std::vector<std::string_view> tokens = split_whitespace(line);
  // INFO jepsen.util - <process> :<type> :<f> <value...>
  if (tokens.size() < 7 || tokens[0] != "INFO" || tokens[1] != "jepsen.util" || tokens[2] != "-") {
    return LineError{"expected 'INFO  jepsen.util - <process> :<type> :<f> <value>'"};
  }
  const std::optional<int64_t> process = parse_integer(tokens[3]);
  if (!process) return LineError{"process '" + std::string(tokens[3]) + "' is not an integer"};
  const std::string_view type = tokens[4];
  const std::string_view function = tokens[5];
  std::string_view value = tokens[6];
  std::string_view second;
  if (tokens.size() == 8) second = tokens[7];
  if (tokens.size() > 8) return LineError{"too many fields"};

  RequestKind kind;
  if (function == ":read") {
    kind = RequestKind::kRead;
  } else if (function == ":write") {
    kind = RequestKind::kWrite;
  } else if (function == ":cas") {
    kind = RequestKind::kCas;
  } else {
    return LineError{"unknown function '" + std::string(function) + "' (want :read, :write, :cas)"};
  }
  std::string cas_expected, cas_new;
  if (kind == RequestKind::kCas && value != ":timed-out") {
    // [old new] arrives as two tokens: "[1" and "2]".
    if (value.size() < 2 || value.front() != '[' || second.size() < 2 || second.back() != ']') {
      return LineError{"cas value must be '[old new]'"};
    }
    cas_expected = std::string(value.substr(1));
    cas_new = std::string(second.substr(0, second.size() - 1));
    if (!is_integer(cas_expected) || !is_integer(cas_new)) {
      return LineError{"cas values must be integers"};
    }
  } else if (!second.empty()) {
    return LineError{"unexpected field '" + std::string(second) + "'"};
  }

  if (type == ":invoke") {
    Request request;
    request.kind = kind;
    if (kind == RequestKind::kWrite) {
      if (!is_integer(value)) return LineError{"write value must be an integer"};
      request.value = std::string(value);
    } else if (kind == RequestKind::kCas) {
      request.expected = cas_expected;
      request.value = cas_new;
    } else if (value != "nil") {
      return LineError{"a read is invoked with nil"};
    }
    return pairer.invoke(*process, line_number, std::move(request));
  }
  if (type != ":ok" && type != ":fail" && type != ":info") {
    return LineError{"unknown type '" + std::string(type) + "' (want :invoke, :ok, :fail, :info)"};
  }
  auto completed = pairer.complete(*process, line_number, kind);
  if (auto* error = std::get_if<LineError>(&completed)) return *error;
  Operation& operation = *std::get<Operation*>(completed);
  if (value == ":timed-out" || type == ":info") {
    // Jepsen's :info, and a timed-out client in general, never learned the outcome.
    operation.indeterminate = true;
    return std::nullopt;
  }
  if (type == ":fail") {
    // Jepsen's etcd client reports a cas whose compare did not hold as :fail; for any other
    // function :fail means the operation certainly did not happen, which a read or write only
    // reports when it timed out (handled above).
    if (kind != RequestKind::kCas) return LineError{"only a cas may :fail with a value"};
    operation.response.succeeded = false;
    return std::nullopt;
  }
  if (kind == RequestKind::kRead) {
    if (value != "nil" && !is_integer(value))
      return LineError{"read value must be nil or an integer"};
    if (value != "nil") operation.response.value = std::string(value);
  }
  if (kind == RequestKind::kCas) operation.response.succeeded = true;
  return std::nullopt;
}

// ---- Porcupine kv logs ------------------------------------------------------------------

// Reads the EDN-like map `{:process 0, :type :invoke, :f :get, :key "1", :value nil}` into
// field -> raw token (strings keep their quotes so nil and "" stay distinct).
std::variant<std::map<std::string, std::string>, LineError> parse_edn_map(std::string_view line) {
  line = trim(line);
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') {
    return LineError{"expected an EDN map '{:process N, :type ..., ...}'"};
  }
  std::map<std::string, std::string> fields;
  size_t i = 1;
  const size_t end = line.size() - 1;
  auto skip_separators = [&] {
    while (i < end && (line[i] == ' ' || line[i] == ',' || line[i] == '\t')) ++i;
  };
  while (true) {
    skip_separators();
    if (i >= end) break;
    if (line[i] != ':') return LineError{"expected a :keyword at column " + std::to_string(i + 1)};
    const size_t name_start = ++i;
    while (i < end && line[i] != ' ' && line[i] != ',') ++i;
    std::string name(line.substr(name_start, i - name_start));
    skip_separators();
    if (i >= end) return LineError{"field :" + name + " has no value"};
    std::string value;
    if (line[i] == '"') {
      value = "\"";
      ++i;
      while (i < end && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < end) ++i;
        value += line[i++];
      }
      if (i >= end) return LineError{"unterminated string in field :" + name};
      ++i;
      value += "\"";
    } else {
      const size_t value_start = i;
      while (i < end && line[i] != ' ' && line[i] != ',') ++i;
      value = std::string(line.substr(value_start, i - value_start));
    }
    if (!fields.emplace(name, std::move(value)).second) {
      return LineError{"field :" + name + " appears twice"};
    }
  }
  return fields;
}

std::optional<LineError> parse_porcupine_kv_line(std::string_view line, int64_t line_number,
                                                 EventPairer& pairer) {
  auto parsed = parse_edn_map(line);
  if (auto* error = std::get_if<LineError>(&parsed)) return *error;
  auto& fields = std::get<std::map<std::string, std::string>>(parsed);
  for (const char* required : {"process", "type", "f", "key", "value"}) {
    if (!fields.contains(required)) return LineError{std::string("missing field :") + required};
  }
  const std::optional<int64_t> process = parse_integer(fields["process"]);
  if (!process) return LineError{"process must be an integer"};
  const std::string& function = fields["f"];
  RequestKind kind;
  if (function == ":get") {
    kind = RequestKind::kGet;
  } else if (function == ":put") {
    kind = RequestKind::kPut;
  } else if (function == ":append") {
    kind = RequestKind::kAppend;
  } else {
    return LineError{"unknown function '" + function + "' (want :get, :put, :append)"};
  }
  const std::string& key = fields["key"];
  const std::string& value = fields["value"];
  auto unquote = [](const std::string& text) { return text.substr(1, text.size() - 2); };
  if (key.size() < 2 || key.front() != '"') return LineError{"key must be a string"};
  const bool value_is_string = value.size() >= 2 && value.front() == '"';
  if (!value_is_string && value != "nil") return LineError{"value must be a string or nil"};

  const std::string& type = fields["type"];
  if (type == ":invoke") {
    Request request;
    request.kind = kind;
    request.key = unquote(key);
    if (kind != RequestKind::kGet) {
      if (!value_is_string) return LineError{"put and append need a string value"};
      request.value = unquote(value);
    }
    return pairer.invoke(*process, line_number, std::move(request));
  }
  if (type != ":ok" && type != ":info") {
    return LineError{"unknown type '" + type + "' (want :invoke, :ok, :info)"};
  }
  auto completed = pairer.complete(*process, line_number, kind);
  if (auto* error = std::get_if<LineError>(&completed)) return *error;
  Operation& operation = *std::get<Operation*>(completed);
  if (type == ":info") {
    operation.indeterminate = true;
  } else if (kind == RequestKind::kGet) {
    // Porcupine's kv model reads a missing key as "", so nil and "" mean the same here.
    operation.response.value = value_is_string ? unquote(value) : std::string();
  }
  return std::nullopt;
}

// ---- lockstep JSONL -----------------------------------------------------------------------

// Field access that turns type mismatches into LineErrors naming the JSON path.
class JsonFields {
 public:
  std::optional<LineError> error;

  const Json* member(const Json& object, const std::string& path, const char* name, bool required) {
    if (error) return nullptr;
    if (!object.is_object()) {
      fail(path + " must be an object");
      return nullptr;
    }
    const auto found = object.find(name);
    if (found == object.end() || found->is_null()) {
      if (required) fail("missing " + join(path, name));
      return nullptr;
    }
    return &*found;
  }

  std::string string(const Json& object, const std::string& path, const char* name, bool required) {
    const Json* field = member(object, path, name, required);
    if (field == nullptr) return {};
    if (!field->is_string()) {
      fail(join(path, name) + " must be a string");
      return {};
    }
    return field->get<std::string>();
  }

  std::optional<int64_t> integer(const Json& object, const std::string& path, const char* name,
                                 bool required) {
    const Json* field = member(object, path, name, required);
    if (field == nullptr) return std::nullopt;
    if (!field->is_number_integer()) {
      fail(join(path, name) + " must be an integer");
      return std::nullopt;
    }
    return field->get<int64_t>();
  }

  const Json* array(const Json& object, const std::string& path, const char* name) {
    const Json* field = member(object, path, name, false);
    if (field != nullptr && !field->is_array()) {
      fail(join(path, name) + " must be an array");
      return nullptr;
    }
    return field;
  }

  void fail(std::string problem) {
    if (!error) error = LineError{std::move(problem)};
  }

  static std::string join(const std::string& path, const char* name) {
    return path.empty() ? std::string(name) : path + "." + name;
  }
};

std::optional<CompareTarget> compare_target_from_name(std::string_view name) {
  if (name == "value") return CompareTarget::kValue;
  if (name == "version") return CompareTarget::kVersion;
  if (name == "create" || name == "create_revision") return CompareTarget::kCreateRevision;
  if (name == "mod" || name == "mod_revision") return CompareTarget::kModRevision;
  return std::nullopt;
}

std::optional<CompareResult> compare_result_from_name(std::string_view name) {
  if (name == "=" || name == "==") return CompareResult::kEqual;
  if (name == "!=") return CompareResult::kNotEqual;
  if (name == "<") return CompareResult::kLess;
  if (name == ">") return CompareResult::kGreater;
  return std::nullopt;
}

constexpr int kMaxTxnNesting = 4;  // etcd allows nested txns; histories need no deeper ones

Request parse_request_json(const Json& json, const std::string& path, JsonFields& fields,
                           int depth) {
  Request request;
  const std::string op = fields.string(json, path, "op", true);
  if (fields.error) return request;
  const std::optional<RequestKind> kind = request_kind_from_name(op);
  if (!kind) {
    fields.fail(path + ".op '" + op +
                "' is not one of read, write, cas, get, put, append, delete, range, txn");
    return request;
  }
  request.kind = *kind;
  request.key = fields.string(json, path, "key", false);
  request.range_end = fields.string(json, path, "range_end", false);
  const bool needs_value = *kind == RequestKind::kWrite || *kind == RequestKind::kCas ||
                           *kind == RequestKind::kPut || *kind == RequestKind::kAppend;
  request.value = fields.string(json, path, "value", needs_value);
  request.expected = fields.string(json, path, "expected", *kind == RequestKind::kCas);
  const bool needs_key = *kind != RequestKind::kRead && *kind != RequestKind::kWrite &&
                         *kind != RequestKind::kCas && *kind != RequestKind::kTxn;
  if (needs_key && !fields.member(json, path, "key", true)) return request;
  if (*kind != RequestKind::kTxn) return request;
  if (depth >= kMaxTxnNesting) {
    fields.fail(path + " nests txns deeper than " + std::to_string(kMaxTxnNesting));
    return request;
  }
  if (const Json* compares = fields.array(json, path, "compare")) {
    for (size_t i = 0; i < compares->size() && !fields.error; ++i) {
      const std::string compare_path = path + ".compare[" + std::to_string(i) + "]";
      const Json& item = (*compares)[i];
      Compare compare;
      compare.key = fields.string(item, compare_path, "key", true);
      const std::string target = fields.string(item, compare_path, "target", true);
      const std::string result = fields.string(item, compare_path, "result", true);
      if (fields.error) break;
      const auto parsed_target = compare_target_from_name(target);
      const auto parsed_result = compare_result_from_name(result);
      if (!parsed_target) fields.fail(compare_path + ".target must be value|version|create|mod");
      if (!parsed_result) fields.fail(compare_path + ".result must be one of = != < >");
      if (fields.error) break;
      compare.target = *parsed_target;
      compare.result = *parsed_result;
      if (compare.target == CompareTarget::kValue) {
        compare.value = fields.string(item, compare_path, "value", true);
      } else {
        compare.number = fields.integer(item, compare_path, "number", true).value_or(0);
      }
      request.compares.push_back(std::move(compare));
    }
  }
  for (const char* branch : {"success", "failure"}) {
    const Json* ops = fields.array(json, path, branch);
    if (ops == nullptr) continue;
    auto& target = std::string_view(branch) == "success" ? request.success : request.failure;
    for (size_t i = 0; i < ops->size() && !fields.error; ++i) {
      target.push_back(parse_request_json(
          (*ops)[i], path + "." + branch + "[" + std::to_string(i) + "]", fields, depth + 1));
    }
  }
  return request;
}

KeyValue parse_key_value_json(const Json& json, const std::string& path, JsonFields& fields) {
  KeyValue kv;
  kv.key = fields.string(json, path, "key", true);
  kv.value = fields.string(json, path, "value", true);
  kv.create_revision = fields.integer(json, path, "create_revision", true).value_or(0);
  kv.mod_revision = fields.integer(json, path, "mod_revision", true).value_or(0);
  kv.version = fields.integer(json, path, "version", true).value_or(0);
  return kv;
}

Response parse_response_json(const Json& json, const std::string& path, JsonFields& fields) {
  Response response;
  if (!json.is_object()) {
    fields.fail(path + " must be an object");
    return response;
  }
  if (const Json* succeeded = fields.member(json, path, "succeeded", false)) {
    if (!succeeded->is_boolean())
      fields.fail(path + ".succeeded must be true or false");
    else
      response.succeeded = succeeded->get<bool>();
  }
  if (fields.member(json, path, "value", false)) {
    response.value = fields.string(json, path, "value", false);
  }
  response.revision = fields.integer(json, path, "revision", false).value_or(0);
  response.deleted = fields.integer(json, path, "deleted", false).value_or(-1);
  if (const Json* kvs = fields.array(json, path, "kvs")) {
    response.has_kvs = true;
    for (size_t i = 0; i < kvs->size() && !fields.error; ++i) {
      response.kvs.push_back(
          parse_key_value_json((*kvs)[i], path + ".kvs[" + std::to_string(i) + "]", fields));
    }
  }
  if (const Json* responses = fields.array(json, path, "responses")) {
    for (size_t i = 0; i < responses->size() && !fields.error; ++i) {
      response.responses.push_back(parse_response_json(
          (*responses)[i], path + ".responses[" + std::to_string(i) + "]", fields));
    }
  }
  return response;
}

// One operation line. Returns nullopt for an operation that definitely failed (a response
// with "error"): it had no effect and observed nothing, so it does not constrain the order.
std::variant<std::optional<Operation>, LineError> parse_jsonl_operation(const Json& json,
                                                                        int64_t line_number) {
  JsonFields fields;
  Operation operation;
  operation.source_line = line_number;
  operation.client = fields.integer(json, "", "client", true).value_or(0);
  operation.invoke_time = fields.integer(json, "", "invoke", true).value_or(0);
  if (const Json* request = fields.member(json, "", "request", true)) {
    operation.request = parse_request_json(*request, "request", fields, 0);
  }
  const Json* response = fields.member(json, "", "response", false);
  if (json.is_object() && json.contains("indeterminate") && json["indeterminate"] == true) {
    response = nullptr;
  }
  bool failed = false;
  if (response == nullptr) {
    operation.indeterminate = true;
  } else {
    operation.return_time = fields.integer(json, "", "return", true).value_or(0);
    if (response->is_object() && response->contains("error")) {
      failed = true;
    } else {
      operation.response = parse_response_json(*response, "response", fields);
    }
    if (!fields.error && operation.return_time < operation.invoke_time) {
      fields.fail("return (" + std::to_string(operation.return_time) + ") is before invoke (" +
                  std::to_string(operation.invoke_time) + ")");
    }
  }
  if (fields.error) return *fields.error;
  if (failed) return std::optional<Operation>();
  return std::optional<Operation>(std::move(operation));
}

Result<History> parse_jsonl(std::string_view text, std::string_view source) {
  History history;
  history.source_name = std::string(source);
  const std::vector<std::string_view> lines = split_lines(text);
  bool seen_operation = false;
  for (size_t index = 0; index < lines.size(); ++index) {
    const int64_t line_number = static_cast<int64_t>(index) + 1;
    const std::string_view line = trim(lines[index]);
    if (line.empty()) continue;
    const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return invalid(source, line_number, "not valid JSON");
    if (!json.is_object()) return invalid(source, line_number, "each line must be a JSON object");
    if (json.contains("lockstep_history")) {
      if (seen_operation) return invalid(source, line_number, "the header must be the first line");
      if (json["lockstep_history"] != 1) {
        return invalid(source, line_number, "unsupported lockstep_history version (want 1)");
      }
      if (json.contains("model")) {
        if (!json["model"].is_string())
          return invalid(source, line_number, "model must be a string");
        history.model_hint = json["model"].get<std::string>();
      }
      if (json.contains("initial_revision")) {
        if (!json["initial_revision"].is_number_integer() || json["initial_revision"] < 1) {
          return invalid(source, line_number, "initial_revision must be a positive integer");
        }
        history.initial_revision = json["initial_revision"].get<int64_t>();
      }
      continue;
    }
    if (json.contains("record")) {
      // A watch or lock record (checker/guarantee_records.h reads those), not an operation.
      if (!json["record"].is_string() ||
          !is_guarantee_record_kind(json["record"].get<std::string>())) {
        return invalid(source, line_number,
                       "record must be one of write_log, committed, watch, lock_hold, "
                       "fenced_write");
      }
      continue;
    }
    seen_operation = true;
    auto parsed = parse_jsonl_operation(json, line_number);
    if (auto* error = std::get_if<LineError>(&parsed)) {
      return invalid(source, line_number, error->problem);
    }
    auto& operation = std::get<std::optional<Operation>>(parsed);
    if (operation) history.operations.push_back(std::move(*operation));
  }
  return history;
}

template <typename LineParser>
Result<History> parse_event_log(std::string_view text, std::string_view source,
                                LineParser parse_line) {
  History history;
  history.source_name = std::string(source);
  EventPairer pairer(history);
  const std::vector<std::string_view> lines = split_lines(text);
  for (size_t index = 0; index < lines.size(); ++index) {
    const int64_t line_number = static_cast<int64_t>(index) + 1;
    if (trim(lines[index]).empty()) continue;
    if (auto error = parse_line(lines[index], line_number, pairer)) {
      return invalid(source, line_number, error->problem);
    }
  }
  pairer.finish();
  return history;
}

Json request_to_json(const Request& request);

Json requests_to_json(const std::vector<Request>& requests) {
  Json out = Json::array();
  for (const Request& request : requests) out.push_back(request_to_json(request));
  return out;
}

Json request_to_json(const Request& request) {
  Json out;
  out["op"] = std::string(request_kind_name(request.kind));
  if (!request.key.empty()) out["key"] = request.key;
  if (!request.range_end.empty()) out["range_end"] = request.range_end;
  switch (request.kind) {
    case RequestKind::kCas:
      out["expected"] = request.expected;
      out["value"] = request.value;
      break;
    case RequestKind::kWrite:
    case RequestKind::kPut:
    case RequestKind::kAppend:
      out["value"] = request.value;
      break;
    case RequestKind::kTxn: {
      Json compares = Json::array();
      for (const Compare& compare : request.compares) {
        Json item;
        item["key"] = compare.key;
        static constexpr const char* kTargets[] = {"value", "version", "create", "mod"};
        static constexpr const char* kResults[] = {"=", "!=", "<", ">"};
        item["target"] = kTargets[static_cast<int>(compare.target)];
        item["result"] = kResults[static_cast<int>(compare.result)];
        if (compare.target == CompareTarget::kValue)
          item["value"] = compare.value;
        else
          item["number"] = compare.number;
        compares.push_back(std::move(item));
      }
      out["compare"] = std::move(compares);
      out["success"] = requests_to_json(request.success);
      out["failure"] = requests_to_json(request.failure);
      break;
    }
    default:
      break;
  }
  return out;
}

Json response_to_json(const Response& response) {
  Json out = Json::object();
  out["succeeded"] = response.succeeded;
  if (response.value) out["value"] = *response.value;
  if (response.revision != 0) out["revision"] = response.revision;
  if (response.deleted >= 0) out["deleted"] = response.deleted;
  if (response.has_kvs) {
    Json kvs = Json::array();
    for (const KeyValue& kv : response.kvs) {
      kvs.push_back({{"key", kv.key},
                     {"value", kv.value},
                     {"create_revision", kv.create_revision},
                     {"mod_revision", kv.mod_revision},
                     {"version", kv.version}});
    }
    out["kvs"] = std::move(kvs);
  }
  if (!response.responses.empty()) {
    Json responses = Json::array();
    for (const Response& inner : response.responses) responses.push_back(response_to_json(inner));
    out["responses"] = std::move(responses);
  }
  return out;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view history_format_name(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kJepsen:
      return "jepsen";
    case HistoryFormat::kPorcupineKv:
      return "porcupine-kv";
    case HistoryFormat::kJsonl:
      return "jsonl";
  }
  return "?";
}

std::optional<HistoryFormat> history_format_from_name(std::string_view name) {
  for (HistoryFormat format :
       {HistoryFormat::kJepsen, HistoryFormat::kPorcupineKv, HistoryFormat::kJsonl}) {
    if (history_format_name(format) == name) return format;
  }
  return std::nullopt;
}

std::optional<HistoryFormat> detect_history_format(std::string_view text,
                                                   std::string_view file_name) {
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty()) continue;
    if (starts_with(line, "INFO") && line.find("jepsen") != std::string_view::npos) {
      return HistoryFormat::kJepsen;
    }
    if (starts_with(line, "{:")) return HistoryFormat::kPorcupineKv;
    if (starts_with(line, "{\"") || starts_with(line, "{ \"")) return HistoryFormat::kJsonl;
    break;
  }
  if (ends_with(file_name, ".jsonl")) return HistoryFormat::kJsonl;
  if (ends_with(file_name, ".log")) return HistoryFormat::kJepsen;
  if (ends_with(file_name, ".txt") || ends_with(file_name, ".edn")) {
    return HistoryFormat::kPorcupineKv;
  }
  return std::nullopt;
}

Result<History> parse_history(std::string_view text, HistoryFormat format,
                              std::string_view source_name) {
  switch (format) {
    case HistoryFormat::kJepsen: {
      auto history = parse_event_log(text, source_name, parse_jepsen_line);
      if (history.is_ok()) history->model_hint = "cas-register";
      return history;
    }
    case HistoryFormat::kPorcupineKv: {
      auto history = parse_event_log(text, source_name, parse_porcupine_kv_line);
      if (history.is_ok()) history->model_hint = "kv";
      return history;
    }
    case HistoryFormat::kJsonl:
      return parse_jsonl(text, source_name);
  }
  return Error(ErrorCode::kInvalidInput, "unknown history format");
}

Result<History> read_history_file(const std::string& path, std::optional<HistoryFormat> format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kFileNotFound, path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kIoError, path);
  const std::string text = contents.str();
  if (!format) format = detect_history_format(text, path);
  if (!format) {
    return Error(
        ErrorCode::kInvalidInput,
        path + ": cannot tell the history format; pass --format jepsen|porcupine-kv|jsonl");
  }
  return parse_history(text, *format, path);
}

std::string to_jsonl(const History& history, std::string_view model) {
  std::string out;
  if (!model.empty() || history.initial_revision != 1) {
    Json header{{"lockstep_history", 1}};
    if (!model.empty()) header["model"] = std::string(model);
    if (history.initial_revision != 1) header["initial_revision"] = history.initial_revision;
    out += header.dump();
    out += "\n";
  }
  for (const Operation& operation : history.operations) {
    Json line;
    line["client"] = operation.client;
    line["invoke"] = operation.invoke_time;
    line["request"] = request_to_json(operation.request);
    if (!operation.indeterminate) {
      line["return"] = operation.return_time;
      line["response"] = response_to_json(operation.response);
    }
    out += line.dump();
    out += "\n";
  }
  return out;
}

}  // namespace lockstep::checker
