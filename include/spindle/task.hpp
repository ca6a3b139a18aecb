// Scheduling helpers built on IReactorTime (Twisted's twisted.internet.task).
#pragma once

#include <cstdint>
#include <functional>

#include "spindle/delayed_call.hpp"

namespace spindle {

/// Calls a function every `interval` seconds (Twisted's LoopingCall).
///
/// Calls are scheduled from the start time, not from when the last one ended, so they do not
/// drift. When a call overruns one or more intervals, the missed ones are skipped, not stacked:
/// the next call comes at the next interval boundary, and the function made withCount learns
/// how many intervals passed. If the function throws, the loop logs the error and stops.
/// Stopping (or destroying) the LoopingCall cancels the pending call.
class LoopingCall {
 public:
  LoopingCall(IReactorTime& clock, std::function<void()> fn);
  /// A loop whose function gets the number of intervals since its previous call (1 unless
  /// some were skipped).
  static LoopingCall withCount(IReactorTime& clock, std::function<void(std::int64_t count)> fn);
  ~LoopingCall();
  LoopingCall(const LoopingCall&) = delete;
  LoopingCall& operator=(const LoopingCall&) = delete;
  LoopingCall(LoopingCall&&) = delete;

  /// Starts calling every `interval` seconds (>= 0), the first call now unless `now` is false.
  /// Throws Error if already running or if interval is negative.
  void start(double interval, bool now = true);
  /// Stops; throws Error if not running.
  void stop();
  bool running() const noexcept { return running_; }
  double interval() const noexcept { return interval_; }
  /// Calls made since start().
  std::int64_t callCount() const noexcept { return calls_; }
  /// Intervals skipped since start() because a call overran.
  std::int64_t skippedCount() const noexcept { return skipped_; }

 private:
  LoopingCall(IReactorTime& clock, std::function<void(std::int64_t)> fn, int);
  void fire();
  void scheduleAfter(std::int64_t index);

  IReactorTime& clock_;
  std::function<void(std::int64_t)> fn_;
  double interval_ = 0;
  double startTime_ = 0;
  std::int64_t lastIndex_ = 0;
  std::int64_t calls_ = 0;
  std::int64_t skipped_ = 0;
  bool running_ = false;
  DelayedCall call_;
};

}  // namespace spindle
