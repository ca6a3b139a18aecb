#include "spindle/log.hpp"

#include <atomic>
#include <cstdio>

namespace spindle::log {

namespace {

const char* levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warning";
    case Level::Error:
      return "error";
  }
  return "?";
}

void defaultSink(Level level, std::string_view message) {
  std::fprintf(stderr, "spindle: %s: %.*s\n", levelName(level), static_cast<int>(message.size()),
               message.data());
}

Sink& sink() {
  static Sink s = defaultSink;
  return s;
}

std::atomic<Level> threshold{Level::Info};

}  // namespace

Sink setSink(Sink s) {
  Sink old = std::move(sink());
  sink() = s ? std::move(s) : Sink(defaultSink);
  return old;
}

void setLevel(Level level) {
  threshold.store(level, std::memory_order_relaxed);
}

bool enabled(Level level) {
  return level >= threshold.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view message) {
  if (enabled(level)) sink()(level, message);
}

}  // namespace spindle::log
