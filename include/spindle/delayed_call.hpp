// Timed calls: DelayedCall (a handle on one scheduled call) and IReactorTime (who schedules them).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace spindle {

namespace detail {
struct TimerEntry;
class TimerQueue;
}  // namespace detail

/// A handle on a call scheduled with callLater, as Twisted's DelayedCall.
///
/// Handles are cheap to copy; all copies refer to the same call. Dropping every handle does not
/// cancel the call. cancel/reset/delay on a call that already ran throw AlreadyCalled, on one
/// that was cancelled AlreadyCancelled. Use from the thread that runs the reactor (or clock).
class DelayedCall {
 public:
  /// An empty handle: active() is false, and cancel() throws AlreadyCancelled.
  DelayedCall() = default;

  /// Unschedules the call; it will never run.
  void cancel();
  /// Reschedules the call to run `secondsFromNow` from now. It then runs after every call
  /// already due at the same time (it counts as scheduled anew).
  void reset(double secondsFromNow);
  /// Moves the call `secondsLater` later (negative moves it earlier), counted as scheduled anew.
  void delay(double secondsLater);
  /// True while the call is scheduled: not yet run and not cancelled.
  bool active() const noexcept;
  bool called() const noexcept;
  bool cancelled() const noexcept;
  /// The time, on the scheduler's clock (IReactorTime::seconds), at which the call will run.
  double getTime() const;

  explicit operator bool() const noexcept { return active(); }

 private:
  friend class detail::TimerQueue;
  explicit DelayedCall(std::shared_ptr<detail::TimerEntry> entry) : entry_(std::move(entry)) {}
  std::shared_ptr<detail::TimerEntry> entry_;
};

/// Anything that can schedule calls in time: the Reactor, or testing::Clock in tests.
/// Protocols that need timeouts take an IReactorTime& so tests can drive them with a fake clock.
class IReactorTime {
 public:
  virtual ~IReactorTime() = default;

  /// The current time in seconds on a monotonic clock (its origin is unspecified).
  virtual double seconds() const = 0;
  /// Schedules `fn` to run once, `delay` seconds from now (negative counts as 0).
  /// Calls run in order of their time; calls due at the same time run in the order scheduled.
  /// A call scheduled while calls are running, even with delay 0, runs in a later pass.
  virtual DelayedCall callLater(double delay, std::function<void()> fn) = 0;
  /// Every call still scheduled, soonest first.
  virtual std::vector<DelayedCall> getDelayedCalls() const = 0;

  template <class Rep, class Period>
  DelayedCall callLater(std::chrono::duration<Rep, Period> delay, std::function<void()> fn) {
    return callLater(std::chrono::duration<double>(delay).count(), std::move(fn));
  }
};

}  // namespace spindle
