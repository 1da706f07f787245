#pragma once

#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/ids.h"

namespace lockstep::mvcc {

// Names of the meta bucket entries the MVCC layer writes (etcd's meta bucket holds
// "consistent_index", "scheduledCompactRev" and "finishedCompactRev"; here the consistent
// index is a first-class part of every WriteBatch, and compaction is applied whole, so one
// compaction revision suffices).
inline constexpr std::string_view kMetaCompactRevision = "compact_revision";

std::string encode_meta_revision(Revision revision);
Result<Revision> decode_meta_revision(std::string_view bytes);

}  // namespace lockstep::mvcc
