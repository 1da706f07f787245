#pragma once

#include "checker/model.h"

namespace lockstep::checker {

// A single compare-and-set register, the object of Jepsen's etcd register test: read returns
// the value (nil before any write), write overwrites, cas(expected, new) swaps when the
// register holds `expected` and reports whether it did. The register starts out nil.
class CasRegisterModel final : public Model {
 public:
  std::string_view name() const override { return "cas-register"; }
  bool is_read_only(const Operation& operation) const override;
  Result<std::unique_ptr<ModelInstance>> instantiate(
      const History& history, std::span<const uint32_t> operations) const override;
};

}  // namespace lockstep::checker
