#include "checker/guarantee_records.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lockstep::checker {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kRecordKinds[] = {"write_log", "committed", "watch", "lock_hold",
                                             "fenced_write"};

// Typed field access; the first problem is kept with the field's JSON path.
class Fields {
 public:
  std::optional<std::string> error;

  const Json* find(const Json& object, const std::string& path, const char* name, bool required) {
    if (error) return nullptr;
    if (!object.is_object()) {
      fail(path.empty() ? "the line must be a JSON object" : path + " must be an object");
      return nullptr;
    }
    const auto found = object.find(name);
    if (found == object.end() || found->is_null()) {
      if (required) fail("missing field " + join(path, name));
      return nullptr;
    }
    return &*found;
  }
  int64_t integer(const Json& object, const std::string& path, const char* name, bool required,
                  int64_t absent = 0) {
    const Json* field = find(object, path, name, required);
    if (field == nullptr) return absent;
    if (!field->is_number_integer()) {
      fail(join(path, name) + " must be an integer");
      return absent;
    }
    return field->get<int64_t>();
  }
  std::optional<int64_t> optional_integer(const Json& object, const std::string& path,
                                          const char* name) {
    if (find(object, path, name, false) == nullptr) return std::nullopt;
    return integer(object, path, name, true);
  }
  std::string string(const Json& object, const std::string& path, const char* name, bool required) {
    const Json* field = find(object, path, name, required);
    if (field == nullptr) return {};
    if (!field->is_string()) {
      fail(join(path, name) + " must be a string");
      return {};
    }
    return field->get<std::string>();
  }
  bool boolean(const Json& object, const std::string& path, const char* name, bool required,
               bool absent) {
    const Json* field = find(object, path, name, required);
    if (field == nullptr) return absent;
    if (!field->is_boolean()) {
      fail(join(path, name) + " must be true or false");
      return absent;
    }
    return field->get<bool>();
  }
  const Json* array(const Json& object, const std::string& path, const char* name, bool required) {
    const Json* field = find(object, path, name, required);
    if (field != nullptr && !field->is_array()) {
      fail(join(path, name) + " must be an array");
      return nullptr;
    }
    return field;
  }
  WatchEventType event_type(const Json& object, const std::string& path, const char* name) {
    const std::string type = string(object, path, name, true);
    if (error) return WatchEventType::kPut;
    if (type == "PUT") return WatchEventType::kPut;
    if (type == "DELETE") return WatchEventType::kDelete;
    fail(join(path, name) + " must be \"PUT\" or \"DELETE\"");
    return WatchEventType::kPut;
  }
  void fail(std::string problem) {
    if (!error) error = std::move(problem);
  }
  static std::string join(const std::string& path, const char* name) {
    return path.empty() ? std::string(name) : path + "." + name;
  }
  static std::string index(const std::string& path, const char* name, size_t i) {
    return join(path, name) + "[" + std::to_string(i) + "]";
  }
};

WatchKeyValue parse_key_value(const Json& json, const std::string& path, Fields& fields) {
  WatchKeyValue kv;
  kv.key = fields.string(json, path, "key", true);
  kv.value = fields.string(json, path, "value", false);
  kv.create_revision = fields.integer(json, path, "create_revision", false);
  kv.mod_revision = fields.integer(json, path, "mod_revision", true);
  kv.version = fields.integer(json, path, "version", false);
  return kv;
}

WatchResponse parse_watch_response(const Json& json, const std::string& path, Fields& fields) {
  WatchResponse response;
  fields.integer(json, path, "time", false);  // when it arrived: for people, not the checks
  response.header_revision = fields.integer(json, path, "header_revision", true);
  response.canceled = fields.boolean(json, path, "canceled", false, false);
  response.compact_revision = fields.integer(json, path, "compact_revision", false);
  const Json* events = fields.array(json, path, "events", false);
  for (size_t i = 0; events != nullptr && i < events->size() && !fields.error; ++i) {
    const std::string event_path = Fields::index(path, "events", i);
    const Json& item = (*events)[i];
    WatchEvent event;
    event.type = fields.event_type(item, event_path, "type");
    if (const Json* kv = fields.find(item, event_path, "kv", true)) {
      event.kv = parse_key_value(*kv, Fields::join(event_path, "kv"), fields);
    }
    if (const Json* prev = fields.find(item, event_path, "prev_kv", false)) {
      event.prev_kv = parse_key_value(*prev, Fields::join(event_path, "prev_kv"), fields);
    }
    response.events.push_back(std::move(event));
  }
  return response;
}

