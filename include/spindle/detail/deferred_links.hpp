// Internal: how a typed callback becomes a Link of a DeferredCore, and the type rules that say
// what a chain yields after it. Used by defer.hpp, defer_list.hpp and coroutine.hpp.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <source_location>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "spindle/detail/deferred_core.hpp"
#include "spindle/result.hpp"

namespace spindle {

template <class T>
class Deferred;
template <class T>
class Task;

namespace detail {

template <class X>
struct DeferredOf : std::false_type {};
template <class U>
struct DeferredOf<Deferred<U>> : std::true_type {};
template <class X>
struct TaskOf : std::false_type {};
template <class U>
struct TaskOf<Task<U>> : std::true_type {};
template <class X>
struct ResultOf : std::false_type {};
template <class U>
struct ResultOf<Result<U>> : std::true_type {};

template <class X>
inline constexpr bool kIsDeferred = DeferredOf<std::remove_cvref_t<X>>::value;
template <class X>
inline constexpr bool kIsTask = TaskOf<std::remove_cvref_t<X>>::value;
template <class X>
inline constexpr bool kIsResult = ResultOf<std::remove_cvref_t<X>>::value;

// What a chain yields after a function that returned R, `Same` being what it yielded before:
// a Deferred<U>, Task<U> or Result<U> yields U, a Failure leaves the type alone (the chain is
// on its error path), nothing yields void, and anything else is the value itself.
template <class X, class Same>
struct ChainOfT {
  using type = X;
};
template <class U, class Same>
struct ChainOfT<Deferred<U>, Same> {
  using type = U;
};
template <class U, class Same>
struct ChainOfT<Task<U>, Same> {
  using type = U;
};
template <class U, class Same>
struct ChainOfT<Result<U>, Same> {
  using type = U;
};
template <class Same>
struct ChainOfT<Failure, Same> {
  using type = Same;
};
template <class R, class Same>
using ChainOf = typename ChainOfT<std::remove_cvref_t<R>, Same>::type;

// Values are passed as rvalues (a by-value parameter takes them without a copy), or as lvalues
// to a callback that takes a T&.
template <class F, class T>
constexpr bool valueCallable() {
  if constexpr (std::is_void_v<T>) {
    return std::is_invocable_v<F&>;
  } else {
    return std::is_invocable_v<F&, T&&> || std::is_invocable_v<F&, T&>;
  }
}
template <class F, class T>
inline constexpr bool kValueCallable = valueCallable<F, T>();

template <class F, class T>
decltype(auto) invokeWith(F& f, T& arg) {
  if constexpr (std::is_invocable_v<F&, T&&>) {
    return std::invoke(f, std::move(arg));
  } else {
    return std::invoke(f, arg);
  }
}

template <class F, class T>
struct ValueCallT {
  using type = decltype(invokeWith(std::declval<F&>(), std::declval<T&>()));
};
template <class F>
struct ValueCallT<F, void> {
  using type = std::invoke_result_t<F&>;
};
template <class F, class T>
using ValueCall = typename ValueCallT<F, T>::type;

/// A canceller for a Deferred D: called with it, or with nothing.
template <class C, class D>
concept CancellerFor = std::is_invocable_v<C&, D&> || std::is_invocable_v<C&>;

template <class T>
concept NotVoid = !std::is_void_v<T>;

/// An exception type, which a Failure can be made from.
template <class E>
concept ExceptionType = std::is_base_of_v<std::exception, E>;

template <class F, class T>
inline constexpr bool kBothCallable =
    std::is_invocable_v<F&, Result<T>&&> || std::is_invocable_v<F&, Result<T>&>;

/// Gives the library's own templates the core behind a typed handle.
struct DeferredAccess {
  /// The core; throws std::logic_error for a moved-from handle.
  template <class T>
  static const CoreRef& core(const Deferred<T>& d) {
    return d.coreRef();
  }
  /// The core, or an empty reference for a moved-from handle.
  template <class T>
  static const CoreRef& peek(const Deferred<T>& d) noexcept {
    return d.core_;
  }
  /// Moves the core out of the handle.
  template <class T>
  static CoreRef take(Deferred<T>& d) noexcept {
    return std::move(d.core_);
  }
  template <class T>
  static Deferred<T> wrap(CoreRef core) {
    return Deferred<T>(std::move(core));
  }
};

/// The core's result as a Result<T>: a value is moved out; a failure is copied, and stays in
/// the core until the caller replaces it.
template <class T>
Result<T> takeResult(DeferredCore& core) {
  if (core.failed()) return Result<T>(core.failure());
  if constexpr (std::is_void_v<T>) {
    return Result<void>();
  } else {
    return Result<T>(std::move(core.value<T>()));
  }
}

/// Calls `call` and makes what it returned the core's new result (of type U). Returns the
/// Deferred the chain must wait for, when it returned one. Exceptions pass to the caller.
template <class U, class Call>
CoreRef settle(DeferredCore& core, Call&& call) {
  using R = decltype(call());
  using X = std::remove_cvref_t<R>;
  if constexpr (std::is_void_v<R>) {
    call();
    core.setNone();
  } else if constexpr (kIsDeferred<X> || kIsTask<X>) {
    Deferred<U> inner = call();
    CoreRef ref = DeferredAccess::core(inner);
    ref->expectTail(typeid(U), "returning a Deferred from a callback");
    return ref;
  } else if constexpr (kIsResult<X>) {
    X result = call();
    if (result.failed()) {
      core.setFailure(result.failure());
    } else if constexpr (std::is_void_v<U>) {
      core.setNone();
    } else {
      core.setValue<U>(std::move(result).value());
    }
  } else if constexpr (std::is_same_v<X, Failure>) {
    core.setFailure(call());
  } else {
    U value = call();  // before setValue: `call` may have returned a reference into the core
    core.setValue<U>(std::move(value));
  }
  return {};
}

/// The Failure for the exception being handled: `incoming` itself when a handler rethrew the
/// very exception it was given (so its origin is kept), else a new one from `where`.
inline Failure caught(const Failure* incoming, const std::source_location& where) {
  std::exception_ptr e = std::current_exception();
  if (incoming && incoming->value() == e) return *incoming;
  return Failure(std::move(e), where);
}

template <class T, class U, class F>
CoreRef applyValue(F& f, DeferredCore& core, const std::source_location& where) noexcept {
  try {
    if constexpr (std::is_void_v<T>) {
      return settle<U>(core, [&]() -> decltype(auto) { return std::invoke(f); });
    } else {
      return settle<U>(core, [&]() -> decltype(auto) { return invokeWith(f, core.value<T>()); });
    }
  } catch (...) {
    core.setFailure(caught(nullptr, where));
    return {};
  }
}

template <class U, class F>
CoreRef applyFailure(F& f, DeferredCore& core, const std::source_location& where) noexcept {
  Failure incoming = core.failure();
  try {
    return settle<U>(core, [&]() -> decltype(auto) { return std::invoke(f, incoming); });
  } catch (...) {
    core.setFailure(caught(&incoming, where));
    return {};
  }
}

template <class T, class U, class F>
CoreRef applyBoth(F& f, DeferredCore& core, const std::source_location& where) noexcept {
  std::optional<Failure> incoming;
  if (core.failed()) incoming = core.failure();
  try {
    Result<T> result = takeResult<T>(core);
    return settle<U>(core, [&]() -> decltype(auto) { return invokeWith(f, result); });
  } catch (...) {
    core.setFailure(caught(incoming ? &*incoming : nullptr, where));
    return {};
  }
}

template <class T, class U, class F>
CoreRef runCallback(Box& fn, DeferredCore& core, const std::source_location& where) noexcept {
  return applyValue<T, U>(fn.get<F>(), core, where);
}
template <class T, class F>
CoreRef runErrback(Box& fn, DeferredCore& core, const std::source_location& where) noexcept {
  return applyFailure<T>(fn.get<F>(), core, where);
}
template <class T, class U, class F>
CoreRef runBoth(Box& fn, DeferredCore& core, const std::source_location& where) noexcept {
  return applyBoth<T, U>(fn.get<F>(), core, where);
}

template <class Cb, class Eb>
struct CallbackPair {
  Cb cb;
  Eb eb;
};
template <class T, class U, class Pair>
CoreRef runPair(Box& fn, DeferredCore& core, const std::source_location& where) noexcept {
  Pair& pair = fn.get<Pair>();
  if (core.failed()) return applyFailure<U>(pair.eb, core, where);
  return applyValue<T, U>(pair.cb, core, where);
}

template <class F>
Link makeLink(F f, Link::Call call, std::uint8_t runs, const std::source_location& where) {
  Link link;
  link.fn.emplace<F>(std::move(f));
  link.call = call;
  link.runs = runs;
  link.where = where;
  return link;
}

/// A link for the library's own steps: `f(core)` works on the result directly and must not
/// throw.
template <class F>
Link rawLink(F f, std::uint8_t runs) {
  return makeLink(std::move(f),
                  [](Box& fn, DeferredCore& core, const std::source_location&) noexcept -> CoreRef {
                    fn.get<F>()(core);
                    return {};
                  },
                  runs, {});
}

template <class>
inline constexpr bool kAlwaysFalse = false;

}  // namespace detail
}  // namespace spindle
