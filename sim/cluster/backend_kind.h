#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lockstep::sim {

// Which MVCC backend each simulated member keeps its state in.
enum class BackendKind : uint8_t {
  // store::SqliteBackend through store::SqliteVfs on the member's SimDisk: the production
  // member (core/node over store/ over the disk, as server/daemon runs it), so crashes, torn
  // writes and disk faults hit the real database, and a restart reopens it from what the
  // disk kept.
  kSqlite,
  // mvcc::MemoryBackend, lost at a crash and rebuilt from the Raft snapshot + log at each
  // restart. Several times faster; for unit tests that judge Raft and the request path, not
  // the storage engine.
  kMemory,
};

// "sqlite" / "memory", as scenario files spell them.
std::string_view backend_kind_name(BackendKind kind);
std::optional<BackendKind> backend_kind_from_name(std::string_view name);

}  // namespace lockstep::sim
