// Task<T>: C++20 coroutines over Deferreds, Twisted's inlineCallbacks / ensureDeferred style.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "spindle/defer.hpp"

namespace spindle {

template <class T>
class Task;

namespace detail {

template <class T>
class TaskPromise;

/// Owns a suspended coroutine frame: destroying the owner destroys the frame.
class FrameOwner {
 public:
  explicit FrameOwner(std::coroutine_handle<> h) noexcept : h_(h) {}
  FrameOwner(FrameOwner&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  FrameOwner& operator=(FrameOwner&&) = delete;
  ~FrameOwner() {
    if (h_) h_.destroy();
  }
  std::coroutine_handle<> release() noexcept { return std::exchange(h_, nullptr); }

 private:
  std::coroutine_handle<> h_;
};

// The parts of a Task's promise that do not depend on T.
class TaskPromiseBase {
 public:
  /// The Failure for the exception escaping the coroutine: the one a co_await threw into it, if
  /// that is what came out (keeping its origin), else a new one.
  Failure escaped() {
    std::exception_ptr e = std::current_exception();
    if (thrownIn_ && thrownIn_->value() == e) return *thrownIn_;
    return Failure(std::move(e), where_);
  }

  CoreWeakRef awaiting_;             // what the coroutine is suspended on, for cancel()
  std::optional<Failure> thrownIn_;  // the last failure a co_await raised in the coroutine
  std::source_location where_;       // the coroutine, for failures it raises
};

/// What `co_await` on a Deferred<U> (or a Task<U>) does inside a Task: continues at once if
/// the result is there, else suspends; the Deferred's chain then owns the frame until it fires.
template <class U>
class DeferredAwaiter {
 public:
  DeferredAwaiter(CoreRef core, TaskPromiseBase& promise)
      : core_(std::move(core)), promise_(promise) {}

  bool await_ready() {
    core_->expectTail(typeid(U), "co_await");
    if (!core_->ready()) return false;
    take(*core_);
    core_.reset();
    return true;
  }

  void await_suspend(std::coroutine_handle<> frame) {
    promise_.awaiting_ = CoreWeakRef(core_.get());
    CoreRef core = std::move(core_);
    core->setTail(typeid(void));
    core->addLink(makeLink(Resume{FrameOwner(frame), this}, &Resume::run, kOnBoth, {}));
    // `core` goes here. If nothing else holds it, it can never fire: its chain is freed now,
    // and with it this frame. Nothing below may touch the frame.
  }

  U await_resume() {
    if (result_->failed()) {
      promise_.thrownIn_ = result_->failure();
      result_->failure().raiseException();
    }
    if constexpr (!std::is_void_v<U>) return std::move(*result_).value();
  }

 private:
  struct Resume {
    FrameOwner frame;
    DeferredAwaiter* awaiter;
    static CoreRef run(Box& fn, DeferredCore& core, const std::source_location&) noexcept {
      Resume& self = fn.get<Resume>();
      self.awaiter->take(core);
      self.awaiter->promise_.awaiting_.reset();
      self.frame.release().resume();
      return {};
    }
  };

  // The result moves into the coroutine: the awaited chain yields nothing afterwards, and its
  // failure, now the coroutine's exception, is no longer unhandled there.
  void take(DeferredCore& core) {
    result_.emplace(takeResult<U>(core));
    core.setNone();
    core.setTail(typeid(void));
  }

  CoreRef core_;
  TaskPromiseBase& promise_;
  std::optional<Result<U>> result_;
};

template <class T>
class TaskPromiseResult : public TaskPromiseBase {
 public:
  void return_value(T value) { outcome_.emplace(std::move(value)); }

 protected:
  std::optional<Result<T>> outcome_;
};

template <>
class TaskPromiseResult<void> : public TaskPromiseBase {
 public:
  void return_void() { outcome_.emplace(); }

 protected:
  std::optional<Result<void>> outcome_;
};

template <class T>
class TaskPromise : public TaskPromiseResult<T> {
 public:
  explicit TaskPromise(std::source_location where = std::source_location::current()) {
    this->where_ = where;
    // Cancelling the Task's Deferred cancels what the coroutine awaits, so CancelledError is
    // thrown at its co_await. Cleared before the frame goes, so it never outlives `this`.
    DeferredAccess::core(deferred_)->setCanceller(
        [this](DeferredCore&, const std::source_location& at) {
          if (CoreRef awaited = this->awaiting_.lock()) awaited->cancel(at);
        });
  }
  ~TaskPromise() {
    // Set only if the frame is destroyed unfinished (what it awaited was dropped unfired).
    if (const CoreRef& core = DeferredAccess::peek(deferred_)) core->clearCanceller();
  }

