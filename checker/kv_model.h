#pragma once

#include "checker/model.h"

namespace lockstep::checker {

// Porcupine's key-value model: get(k) returns k's value ("" when never written), put(k, v)
// overwrites, append(k, v) concatenates. Keys are independent objects, so the history is
// partitioned per key (P-compositionality).
class KvModel final : public Model {
 public:
  std::string_view name() const override { return "kv"; }
  std::vector<Partition> partition(const History& history) const override;
  bool is_read_only(const Operation& operation) const override;
  Result<std::unique_ptr<ModelInstance>> instantiate(
      const History& history, std::span<const uint32_t> operations) const override;
};

}  // namespace lockstep::checker
