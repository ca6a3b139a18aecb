// Waiting on several Deferreds at once: DeferredList and gatherResults (Twisted's), and the
// errors they report.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "spindle/defer.hpp"

namespace spindle {

/// The failure of a DeferredList with fireOnOneErrback (and of gatherResults): which input
/// failed first, and how.
class FirstError : public Error {
 public:
  FirstError(Failure subFailure, std::size_t index);
  /// The input's failure.
  const Failure& subFailure() const noexcept { return subFailure_; }
  /// The input's position in the list.
  std::size_t index() const noexcept { return index_; }

 private:
  Failure subFailure_;
  std::size_t index_;
};

/// The failure of a DeferredList with fireOnOneCallback when no input succeeded (or the list
/// was empty): every input's failure, in order.
class AllFailedError : public Error {
 public:
  explicit AllFailedError(std::vector<Failure> failures);
  const std::vector<Failure>& failures() const noexcept { return failures_; }

 private:
  std::vector<Failure> failures_;
};

/// How a DeferredList fires (Twisted's keyword arguments of the same names).
struct DeferredListOptions {
  /// Fail with FirstError as soon as one input fails, without waiting for the others.
  bool fireOnOneErrback = false;
  /// Take the inputs' failures away from them, so they are not logged as unhandled when the
  /// inputs are dropped. Without it each input keeps its failure (and it is logged unless
  /// something else handles it); the list reports it either way.
  bool consumeErrors = false;
};

/// The first success of a DeferredList with fireOnOneCallback: the value and its input's index.
template <class T>
struct FirstResult {
  T value;
  std::size_t index;
};
template <>
struct FirstResult<void> {
  std::size_t index;
};

/// Selects DeferredList's fireOnOneCallback mode: `DeferredList(ds, fireOnOneCallback)`.
struct FireOnOneCallback {};
inline constexpr FireOnOneCallback fireOnOneCallback{};

namespace detail {

// What the inputs of one DeferredList share: the outcomes so far and the list's own Deferred.
template <class T, class Out>
struct ListState {
  Deferred<Out> out;
  std::vector<std::optional<Result<T>>> results;
  std::vector<CoreWeakRef> pending;  // for cancel(); weak, so the inputs stay their producers'
  std::size_t remaining = 0;
  DeferredListOptions options;
  static constexpr bool kFirstSuccess = std::is_same_v<Out, FirstResult<T>>;  // fireOnOneCallback

  void report(std::size_t i, Result<T> result) {
    pending[i].reset();
    --remaining;
    if (out.called()) return;
    if (result.failed() && options.fireOnOneErrback) {
      out.errback(Failure(FirstError(result.failure(), i)));
      return;
    }
    if constexpr (kFirstSuccess) {
      if (result.succeeded()) {
        fireFirst(std::move(result), i);
        return;
      }
    }
    results[i].emplace(std::move(result));
    if (remaining == 0) finish();
  }

  void fireFirst(Result<T> result, std::size_t i) {
    if constexpr (std::is_void_v<T>) {
      out.callback(FirstResult<void>{i});
    } else {
      out.callback(FirstResult<T>{std::move(result).value(), i});
    }
  }

  void finish() {
    if constexpr (!kFirstSuccess) {
      std::vector<Result<T>> all;
      all.reserve(results.size());
      for (auto& r : results)
        all.push_back(std::move(*r));
      out.callback(std::move(all));
    } else {
      std::vector<Failure> failures;
      for (auto& r : results)
        failures.push_back(r->failure());
      out.errback(Failure(AllFailedError(std::move(failures))));
    }
  }
};

template <class T, class Out>
Deferred<Out> watchAll(std::vector<Deferred<T>> inputs, DeferredListOptions options) {
  auto state = std::make_shared<ListState<T, Out>>();
  state->results.resize(inputs.size());
  state->remaining = inputs.size();
  state->options = options;
  for (const Deferred<T>& d : inputs)
    DeferredAccess::core(d)->expectTail(typeid(T), "DeferredList");
  for (const Deferred<T>& d : inputs)
    state->pending.emplace_back(DeferredAccess::core(d).get());
  // Cancelling the list cancels every input still pending (weakly held: no cycle through the
  // state, which the inputs' links keep alive).
  std::weak_ptr<ListState<T, Out>> weak = state;
  DeferredAccess::core(state->out)
      ->setCanceller([weak](DeferredCore&, const std::source_location& where) {
        auto s = weak.lock();
        if (!s) return;
        for (std::size_t i = 0; i < s->pending.size(); ++i) {
          if (CoreRef input = s->pending[i].lock()) input->cancel(where);
        }
      });
  Deferred<Out> out = state->out;
  if (inputs.empty()) state->finish();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const CoreRef& core = DeferredAccess::core(inputs[i]);
    core->setTail(typeid(void));
    core->addLink(rawLink(
        [state, i](DeferredCore& c) {
          Result<T> result = takeResult<T>(c);
          // A success moves into the list; a failure stays with the input unless consumed.
          if (result.succeeded() || state->options.consumeErrors) c.setNone();
          state->report(i, std::move(result));
        },
        kOnBoth));
  }
  return out;
}

}  // namespace detail

/// Waits for every input and fires with their outcomes in input order (Twisted's
/// DeferredList). Each input's result moves into the list (its own chain then yields nothing);
/// see DeferredListOptions for failures. Cancelling the list cancels the inputs still pending.
/// An empty list fires at once.
template <class T>
Deferred<std::vector<Result<T>>> DeferredList(std::vector<Deferred<T>> deferreds,
                                              DeferredListOptions options = {}) {
  return detail::watchAll<T, std::vector<Result<T>>>(std::move(deferreds), options);
}

/// fireOnOneCallback mode: fires with the first input to succeed, as {value, index}. If none
/// succeeds, fails with AllFailedError once all have failed (with options.fireOnOneErrback, with
/// FirstError at the first failure). An empty list fails at once.
template <class T>
Deferred<FirstResult<T>> DeferredList(std::vector<Deferred<T>> deferreds, FireOnOneCallback,
                                      DeferredListOptions options = {}) {
  return detail::watchAll<T, FirstResult<T>>(std::move(deferreds), options);
}

/// Fires with every input's value, in order, once all have succeeded; fails with FirstError at
/// the first failure (Twisted's gatherResults). The inputs' failures are consumed unless
/// `consumeErrors` is false (Twisted's default is false; here the one error is reported once,
/// through the result). Deferred<void> inputs give a Deferred<void>.
template <class T>
auto gatherResults(std::vector<Deferred<T>> deferreds, bool consumeErrors = true) {
  auto list = DeferredList(std::move(deferreds),
                           {.fireOnOneErrback = true, .consumeErrors = consumeErrors});
  if constexpr (std::is_void_v<T>) {
    return list.addCallback([](const std::vector<Result<void>>&) {});
  } else {
    return list.addCallback([](std::vector<Result<T>> results) {
      std::vector<T> values;
      values.reserve(results.size());
      for (Result<T>& r : results)
        values.push_back(std::move(r).value());
      return values;
    });
  }
}

}  // namespace spindle
