#include "sim/cluster/backend_kind.h"

namespace lockstep::sim {

std::string_view backend_kind_name(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSqlite:
      return "sqlite";
    case BackendKind::kMemory:
      return "memory";
  }
  return "unknown";
}

std::optional<BackendKind> backend_kind_from_name(std::string_view name) {
  if (name == "sqlite") return BackendKind::kSqlite;
  if (name == "memory") return BackendKind::kMemory;
  return std::nullopt;
}

}  // namespace lockstep::sim
