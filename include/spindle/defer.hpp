// Deferred<T>: a result that arrives later and the chain of callbacks that processes it
// (Twisted's twisted.internet.defer), with succeed, fail, maybeDeferred and deferLater.
#pragma once

#include <concepts>
#include <exception>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "spindle/delayed_call.hpp"
#include "spindle/detail/deferred_links.hpp"
#include "spindle/failure.hpp"
#include "spindle/result.hpp"

namespace spindle {

/// A handle on a callback chain that will receive one result, a T or a Failure (Twisted's
/// Deferred).
///
/// Handles are cheap to copy; all copies share one chain and see the same result. The producer
/// fires it once with callback(value) or errback(failure); consumers add callbacks, which run in
/// order, each on the result of the one before. A callback may return a new value (of another
/// type: the chain is typed, and addCallback returns the handle for the type it now yields),
/// throw (the chain goes on its error path), return a Failure, or return a Deferred, which pauses
/// the chain until that one fires and then continues with its result.
///
/// Everything is synchronous, as in Twisted: callback() runs the chain before it returns, and a
/// callback added to a fired chain runs at once. Callbacks may add callbacks, fire other
/// Deferreds, or drop the last handle; the chain finishes its run regardless.
///
/// A handle whose type no longer matches the chain (kept across a callback that changed the
/// type) refuses further use with std::logic_error. A chain destroyed while its result is a
/// Failure logs "Unhandled error in Deferred" with the failure and where it came from.
/// Not thread-safe: use one chain from one thread (the reactor's).
template <class T = void>
class Deferred {
  static_assert(std::is_void_v<T> || (std::is_object_v<T> && std::is_move_constructible_v<T>),
                "Deferred<T>: T must be void or a movable value type (not a reference)");
  static_assert(!detail::kIsDeferred<T> && !detail::kIsTask<T> && !detail::kIsResult<T> &&
                    !std::is_same_v<std::remove_cv_t<T>, Failure>,
                "Deferred<T>: T cannot be a Deferred, Task, Result or Failure");

 public:
  using value_type = T;

  /// A new chain, not yet fired; cancel() errbacks it with CancelledError.
  Deferred() : core_(detail::DeferredCore::create(typeid(T))) {}
  /// A new chain whose cancel() first calls `canceller` (given this Deferred, or nothing),
  /// which should stop the work and may fire the chain itself.
  template <detail::CancellerFor<Deferred> C>
  explicit Deferred(C canceller) : Deferred() {
    core_->setCanceller([c = std::move(canceller)](detail::DeferredCore& core,
                                                   const std::source_location&) mutable {
      if constexpr (std::is_invocable_v<C&, Deferred&>) {
        Deferred self{detail::CoreRef(&core)};
        c(self);
      } else {
        c();
      }
    });
  }

  /// Fires the chain with `value`; the callbacks run before this returns. Throws AlreadyCalled
  /// if it has fired, except for the first call after a cancel(), which is ignored.
  template <detail::NotVoid V = T>
  void callback(std::type_identity_t<V> value) {
    detail::CoreRef core = coreRef();
    if (!core->beginFire(&typeid(T))) return;
    try {
      core->template setValue<T>(std::move(value));
    } catch (...) {  // a T whose move throws: the chain fails rather than holding nothing
      core->setFailure(Failure(std::current_exception()));
    }
    core->endFire();
  }
  /// Fires a Deferred<void>.
  void callback() requires std::is_void_v<T> {
    detail::CoreRef core = coreRef();
    if (!core->beginFire(&typeid(T))) return;
    core->setNone();
    core->endFire();
  }
  /// Fires the chain's error path with `failure`. Throws AlreadyCalled if it has fired, except
  /// for the first call after a cancel(), whose failure is logged as unhandled instead (unless
  /// it is a CancelledError). A producer that wants to drop it quietly tests called() first.
  void errback(Failure failure) { coreRef()->fail(std::move(failure)); }
  /// errback(Failure(error)): `d.errback(ConnectionRefusedError())`.
  template <detail::ExceptionType E>
  void errback(E error, std::source_location where = std::source_location::current()) {
    errback(Failure(std::move(error), where));
  }

  /// Adds `f`, called with the value when the chain succeeds (skipped on a failure). Returns the
  /// chain as a Deferred of what `f` yields: on a Deferred<std::string>,
  /// `addCallback([](std::string s) { return s.size(); })` gives a Deferred<std::size_t>.
  template <class F>
  auto addCallback(F&& f, std::source_location where = std::source_location::current()) {
    using Fn = std::decay_t<F>;
    static_assert(detail::kValueCallable<Fn, T>,
                  "addCallback(f) on a Deferred<T>: f must be callable with a T (by value, const "
                  "T& or T&&), or with no argument when T is void");
    if constexpr (detail::kValueCallable<Fn, T>) {
      using U = detail::ChainOf<detail::ValueCall<Fn, T>, T>;
      return append<U>(detail::makeLink(Fn(std::forward<F>(f)), &detail::runCallback<T, U, Fn>,
                                        detail::kOnValue, where),
                       "addCallback");
    }
  }

