#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace lockstep {

// A tagged integer: two ids with different tags cannot be mixed up or compared, and no
// implicit conversion to or from the raw integer exists (in the style of ScyllaDB's
// raft::internal::tagged_uint64).
template <typename Tag, typename Representation = uint64_t>
class StrongId {
 public:
  using representation = Representation;

  constexpr StrongId() = default;
  constexpr explicit StrongId(Representation value) : value_(value) {}

  constexpr Representation value() const { return value_; }

  constexpr auto operator<=>(const StrongId&) const = default;

  constexpr StrongId next() const { return StrongId(value_ + 1); }
  constexpr StrongId previous() const { return StrongId(value_ - 1); }

  friend std::ostream& operator<<(std::ostream& out, StrongId id) { return out << id.value_; }

 private:
  Representation value_{};
};

}  // namespace lockstep

template <typename Tag, typename Representation>
struct std::hash<lockstep::StrongId<Tag, Representation>> {
  size_t operator()(lockstep::StrongId<Tag, Representation> id) const noexcept {
    return std::hash<Representation>{}(id.value());
  }
};
