// Result<T>: how something ended, with a T or with the Failure that stopped it.
#pragma once

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "spindle/failure.hpp"

namespace spindle {

/// The outcome of an operation: a value or a Failure (Twisted passes either to the same callback).
///
/// addBoth() callbacks receive one, DeferredList yields one per input, and any callback may
/// return one to choose its path at run time. Result<void> holds nothing on success.
template <class T>
class Result {
  static_assert(std::is_object_v<T> && !std::is_same_v<std::remove_cv_t<T>, Failure>,
                "Result<T>: T must be a value type (not a reference, not Failure)");

 public:
  /// A success holding `value`.
  template <class V = T>
  requires(std::is_constructible_v<T, V&&> && !std::is_same_v<std::remove_cvref_t<V>, Failure> &&
           !std::is_same_v<std::remove_cvref_t<V>, Result>) Result(V&& value)
      : v_(std::in_place_index<0>, std::forward<V>(value)) {}
  /// A failure.
  Result(Failure failure) : v_(std::in_place_index<1>, std::move(failure)) {}

  bool succeeded() const noexcept { return v_.index() == 0; }
  bool failed() const noexcept { return v_.index() == 1; }

  /// The value. On a failure, rethrows the failure's exception instead.
  T& value() & {
    raiseIfFailed();
    return std::get<0>(v_);
  }
  const T& value() const& {
    raiseIfFailed();
    return std::get<0>(v_);
  }
  T&& value() && {
    raiseIfFailed();
    return std::get<0>(std::move(v_));
  }
  /// The failure; throws std::logic_error on a success.
  const Failure& failure() const {
    if (!failed()) throw std::logic_error("Result::failure() on a success");
    return std::get<1>(v_);
  }

 private:
  void raiseIfFailed() const {
    if (failed()) std::get<1>(v_).raiseException();
  }
  std::variant<T, Failure> v_;
};

/// A success with no value, or a failure.
template <>
class Result<void> {
 public:
  /// A success.
  Result() noexcept = default;
  /// A failure.
  Result(Failure failure) : failure_(std::move(failure)) {}

  bool succeeded() const noexcept { return !failure_; }
  bool failed() const noexcept { return failure_.has_value(); }
  /// Returns on a success; rethrows the failure's exception on a failure.
  void value() const {
    if (failure_) failure_->raiseException();
  }
  /// The failure; throws std::logic_error on a success.
  const Failure& failure() const {
    if (!failure_) throw std::logic_error("Result::failure() on a success");
    return *failure_;
  }

 private:
  std::optional<Failure> failure_;
};

}  // namespace spindle
