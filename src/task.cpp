#include "spindle/task.hpp"

#include <cmath>

#include "spindle/failure.hpp"
#include "spindle/log.hpp"

namespace spindle {

LoopingCall::LoopingCall(IReactorTime& clock, std::function<void()> fn)
    : LoopingCall(
          clock, [f = std::move(fn)](std::int64_t) { f(); }, 0) {}

LoopingCall::LoopingCall(IReactorTime& clock, std::function<void(std::int64_t)> fn, int)
    : clock_(clock), fn_(std::move(fn)) {}

LoopingCall LoopingCall::withCount(IReactorTime& clock, std::function<void(std::int64_t)> fn) {
  return LoopingCall(clock, std::move(fn), 0);
}

LoopingCall::~LoopingCall() {
  if (call_.active()) call_.cancel();
}

void LoopingCall::start(double interval, bool now) {
  if (running_) throw Error("LoopingCall is already running");
  if (interval < 0) throw Error("LoopingCall interval must be >= 0");
  running_ = true;
  interval_ = interval;
  startTime_ = clock_.seconds();
  lastIndex_ = 0;
  calls_ = 0;
  skipped_ = 0;
  if (now) {
    // The first call counts as the one for interval 0.
    lastIndex_ = -1;
    call_ = clock_.callLater(0, [this] { fire(); });
  } else {
    scheduleAfter(0);
  }
}

void LoopingCall::stop() {
  if (!running_) throw Error("LoopingCall is not running");
  running_ = false;
  if (call_.active()) call_.cancel();
}

void LoopingCall::fire() {
  std::int64_t index = lastIndex_ + 1;
  if (interval_ > 0) {
    // Which interval boundary we are at, counted from the start: late calls skip ahead.
    double elapsed = clock_.seconds() - startTime_;
    index = std::max(index, static_cast<std::int64_t>(std::floor(elapsed / interval_ + 1e-9)));
  }
  std::int64_t count = index - lastIndex_;
  skipped_ += count - 1;
  lastIndex_ = index;
  ++calls_;
  try {
    fn_(count);
  } catch (...) {
    log::err("LoopingCall stopped by an error: {}", Failure(std::current_exception()).toString());
    running_ = false;
    return;
  }
  if (running_ && !call_.active()) scheduleAfter(index);
}

void LoopingCall::scheduleAfter(std::int64_t index) {
  double next = startTime_ + static_cast<double>(index + 1) * interval_;
  call_ = clock_.callLater(std::max(0.0, next - clock_.seconds()), [this] { fire(); });
}

}  // namespace spindle
