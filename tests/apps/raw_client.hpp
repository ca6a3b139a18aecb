// A raw TCP client of 127.0.0.1 for the servers' end-to-end tests: it can send a request in
// pieces, read with bounded waits (poll against a deadline, never a sleep), or not read at all.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "support/child_process.hpp"

namespace poetry_test {

/// One connection to 127.0.0.1. Not thread-safe; closed when destroyed.
class RawClient {
 public:
  /// Connects (blocking, to loopback) to `port`. `receiveBuffer`, when given, is set with
  /// SO_RCVBUF before connecting, so the window the server sees is small from the start.
  /// Throws std::runtime_error when it cannot connect.
  explicit RawClient(int port, std::optional<int> receiveBuffer = std::nullopt);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends all of `data` (blocking); false if the connection is gone.
  bool send(std::string_view data);
  /// Reads until the server closes (EOF or reset: true) or `timeout` passes (false).
  bool readUntilClosed(spindle::test::Millis timeout = spindle::test::kWait);
  /// Reads until at least `n` bytes arrived (true), the server closed, or `timeout` passed.
  bool readAtLeast(std::size_t n, spindle::test::Millis timeout = spindle::test::kWait);

  const std::string& received() const noexcept { return in_; }
  /// True once EOF or a reset was read.
  bool closed() const noexcept { return closed_; }
  /// This end's port, as the server names the client in its logs.
  int localPort() const noexcept { return localPort_; }

 private:
  // One poll() and read of at most `until - now`; false when nothing more can come.
  bool pump(std::chrono::steady_clock::time_point until);

  int fd_ = -1;
  int localPort_ = 0;
  std::string in_;
  bool closed_ = false;
};

/// `data` as a netstring: `LEN:DATA,`.
std::string netstring(std::string_view data);

}  // namespace poetry_test
