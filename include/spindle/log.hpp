// The library's log: where spindle reports errors it handled for you (a callback that threw,
// an accept that failed). Programs and tests may redirect it.
#pragma once

#include <functional>
#include <string_view>

#include <fmt/format.h>

namespace spindle::log {

enum class Level { Debug, Info, Warn, Error };

/// Receives every message at or above the threshold. Called on the thread that logs.
using Sink = std::function<void(Level, std::string_view message)>;

/// Replaces the sink (the default writes "spindle: LEVEL: message" lines to stderr).
/// Returns the previous sink so a test can restore it. Not thread-safe against concurrent logging.
Sink setSink(Sink sink);
/// Messages below `level` are dropped (default Info).
void setLevel(Level level);
bool enabled(Level level);

void write(Level level, std::string_view message);

template <class... Args>
void msg(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
}

template <class... Args>
void err(fmt::format_string<Args...> format, Args&&... args) {
  msg(Level::Error, format, std::forward<Args>(args)...);
}

template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  msg(Level::Info, format, std::forward<Args>(args)...);
}

}  // namespace spindle::log
