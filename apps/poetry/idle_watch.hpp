// Idle clients of the poetry servers: a watch that notices a connection making no progress, and
// the way such a connection is dropped.
#pragma once

#include <functional>
#include <optional>

#include <spindle/spindle.hpp>

namespace poetry {

/// Calls `onIdle` once a connection has made no progress for a whole timeout.
///
/// Nothing is counted per byte: a timer looks kChecksPerTimeout times per timeout and asks
/// `moved()` whether the connection got anywhere since its last look (the protocol compares its
/// own counters), and touch() reports progress seen at a known moment (a producer resumed).
/// onIdle runs once kChecksPerTimeout looks in a row saw nothing: between `timeout` and
/// `timeout × (1 + 1/kChecksPerTimeout)` seconds after the last progress, never earlier.
/// The watch stops after onIdle, on stop() and when destroyed.
class IdleWatch {
 public:
  static constexpr int kChecksPerTimeout = 4;

  IdleWatch(spindle::IReactorTime& time, std::function<bool()> moved, std::function<void()> onIdle);
  ~IdleWatch() { stop(); }
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  /// Starts (or restarts) watching with `timeout` seconds (> 0), as if progress was just seen.
  void start(double timeout);
  /// Progress was seen now: the countdown starts over. No effect when not watching.
  void touch();
  /// Stops watching; onIdle will not run. Idempotent.
  void stop();
  /// True between start() and stop() or onIdle.
  bool watching() const noexcept { return check_.active(); }
  /// The timeout given to the last start(), if any.
  std::optional<double> timeout() const noexcept { return timeout_; }

 private:
  void look();

  spindle::IReactorTime& time_;
  std::function<bool()> moved_;
  std::function<void()> onIdle_;
  std::optional<double> timeout_;
  spindle::DelayedCall check_;
  int quietLooks_ = 0;
};

/// Closes `transport` because its peer made no progress for `seconds`, and returns the
/// IdleTimeoutError to report. With nothing buffered the close is clean and its reason is that
/// error; with bytes buffered it is abortConnection() (the protocol then hears
/// ConnectionAborted), because a peer that takes no bytes would hold a clean close open forever.
spindle::Failure dropIdle(spindle::Transport& transport, double seconds);

}  // namespace poetry
