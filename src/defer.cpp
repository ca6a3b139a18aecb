// The untyped engine of Deferred<T>: running a callback chain, pausing it on another Deferred,
// cancellation, and reporting errors nobody handled. The typed handles are in defer.hpp.
#include "spindle/detail/deferred_core.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "spindle/defer_list.hpp"
#include "spindle/log.hpp"

namespace spindle {

namespace {

std::string demangled(const std::type_info& type) {
  int status = 0;
  char* out = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = (status == 0 && out) ? out : type.name();
  std::free(out);
  return result;
}

std::string_view baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The chains being run by runCallbacks() on this thread, innermost last. A continuation pushes
// the chain it resumes instead of calling into it, so a long line of Deferreds each waiting on
// the next unwinds in a loop, not in as many nested calls (Twisted does the same).
std::vector<detail::CoreRef>& runStack() {
  thread_local std::vector<detail::CoreRef> stack;
  return stack;
}

}  // namespace

namespace detail {

void logUnhandled(const Failure& failure, std::string_view note) noexcept {
  try {
    const std::source_location& at = failure.where();
    if (at.line() == 0) {
      log::err("Unhandled error in Deferred{}: {}", note, failure.toString());
    } else {
      log::err("Unhandled error in Deferred{}: {} (from {}:{} in {})", note, failure.toString(),
               baseName(at.file_name()), at.line(), at.function_name());
    }
  } catch (...) {
    // Nothing sensible is left to do with an error from the log itself.
  }
}

CoreRef DeferredCore::create(const std::type_info& type) {
  return CoreRef::adopt(new DeferredCore(type));
}

void DeferredCore::throwStale(const std::type_info& type, std::string_view operation) const {
  throw std::logic_error(std::string(operation) + " through a Deferred<" + demangled(type) +
                         ">, but this chain now yields " + demangled(*tail_) +
                         ": use the Deferred returned by the last addCallback (or the like)");
}

void DeferredCore::release() noexcept {
  // The extra weak reference keeps the memory while dispose() runs code that may drop others.
  ++weak_;
  dispose();
  weakUnref();
}

void DeferredCore::dispose() noexcept {
  if (failure_) logUnhandled(*failure_);
  // Take everything out first: destroying links and canceller may run any code (a coroutine
  // frame's destructors), which must find this chain already empty.
  std::vector<Link> links = std::move(links_);
  links_.clear();
  Box canceller = std::move(canceller_);
  cancelFn_ = nullptr;
  value_.reset();
  failure_.reset();
  waitingOn_.reset();
}

bool DeferredCore::beginFire(const std::type_info* valueType) {
  if (called_) {
    if (suppressAlreadyCalled_) {
      suppressAlreadyCalled_ = false;
      return false;
    }
    throw AlreadyCalled("Deferred has already fired: callback() or errback() called twice");
  }
  if (valueType && *valueType != *head_) {
    throw std::logic_error("callback() with a " + demangled(*valueType) +
                           " on a chain that starts with " + demangled(*head_) +
                           ": fire the Deferred that was created, not one addCallback returned");
  }
  called_ = true;
  return true;
}

void DeferredCore::endFire() {
  CoreRef keep(this);
  // The canceller can no longer be called; free it (and what it holds) after the chain ran.
  cancelFn_ = nullptr;
  Box canceller = std::move(canceller_);
  runCallbacks();
}

void DeferredCore::fail(Failure f) {
  if (!beginFire(nullptr)) {
    // The producer's own error is news; its echo of the cancellation is not.
    if (!f.check<CancelledError>()) {
      logUnhandled(f, " (it arrived after the Deferred was cancelled)");
    }
    return;
  }
  setFailure(std::move(f));
  endFire();
}

void DeferredCore::failOrReport(Failure f) noexcept {
  if (called_ && !suppressAlreadyCalled_) {
    logUnhandled(f, " (it arrived after the Deferred had already fired)");
    return;
  }
  fail(std::move(f));
}

void DeferredCore::addLink(Link link) {
  links_.push_back(std::move(link));
  runCallbacks();
}

void DeferredCore::runCallbacks() {
  if (!ready()) return;
  std::vector<CoreRef>& stack = runStack();
  const std::size_t base = stack.size();
  running_ = true;
  stack.emplace_back(this);
  while (stack.size() > base) {
    DeferredCore& current = *stack.back();
    if (!current.runLinks(stack)) continue;  // it pushed the chain it handed its result to
    current.running_ = false;
    if (current.next_ == current.links_.size()) {
      current.links_.clear();
      current.next_ = 0;
    }
    // Pop before the reference goes: dropping it may run code that uses the stack.
    CoreRef done = std::move(stack.back());
    stack.pop_back();
  }
}

// Runs links until the chain ends or pauses (true), or until a continuation hands the result
// to a waiting chain, which it pushes on the stack to run first (false).
bool DeferredCore::runLinks(std::vector<CoreRef>& stack) {
  while (next_ < links_.size()) {
    // Moved out first: the function may add links to this chain, reallocating links_.
    Link link = std::move(links_[next_++]);
    if (!link.call) {
      CoreRef waiting = std::move(link.fn.get<CoreRef>());
      waiting->takeResultFrom(*this);
      waiting->paused_ = false;
      waiting->waitingOn_.reset();
      waiting->running_ = true;
      stack.push_back(std::move(waiting));
      return false;
    }
    if (!(link.runs & (failed() ? kOnFailure : kOnValue))) continue;
    CoreRef inner = link.call(link.fn, *this, link.where);
    if (inner && waitFor(std::move(inner))) return true;
  }
  return true;
}

// A callback returned `inner`: take its result now if it has one, else pause until it fires.
// Either way its result moves here, so its own chain yields nothing afterwards.
bool DeferredCore::waitFor(CoreRef inner) {
  if (inner.get() == this) {
    setFailure(Failure(std::logic_error("a callback returned the Deferred it was added to")));
    return false;
  }
  inner->setTail(typeid(void));
  if (inner->ready()) {
    takeResultFrom(*inner);
    return false;
  }
  setNone();  // a paused chain holds no result: not even the failure an errback recovered from
  paused_ = true;
  waitingOn_ = CoreWeakRef(inner.get());
  Link continuation;
  continuation.fn.emplace<CoreRef>(this);
  inner->links_.push_back(std::move(continuation));
  return true;
}

void DeferredCore::takeResultFrom(DeferredCore& other) noexcept {
  value_ = std::move(other.value_);
  failure_ = std::move(other.failure_);
  other.failure_.reset();
}

void DeferredCore::cancel(const std::source_location& where) {
  CoreRef keep(this);
  if (called_) {
    if (paused_) {
      if (CoreRef inner = waitingOn_.lock()) inner->cancel(where);
    }
    return;
  }
  if (CancelFn fn = std::exchange(cancelFn_, nullptr)) {
    // Moved out: the canceller may fire this chain, which would otherwise free it mid-call.
    Box canceller = std::move(canceller_);
    try {
      fn(canceller, *this, where);
    } catch (...) {
      if (!called_) {
        // The canceller's error replaces CancelledError, so it is not lost.
        suppressAlreadyCalled_ = true;
        fail(Failure(std::current_exception(), where));
        return;
      }
      logUnhandled(Failure(std::current_exception(), where), " (thrown by a canceller)");
    }
  }
  if (!called_) {
    // The producer does not know: its one later callback()/errback() must not throw.
    suppressAlreadyCalled_ = true;
    fail(Failure(CancelledError(), where));
  }
}

}  // namespace detail

FirstError::FirstError(Failure subFailure, std::size_t index)
    : Error("FirstError[#" + std::to_string(index) + ", " + subFailure.toString() + "]"),
      subFailure_(std::move(subFailure)),
      index_(index) {}

AllFailedError::AllFailedError(std::vector<Failure> failures)
    : Error(failures.empty()
                ? std::string("No Deferred to succeed: the list was empty")
                : "None of " + std::to_string(failures.size()) +
                      " Deferreds succeeded; the first failed with " + failures.front().toString()),
      failures_(std::move(failures)) {}

}  // namespace spindle