  /// Adds `f`, called with the Failure when the chain fails (skipped on a success). `f` recovers
  /// by returning a T (or a Deferred<T>), or passes the error on by throwing (f.trap<E>() and
  /// f.raiseException() do) or returning a Failure.
  template <class F>
  Deferred addErrback(F&& f, std::source_location where = std::source_location::current()) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&, Failure&>,
                  "addErrback(f): f must take a const Failure& (or a Failure)");
    if constexpr (std::is_invocable_v<Fn&, Failure&>) {
      static_assert(std::is_same_v<detail::ChainOf<std::invoke_result_t<Fn&, Failure&>, T>, T>,
                    "addErrback(f) on a Deferred<T>: f must recover with a T (or a Deferred<T>, "
                    "Task<T> or Result<T>; nothing when T is void), or pass the error on by "
                    "returning a Failure or throwing");
      return append<T>(detail::makeLink(Fn(std::forward<F>(f)), &detail::runErrback<T, Fn>,
                                        detail::kOnFailure, where),
                       "addErrback");
    } else {
      return *this;
    }
  }

  /// Adds a callback and an errback as one step: the errback does not see errors from the
  /// callback. Both must yield the same type, which the returned Deferred has.
  template <class Cb, class Eb>
  auto addCallbacks(Cb&& cb, Eb&& eb,
                    std::source_location where = std::source_location::current()) {
    using C = std::decay_t<Cb>;
    using E = std::decay_t<Eb>;
    static_assert(detail::kValueCallable<C, T>,
                  "addCallbacks(cb, eb) on a Deferred<T>: cb must be callable with a T (or with "
                  "no argument when T is void)");
    static_assert(std::is_invocable_v<E&, Failure&>,
                  "addCallbacks(cb, eb): eb must take a const Failure& (or a Failure)");
    if constexpr (detail::kValueCallable<C, T> && std::is_invocable_v<E&, Failure&>) {
      using U = detail::ChainOf<detail::ValueCall<C, T>, T>;
      static_assert(std::is_same_v<detail::ChainOf<std::invoke_result_t<E&, Failure&>, U>, U>,
                    "addCallbacks(cb, eb): eb must yield what cb yields (or return a Failure)");
      using Pair = detail::CallbackPair<C, E>;
      return append<U>(detail::makeLink(Pair{C(std::forward<Cb>(cb)), E(std::forward<Eb>(eb))},
                                        &detail::runPair<T, U, Pair>, detail::kOnBoth, where),
                       "addCallbacks");
    }
  }

  /// Adds `f`, called with the Result<T> either way (Twisted's addBoth). Returns the chain as a
  /// Deferred of what `f` yields; returning a Result passes a value or a failure on.
  template <class F>
  auto addBoth(F&& f, std::source_location where = std::source_location::current()) {
    using Fn = std::decay_t<F>;
    static_assert(detail::kBothCallable<Fn, T>,
                  "addBoth(f) on a Deferred<T>: f must take a Result<T> (by value or const&)");
    if constexpr (detail::kBothCallable<Fn, T>) {
      using R = decltype(detail::invokeWith(std::declval<Fn&>(), std::declval<Result<T>&>()));
      using U = detail::ChainOf<R, T>;
      return append<U>(detail::makeLink(Fn(std::forward<F>(f)), &detail::runBoth<T, U, Fn>,
                                        detail::kOnBoth, where),
                       "addBoth");
    }
  }

  /// Makes `other` fire with this chain's result; this chain then yields nothing (Twisted's
  /// chainDeferred).
  Deferred<void> chainDeferred(Deferred other,
                               std::source_location where = std::source_location::current()) {
    auto eb = [other](const Failure& f) mutable { other.errback(f); };
    if constexpr (std::is_void_v<T>) {
      return addCallbacks([other]() mutable { other.callback(); }, std::move(eb), where);
    } else {
      return addCallbacks([other](T v) mutable { other.callback(std::move(v)); }, std::move(eb),
                          where);
    }
  }

  /// Cancels the chain if it has not fired: calls the canceller, then, if that did not fire it,
  /// errbacks it with CancelledError (and ignores the producer's next callback). If the chain
  /// is waiting on a Deferred a callback returned, cancels that one instead. Otherwise does
  /// nothing.
  void cancel(std::source_location where = std::source_location::current()) {
    coreRef()->cancel(where);
  }

  /// Cancels the chain if it has not fired `seconds` from now on `clock`; its CancelledError
  /// then becomes a DeferredTimeoutError. The timer is cancelled as soon as the chain fires.
  /// Returns this chain.
  Deferred addTimeout(double seconds, IReactorTime& clock,
                      std::source_location where = std::source_location::current()) {
    detail::CoreRef core = coreRef();
    core->expectTail(typeid(T), "addTimeout");
    auto timedOut = std::make_shared<bool>(false);
    DelayedCall call = clock.callLater(seconds, [core, timedOut, where] {
      *timedOut = true;
      core->cancel(where);
    });
    core->addLink(detail::rawLink(
        [call, timedOut, seconds, where](detail::DeferredCore& c) mutable {
          if (call.active()) call.cancel();
          if (*timedOut && c.failed() && c.failure().check<CancelledError>()) {
            c.setFailure(Failure(DeferredTimeoutError(seconds), where));
          }
        },
        detail::kOnBoth));
    return *this;
  }

  /// True once callback() or errback() has been called (Twisted's `called`).
  bool called() const { return coreRef()->called(); }

 private:
  template <class>
  friend class Deferred;
  friend struct detail::DeferredAccess;

  explicit Deferred(detail::CoreRef core) : core_(std::move(core)) {}

  const detail::CoreRef& coreRef() const {
    if (!core_) throw std::logic_error("use of a moved-from Deferred");
    return core_;
  }

  template <class U>
  Deferred<U> append(detail::Link link, std::string_view operation) {
    detail::CoreRef core = coreRef();
    core->expectTail(typeid(T), operation);
    core->setTail(typeid(U));
    core->addLink(std::move(link));
    return Deferred<U>(std::move(core));
  }

  detail::CoreRef core_;
};

