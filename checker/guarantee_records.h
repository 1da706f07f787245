#pragma once

#include <string_view>
#include <vector>

#include "checker/lock_checker.h"
#include "checker/watch_checker.h"
#include "core/base/error.h"

namespace lockstep::checker {

// The watch and lock records of a jsonl history (docs/HISTORY_FORMAT.md, "Watch and lock
// records in jsonl"): lines with a "record" field, written after the operations by
// sim::guarantee_records_jsonl. Operation lines and the header are skipped here (the
// linearizability parser reads those and skips these).
struct GuaranteeRecords {
  WriteLog write_log;          // "write_log" (completeness) and "committed" lines
  bool has_write_log = false;  // a "write_log" or "committed" line was present
  std::vector<WatchRecord> watches;
  std::vector<LockHold> lock_holds;
  std::vector<FencedWrite> fenced_writes;
};

// The record kinds, for the linearizability parser to tell a record line from a typo.
bool is_guarantee_record_kind(std::string_view kind);

// Bad input is an ErrorCode::kInvalidInput naming the source, the line and the field
// ("h.jsonl:9: responses[0].events[1].kv.mod_revision must be an integer").
Result<GuaranteeRecords> parse_guarantee_records(std::string_view text,
                                                 std::string_view source_name);

}  // namespace lockstep::checker
