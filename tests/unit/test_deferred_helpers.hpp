// Helpers for the tests of Deferreds and Tasks: trial-style result checks and a log capture.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/defer.hpp"
#include "spindle/log.hpp"

namespace spindle::testing {

/// Captures what spindle logs at Error level while it lives.
class ErrorLog {
 public:
  ErrorLog() {
    previous_ = log::setSink([this](log::Level level, std::string_view message) {
      if (level == log::Level::Error) lines.emplace_back(message);
    });
  }
  ~ErrorLog() { log::setSink(std::move(previous_)); }
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  /// How many lines report an unhandled error in a Deferred.
  std::size_t unhandled() const {
    std::size_t n = 0;
    for (const auto& l : lines)
      n += l.find("Unhandled error in Deferred") != std::string::npos;
    return n;
  }

  std::vector<std::string> lines;

 private:
  log::Sink previous_;
};

/// The value `d` has fired with; takes it out of the chain (Twisted's successResultOf). Fails
/// the test if `d` has no result or failed.
template <class T>
T successResultOf(Deferred<T> d) {
  auto got = std::make_shared<std::optional<Result<T>>>();
  d.addBoth([got](Result<T> r) { got->emplace(std::move(r)); });
  if (!*got) throw std::runtime_error("successResultOf: the Deferred has no result");
  if ((*got)->failed()) {
    throw std::runtime_error("successResultOf: the Deferred failed with " +
                             (*got)->failure().toString());
  }
  return std::move(**got).value();
}

/// The Failure `d` has fired with; takes it out of the chain (Twisted's failureResultOf).
template <class T>
Failure failureResultOf(Deferred<T> d) {
  auto got = std::make_shared<std::optional<Result<T>>>();
  d.addBoth([got](Result<T> r) { got->emplace(std::move(r)); });
  if (!*got) throw std::runtime_error("failureResultOf: the Deferred has no result");
  if ((*got)->succeeded()) throw std::runtime_error("failureResultOf: the Deferred succeeded");
  return (*got)->failure();
}

/// True if `d` has a result ready (fired and not waiting); leaves the chain as it was.
template <class T>
bool hasResult(Deferred<T> d) {
  auto seen = std::make_shared<bool>(false);
  d.addBoth([seen](Result<T> r) {
    *seen = true;
    return r;
  });
  return *seen;
}

}  // namespace spindle::testing