/// A Deferred that has already fired with `value`: `succeed(std::string("poem"))`.
template <class T>
Deferred<std::decay_t<T>> succeed(T&& value) {
  Deferred<std::decay_t<T>> d;
  d.callback(std::forward<T>(value));
  return d;
}

/// A Deferred<void> that has already fired.
inline Deferred<void> succeed() {
  Deferred<void> d;
  d.callback();
  return d;
}

/// A Deferred<T> that has already failed with `failure`: `fail<int>(Failure(...))`.
template <class T = void>
Deferred<T> fail(Failure failure) {
  Deferred<T> d;
  d.errback(std::move(failure));
  return d;
}

/// A Deferred<T> that has already failed with `error`: `fail<int>(ConnectionDone())`.
template <class T = void, detail::ExceptionType E>
Deferred<T> fail(E error, std::source_location where = std::source_location::current()) {
  return fail<T>(Failure(std::move(error), where));
}

/// Calls `f()` now and returns its outcome as a Deferred: a Deferred (or Task) it returns as is,
/// a value as a fired Deferred, an exception as a failed one (Twisted's maybeDeferred; bind the
/// arguments with a lambda).
template <class F>
auto maybeDeferred(F&& f, std::source_location where = std::source_location::current()) {
  using R = std::invoke_result_t<F&>;
  using U = detail::ChainOf<R, void>;
  if constexpr (detail::kIsDeferred<R> || detail::kIsTask<R>) {
    try {
      return Deferred<U>(std::invoke(f));
    } catch (...) {
      return fail<U>(Failure(std::current_exception(), where));
    }
  } else {
    Deferred<U> d;
    const detail::CoreRef& core = detail::DeferredAccess::core(d);
    core->beginFire(nullptr);
    try {
      detail::settle<U>(*core, [&]() -> decltype(auto) { return std::invoke(f); });
    } catch (...) {
      core->setFailure(Failure(std::current_exception(), where));
    }
    core->endFire();
    return d;
  }
}

/// A Deferred<void> that fires `seconds` from now on `clock`; cancelling it cancels the timer
/// (Twisted's task.deferLater).
inline Deferred<void> deferLater(IReactorTime& clock, double seconds) {
  Deferred<void> d;
  DelayedCall call = clock.callLater(seconds, [d]() mutable { d.callback(); });
  detail::DeferredAccess::core(d)->setCanceller(
      [call](detail::DeferredCore&, const std::source_location&) mutable {
        if (call.active()) call.cancel();
      });
  return d;
}

/// Calls `fn()` `seconds` from now on `clock` and fires with what it yields (a value, or what
/// the Deferred it returns fires with); cancelling it before then cancels the call.
template <class F>
auto deferLater(IReactorTime& clock, double seconds, F&& fn,
                std::source_location where = std::source_location::current()) {
  return deferLater(clock, seconds).addCallback(std::forward<F>(fn), where);
}

}  // namespace spindle
