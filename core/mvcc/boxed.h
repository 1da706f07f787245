#pragma once

#include <memory>
#include <utility>

#include "core/base/assert.h"

namespace lockstep::mvcc {

// A heap-held value with value semantics (copy copies the pointee), so that recursive
// messages such as a TxnRequest nested in a RequestOp can be plain structs.
template <typename T>
class Boxed {
 public:
  Boxed() : value_(std::make_unique<T>()) {}
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}
  Boxed(const Boxed& other) : value_(std::make_unique<T>(*other.value_)) {}
  Boxed(Boxed&& other) noexcept : value_(std::make_unique<T>(std::move(*other.value_))) {}
  Boxed& operator=(const Boxed& other) {
    *value_ = *other.value_;
    return *this;
  }
  Boxed& operator=(Boxed&& other) noexcept {
    *value_ = std::move(*other.value_);
    return *this;
  }
  ~Boxed() = default;

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

  bool operator==(const Boxed& other) const { return *value_ == *other.value_; }

 private:
  std::unique_ptr<T> value_;  // never null
};

}  // namespace lockstep::mvcc