  Task<T> get_return_object() { return Task<T>(deferred_); }
  std::suspend_never initial_suspend() noexcept { return {}; }  // runs at once, as inlineCallbacks
  void unhandled_exception() { this->outcome_.emplace(this->escaped()); }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    // Frees the frame first, then fires the Deferred: its callbacks run with the coroutine gone.
    void await_suspend(std::coroutine_handle<TaskPromise> frame) noexcept {
      TaskPromise& p = frame.promise();
      CoreRef core = DeferredAccess::take(p.deferred_);
      Result<T> outcome = std::move(*p.outcome_);
      core->clearCanceller();
      frame.destroy();
      finish(*core, std::move(outcome));
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  // A temporary (`co_await getPoem()`) gives its reference to the awaiter, which lets go of it
  // on suspending: the frame then holds nothing that keeps the awaited chain alive. A named
  // handle stays with its owner (co_await std::move(d) gives it away too).
  template <class U>
  DeferredAwaiter<U> await_transform(const Deferred<U>& d) {
    return DeferredAwaiter<U>(DeferredAccess::core(d), *this);
  }
  template <class U>
  DeferredAwaiter<U> await_transform(Deferred<U>&& d) {
    DeferredAccess::core(d);  // throws on a moved-from handle
    return DeferredAwaiter<U>(DeferredAccess::take(d), *this);
  }
  template <class U>
  DeferredAwaiter<U> await_transform(const Task<U>& task) {
    return DeferredAwaiter<U>(DeferredAccess::core(task.d_), *this);
  }
  template <class U>
  DeferredAwaiter<U> await_transform(Task<U>&& task) {
    return await_transform(std::move(task.d_));
  }
  template <class A>
  requires(!kIsDeferred<A> && !kIsTask<A>) std::suspend_never await_transform(A&&) {
    static_assert(kAlwaysFalse<A>, "a Task can co_await only a Deferred<T> or a Task<T>");
    return {};
  }

 private:
  static void finish(DeferredCore& core, Result<T> outcome) noexcept {
    if (outcome.failed()) {
      core.failOrReport(outcome.failure());
      return;
    }
    try {
      if (!core.beginFire(&typeid(T))) return;  // cancelled meanwhile: the value is dropped
    } catch (...) {
      return;  // fired by someone else: nothing is lost but this value
    }
    if constexpr (std::is_void_v<T>) {
      core.setNone();
    } else {
      try {
        core.template setValue<T>(std::move(outcome).value());
      } catch (...) {  // a T whose move throws
        core.setFailure(Failure(std::current_exception()));
      }
    }
    core.endFire();
  }

  Deferred<T> deferred_;
};

}  // namespace detail

/// A coroutine whose result is a Deferred<T> (Twisted's inlineCallbacks and ensureDeferred).
///
/// It starts at once and runs until its first co_await of a Deferred (or Task) that has not
/// fired. `co_await d` gives d's value or throws its failure's exception, and leaves d's chain
/// yielding nothing; `co_return v` fires the Task's Deferred with v, and an exception escaping
/// the coroutine errbacks it. Cancelling that Deferred cancels what the coroutine awaits, so
/// CancelledError is thrown at the co_await (the coroutine may catch it).
///
/// While suspended, the frame is owned by the awaited Deferred's chain: dropping every Task
/// handle does not stop the coroutine. If that chain is destroyed without firing, the frame is
/// destroyed with it (and the Task's Deferred never fires). A frame that itself holds a handle
/// to what it awaits (a named variable or parameter) keeps it alive, so such a coroutine waits
/// until the Deferred is fired or the Task cancelled; `co_await std::move(d)` lets go of it.
/// A coroutine lambda's captures live in the lambda object, not in the frame: pass what it
/// needs as parameters instead.
template <class T = void>
class Task {
 public:
  using promise_type = detail::TaskPromise<T>;

  /// The Deferred that fires with the coroutine's result.
  Deferred<T> deferred() const { return d_; }
  /// The same: a Task can be kept or returned as the Deferred it stands for.
  operator Deferred<T>() const { return d_; }

 private:
  template <class>
  friend class detail::TaskPromise;
  explicit Task(Deferred<T> d) : d_(std::move(d)) {}
  Deferred<T> d_;
};

/// The Deferred of a Task (Twisted's ensureDeferred): `ensureDeferred(getPoem(host))`.
template <class T>
Deferred<T> ensureDeferred(const Task<T>& task) {
  return task.deferred();
}
/// A Deferred is already one.
template <class T>
Deferred<T> ensureDeferred(Deferred<T> d) {
  return d;
}

}  // namespace spindle
