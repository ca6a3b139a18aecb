// Internal: the untyped shared state behind every Deferred<T> handle, and the small tools it is
// built from. The public templates (defer.hpp, defer_list.hpp, coroutine.hpp) need it; programs
// should not use it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <source_location>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "spindle/failure.hpp"

namespace spindle::detail {

/// Storage for one movable object of any type: inline when it is small and cannot throw on
/// move, on the heap otherwise. It moves without copying, so it holds move-only values and
/// callables (a coroutine frame's owner) that std::any and std::function cannot.
class Box {
 public:
  Box() noexcept = default;
  Box(Box&& other) noexcept { other.moveTo(*this); }
  Box& operator=(Box&& other) noexcept {
    if (this != &other) {
      reset();
      other.moveTo(*this);
    }
    return *this;
  }
  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;
  ~Box() { reset(); }

  /// Destroys what the box held and constructs a V in it.
  template <class V, class... Args>
  V& emplace(Args&&... args) {
    reset();
    V* made;
    if constexpr (kInline<V>) {
      made = ::new (static_cast<void*>(buf_)) V(std::forward<Args>(args)...);
    } else {
      made = new V(std::forward<Args>(args)...);
      ::new (static_cast<void*>(buf_)) V*(made);
    }
    ops_ = &kOps<V>;
    return *made;
  }
  /// The held object; the caller knows it is a V.
  template <class V>
  V& get() noexcept {
    if constexpr (kInline<V>) {
      return *std::launder(reinterpret_cast<V*>(buf_));
    } else {
      return **std::launder(reinterpret_cast<V**>(buf_));
    }
  }
  bool empty() const noexcept { return ops_ == nullptr; }
  /// Destroys the held object, if any. The box is empty before that destructor runs.
  void reset() noexcept {
    if (const Ops* ops = std::exchange(ops_, nullptr)) ops->destroy(buf_);
  }

 private:
  static constexpr std::size_t kSize = 32;
  template <class V>
  static constexpr bool kInline =
      sizeof(V) <= kSize && alignof(V) <= alignof(void*) && std::is_nothrow_move_constructible_v<V>;
  struct Ops {
    void (*destroy)(unsigned char* buf) noexcept;
    void (*relocate)(unsigned char* from, unsigned char* to) noexcept;
  };
  template <class V>
  static void destroyAt(unsigned char* buf) noexcept {
    if constexpr (kInline<V>) {
      std::launder(reinterpret_cast<V*>(buf))->~V();
    } else {
      delete *std::launder(reinterpret_cast<V**>(buf));
    }
  }
  template <class V>
  static void relocateTo(unsigned char* from, unsigned char* to) noexcept {
    if constexpr (kInline<V>) {
      V* src = std::launder(reinterpret_cast<V*>(from));
      ::new (static_cast<void*>(to)) V(std::move(*src));
      src->~V();
    } else {
      ::new (static_cast<void*>(to)) V*(*std::launder(reinterpret_cast<V**>(from)));
    }
  }
  template <class V>
  static constexpr Ops kOps{&destroyAt<V>, &relocateTo<V>};

  void moveTo(Box& to) noexcept {
    if (ops_) {
      ops_->relocate(buf_, to.buf_);
      to.ops_ = std::exchange(ops_, nullptr);
    }
  }