WatchRecord parse_watch(const Json& json, Fields& fields) {
  WatchRecord watch;
  watch.watch_id = fields.integer(json, "", "watch_id", true);
  fields.integer(json, "", "client", false);
  fields.integer(json, "", "created", false);
  watch.key = fields.string(json, "", "key", true);
  watch.range_end = fields.string(json, "", "range_end", false);
  watch.start_revision = fields.integer(json, "", "start_revision", false);
  watch.prev_kv = fields.boolean(json, "", "prev_kv", false, false);
  watch.filter_noput = fields.boolean(json, "", "filter_noput", false, false);
  watch.filter_nodelete = fields.boolean(json, "", "filter_nodelete", false, false);
  watch.progress_notify = fields.boolean(json, "", "progress_notify", false, false);
  watch.resumes_watch_id = fields.optional_integer(json, "", "resumes");
  const Json* responses = fields.array(json, "", "responses", false);
  for (size_t i = 0; responses != nullptr && i < responses->size() && !fields.error; ++i) {
    watch.responses.push_back(
        parse_watch_response((*responses)[i], Fields::index("", "responses", i), fields));
  }
  return watch;
}

LockHold parse_lock_hold(const Json& json, Fields& fields) {
  LockHold hold;
  hold.client = fields.integer(json, "", "client", true);
  hold.lock_name = fields.string(json, "", "lock", true);
  hold.acquire_invoke = fields.integer(json, "", "acquire_invoke", true);
  hold.acquire_return = fields.integer(json, "", "acquire_return", true);
  hold.key_create_revision = fields.integer(json, "", "key_create_revision", true);
  hold.release_invoke = fields.optional_integer(json, "", "release_invoke");
  hold.lease_lost_time = fields.optional_integer(json, "", "lease_lost");
  if (!fields.error && hold.acquire_return < hold.acquire_invoke) {
    fields.fail("acquire_return is before acquire_invoke");
  }
  return hold;
}

FencedWrite parse_fenced_write(const Json& json, Fields& fields) {
  FencedWrite write;
  write.client = fields.integer(json, "", "client", true);
  write.lock_name = fields.string(json, "", "lock", true);
  write.invoke_time = fields.integer(json, "", "invoke", true);
  write.indeterminate = fields.boolean(json, "", "indeterminate", false, false);
  // An indeterminate write never returned: its return time is not needed.
  write.return_time = fields.integer(json, "", "return", !write.indeterminate, write.invoke_time);
  write.fencing_revision = fields.integer(json, "", "fencing_revision", true);
  write.accepted = fields.boolean(json, "", "accepted", !write.indeterminate, true);
  if (!fields.error && write.return_time < write.invoke_time) {
    fields.fail("return is before invoke");
  }
  return write;
}

CommittedChange parse_committed(const Json& json, Fields& fields) {
  CommittedChange change;
  change.revision = fields.integer(json, "", "revision", true);
  change.key = fields.string(json, "", "key", true);
  change.type = fields.event_type(json, "", "type");
  change.value = fields.string(json, "", "value", change.type == WatchEventType::kPut);
  if (!fields.error && change.revision < 1) fields.fail("revision must be positive");
  return change;
}

void parse_record(const std::string& kind, const Json& json, Fields& fields,
                  GuaranteeRecords& records) {
  if (kind == "write_log") {
    records.has_write_log = true;
    records.write_log.complete = fields.boolean(json, "", "complete", true, false);
    fields.integer(json, "", "resolved_from_events", false);
    fields.integer(json, "", "assumed_not_committed", false);
  } else if (kind == "committed") {
    records.has_write_log = true;
    records.write_log.changes.push_back(parse_committed(json, fields));
  } else if (kind == "watch") {
    records.watches.push_back(parse_watch(json, fields));
  } else if (kind == "lock_hold") {
    records.lock_holds.push_back(parse_lock_hold(json, fields));
  } else {
    records.fenced_writes.push_back(parse_fenced_write(json, fields));
  }
}

}  // namespace

bool is_guarantee_record_kind(std::string_view kind) {
  for (std::string_view known : kRecordKinds) {
    if (kind == known) return true;
  }
  return false;
}

Result<GuaranteeRecords> parse_guarantee_records(std::string_view text,
                                                 std::string_view source_name) {
  GuaranteeRecords records;
  int64_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    // Cheap pre-filter: operation lines (most of a history) never mention "record".
    if (line.find("\"record\"") == std::string_view::npos) continue;
    auto failure = [&](const std::string& problem) {
      return Error(ErrorCode::kInvalidInput,
                   std::string(source_name) + ":" + std::to_string(line_number) + ": " + problem);
    };
    const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return failure("not valid JSON");
    if (!json.is_object() || !json.contains("record")) continue;  // a value, not the field
    if (!json["record"].is_string()) return failure("record must be a string");
    const std::string kind = json["record"].get<std::string>();
    if (!is_guarantee_record_kind(kind)) {
      return failure("record '" + kind +
                     "' is not one of write_log, committed, watch, lock_hold, fenced_write");
    }
    Fields fields;
    parse_record(kind, json, fields, records);
    if (fields.error) return failure(*fields.error);
  }
  return records;
}

}  // namespace lockstep::checker
