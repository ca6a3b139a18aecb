// Leak checks for tests of connections that end, well or badly: descriptors open in the process
// and live protocols (so live transports, which own them) must come back to where they were.
// Memory is LeakSanitizer's job in the sanitizer build.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support.hpp"

namespace spindle::test {

/// Descriptors open in this process now.
inline int openFdCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

/// The descriptors and live Recorders at construction, to compare with later.
struct LeakBaseline {
  int fds = openFdCount();
  int protocols = Recorder::liveCount();

  /// Expects both to be back. Call it from a timed call after the last connectionLost: closed
  /// transports are freed at the end of the reactor step that delivered it, so by then.
  void expectNothingLeaked(const std::string& where = "") const {
    EXPECT_EQ(openFdCount(), fds) << "descriptors leaked " << where;
    EXPECT_EQ(Recorder::liveCount(), protocols) << "transports or protocols leaked " << where;
  }
};

}  // namespace spindle::test