  alignas(void*) unsigned char buf_[kSize];
  const Ops* ops_ = nullptr;
};

class DeferredCore;

/// A counted reference to a DeferredCore (single-threaded: the counts are plain integers).
class CoreRef {
 public:
  CoreRef() noexcept = default;
  /// Adds a reference to `core`.
  explicit CoreRef(DeferredCore* core) noexcept;
  CoreRef(const CoreRef& other) noexcept : CoreRef(other.p_) {}
  CoreRef(CoreRef&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  CoreRef& operator=(CoreRef other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~CoreRef() { reset(); }
  /// Drops the reference. The pointer is cleared first: the core's disposal may run any code.
  void reset() noexcept;
  /// Takes over a reference the caller already counted.
  static CoreRef adopt(DeferredCore* core) noexcept {
    CoreRef r;
    r.p_ = core;
    return r;
  }
  DeferredCore* get() const noexcept { return p_; }
  DeferredCore* operator->() const noexcept { return p_; }
  DeferredCore& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  DeferredCore* p_ = nullptr;
};

/// A reference that does not keep the core's chain alive: lock() fails once the last CoreRef
/// is gone. Used wherever a strong one would make a cycle (cancellation paths).
class CoreWeakRef {
 public:
  CoreWeakRef() noexcept = default;
  explicit CoreWeakRef(DeferredCore* core) noexcept;
  CoreWeakRef(const CoreWeakRef& other) noexcept : CoreWeakRef(other.p_) {}
  CoreWeakRef(CoreWeakRef&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  CoreWeakRef& operator=(CoreWeakRef other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~CoreWeakRef() { reset(); }
  void reset() noexcept;
  /// A strong reference, or an empty one if the core's chain is gone.
  CoreRef lock() const noexcept;

 private:
  DeferredCore* p_ = nullptr;
};

/// Which results a link runs on.
enum LinkRuns : std::uint8_t { kOnValue = 1, kOnFailure = 2, kOnBoth = 3 };

/// One step of a callback chain: a stored function and the code that applies it to the core's
/// current result.
struct Link {
  /// Applies `fn` to `core`'s result, replacing it. Never throws: exceptions become the new
  /// result. Returns the Deferred the chain must wait for when `fn` returned one.
  using Call = CoreRef (*)(Box& fn, DeferredCore& core, const std::source_location& where);

  Box fn;
  /// Null for a continuation: `fn` then holds a CoreRef to a chain waiting for this one.
  Call call = nullptr;
  /// Where the function was added, reported as the origin of what it throws.
  std::source_location where;
  std::uint8_t runs = kOnBoth;
};

/// The state of one callback chain: the current result (a value, a Failure, or nothing yet),
/// the links still to run, and the canceller. Every Deferred<T> handle on a chain shares one.
///
/// Types are checked at run time at the two ends of the chain: the *head* type is what
/// callback() must be given, the *tail* type is what the last added link produces, so a handle
/// whose static type no longer matches (it was kept across a callback that changed the type)
/// is refused with std::logic_error instead of misreading the stored value.
class DeferredCore {
 public:
  /// A new, unfired chain whose head and tail type are `type`.
  static CoreRef create(const std::type_info& type);
  DeferredCore(const DeferredCore&) = delete;
  DeferredCore& operator=(const DeferredCore&) = delete;

  void ref() noexcept { ++strong_; }
  void unref() noexcept {
    if (--strong_ == 0) release();
  }
  void weakRef() noexcept { ++weak_; }
  void weakUnref() noexcept {
    if (--weak_ == 0 && strong_ == 0) delete this;
  }
  bool alive() const noexcept { return strong_ > 0; }

  // --- The result, read and written by the typed links. -----------------------------------
  /// callback() or errback() has been called (Twisted's `called`).
  bool called() const noexcept { return called_; }
  /// The current result is there to take: fired, not waiting on another chain, not running.
  bool ready() const noexcept { return called_ && !paused_ && !running_; }
  bool failed() const noexcept { return failure_.has_value(); }
  Failure& failure() noexcept { return *failure_; }
  template <class V>
  V& value() noexcept {
    return value_.get<V>();
  }
  template <class V, class... Args>
  void setValue(Args&&... args) {
    failure_.reset();
    value_.emplace<V>(std::forward<Args>(args)...);
  }
  /// The result becomes "nothing" (Twisted's None): a Deferred<void>'s value.
  void setNone() noexcept {
    failure_.reset();
    value_.reset();
  }
  void setFailure(Failure f) noexcept {
    value_.reset();
    failure_ = std::move(f);
  }

  // --- Types at both ends of the chain. -----------------------------------------------------
  /// Throws std::logic_error unless the chain's last link produces `type`.
  void expectTail(const std::type_info& type, std::string_view operation) const {
    if (*tail_ != type) throwStale(type, operation);
  }
  void setTail(const std::type_info& type) noexcept { tail_ = &type; }

  // --- Firing and running. ------------------------------------------------------------------
  /// Starts callback() (`valueType` set) or errback() (null). Throws AlreadyCalled if the chain
  /// has fired, except once after cancel() fired it: then returns false and the caller drops
  /// its result. Throws std::logic_error if `valueType` is not the head type.
  bool beginFire(const std::type_info* valueType);
  /// Finishes a fire begun by beginFire() once the result is set: runs the chain.
  void endFire();
  /// errback(): fires with `f`, or reports it if it arrives after a cancel() fired the chain.
  void fail(Failure f);
  /// Fires with `f` or, if the chain already fired, logs `f` instead of throwing.
  void failOrReport(Failure f) noexcept;
  /// Appends a link; runs it at once if the result is ready.
  void addLink(Link link);
  /// Runs the links that can run now (Twisted's _runCallbacks); safe to call at any time.
  void runCallbacks();

  // --- Cancellation. ------------------------------------------------------------------------
  using CancelFn = void (*)(Box& canceller, DeferredCore& core, const std::source_location& where);
  template <class F>
  void setCanceller(F f) {
    canceller_.emplace<F>(std::move(f));
    cancelFn_ = [](Box& box, DeferredCore& core, const std::source_location& where) {
      box.get<F>()(core, where);
    };
  }
  void clearCanceller() noexcept {
    cancelFn_ = nullptr;
    canceller_.reset();
  }
  /// Twisted's cancel(): the canceller, then CancelledError if still unfired; or, while the
  /// chain waits on another Deferred, cancels that one.
  void cancel(const std::source_location& where);

 private:
  explicit DeferredCore(const std::type_info& type) : head_(&type), tail_(&type) {}
  ~DeferredCore() = default;
  friend class CoreWeakRef;

  [[noreturn]] void throwStale(const std::type_info& type, std::string_view operation) const;
  void release() noexcept;
  void dispose() noexcept;
  bool runLinks(std::vector<CoreRef>& stack);
  bool waitFor(CoreRef inner);
  void takeResultFrom(DeferredCore& other) noexcept;

  std::uint32_t strong_ = 1;
  std::uint32_t weak_ = 0;
  bool called_ = false;
  bool paused_ = false;   // waiting for the Deferred a callback returned
  bool running_ = false;  // on the run stack of runCallbacks()
  bool suppressAlreadyCalled_ = false;
  const std::type_info* head_;
  const std::type_info* tail_;
  Box value_;
  std::optional<Failure> failure_;
  CoreWeakRef waitingOn_;  // what a paused chain waits for, to pass cancel() on
  CancelFn cancelFn_ = nullptr;
  Box canceller_;
  std::vector<Link> links_;
  std::size_t next_ = 0;  // links_[0, next_) have run
};

inline CoreRef::CoreRef(DeferredCore* core) noexcept : p_(core) {
  if (p_) p_->ref();
}
inline void CoreRef::reset() noexcept {
  if (DeferredCore* p = std::exchange(p_, nullptr)) p->unref();
}
inline CoreWeakRef::CoreWeakRef(DeferredCore* core) noexcept : p_(core) {
  if (p_) p_->weakRef();
}
inline void CoreWeakRef::reset() noexcept {
  if (DeferredCore* p = std::exchange(p_, nullptr)) p->weakUnref();
}
inline CoreRef CoreWeakRef::lock() const noexcept {
  return p_ && p_->alive() ? CoreRef(p_) : CoreRef();
}

/// Logs "Unhandled error in Deferred<note>: Type: message (at file:line in function)".
void logUnhandled(const Failure& failure, std::string_view note = {}) noexcept;

}  // namespace spindle::detail
