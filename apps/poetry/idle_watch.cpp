// The idle watch of the poetry servers: a sampling timer per connection.
#include "idle_watch.hpp"

#include <utility>

namespace poetry {

IdleWatch::IdleWatch(spindle::IReactorTime& time, std::function<bool()> moved,
                     std::function<void()> onIdle)
    : time_(time), moved_(std::move(moved)), onIdle_(std::move(onIdle)) {}

void IdleWatch::start(double timeout) {
  stop();
  timeout_ = timeout;
  quietLooks_ = 0;
  check_ = time_.callLater(timeout / kChecksPerTimeout, [this] { look(); });
}

void IdleWatch::touch() {
  if (!check_.active()) return;
  quietLooks_ = 0;
  // Restarting the period (not only the count) keeps "never before a whole timeout" exact.
  check_.reset(*timeout_ / kChecksPerTimeout);
}

void IdleWatch::stop() {
  if (check_.active()) check_.cancel();
}

void IdleWatch::look() {
  // Counting quiet looks rather than comparing times keeps the outcome free of rounding.
  quietLooks_ = moved_() ? 0 : quietLooks_ + 1;
  if (quietLooks_ >= kChecksPerTimeout) {
    onIdle_();  // it may start() the watch again, so nothing here runs after it
    return;
  }
  check_ = time_.callLater(*timeout_ / kChecksPerTimeout, [this] { look(); });
}

spindle::Failure dropIdle(spindle::Transport& transport, double seconds) {
  spindle::Failure why(spindle::IdleTimeoutError{seconds});
  if (transport.bufferedSize() == 0) {
    transport.loseConnection(why);
  } else {
    transport.abortConnection();
  }
  return why;
}

}  // namespace poetry
