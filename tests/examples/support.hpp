// Helpers for the examples' end-to-end tests: servers and clients run as child processes (on the
// shared spindle::test::Child, read with poll() against deadlines), and raw loopback TCP peers.
// No helper sleeps: every wait is on an event (a byte, an EOF, an exit) and bounded by a timeout.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/child_process.hpp"

namespace examples_test {

using namespace std::chrono_literals;
using spindle::test::Child;
using spindle::test::closedPort;
using spindle::test::ipv6LoopbackAvailable;
using spindle::test::kWait;
using spindle::test::Millis;
using spindle::test::readFile;

/// A server child and the port from its "... on port N." line. When it goes out of scope a
/// server still running is stopped with SIGTERM and must exit 0 (the sanitizers' leak check
/// runs then); whatever the child wrote must hold no sanitizer report.
struct Server : spindle::test::ServerChild {
  Server() = default;
  explicit Server(spindle::test::ServerChild&& started) : ServerChild(std::move(started)) {}
  Server(Server&&) = default;
  Server& operator=(Server&&) = default;
  ~Server();
};

/// Starts `bin` with `args` and waits for the line ending "on port N."; fails the current test
/// (port 0) if it does not come in time.
Server startServer(const std::string& bin, std::vector<std::string> args = {});

/// Fails the current test if `child` reported a sanitizer error on stderr.
void expectNoSanitizerReport(const Child& child);

/// Runs `bin` with `args` to its end (bounded): the child, exited unless it overran.
std::unique_ptr<Child> run(const std::string& bin, std::vector<std::string> args,
                           Millis timeout = kWait);

/// A raw TCP client on loopback, for playing the peer of a server under test.
class Peer {
 public:
  /// Connects to `host`:`port` (blocking connect to loopback); throws on failure.
  explicit Peer(int port, const std::string& host = "127.0.0.1");
  /// Takes over a connected socket (from RawListener::accept).
  static std::unique_ptr<Peer> adopt(int fd);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  /// Sends all of `data`.
  void send(std::string_view data);
  /// Reads until `done(received())` holds, EOF, or `timeout`. Returns done(...).
  bool readUntil(const std::function<bool(const std::string&)>& done, Millis timeout = kWait);
  /// Reads until received() contains `needle`.
  bool readUntilContains(std::string_view needle, Millis timeout = kWait);
  /// Reads until the peer closes (EOF or reset); false on timeout.
  bool readUntilEof(Millis timeout = kWait);
  /// Pops the next complete "\n"-terminated line (without "\n"), reading up to `timeout`.
  std::optional<std::string> nextLine(Millis timeout = kWait);

  /// Closes the socket now.
  void close();

  const std::string& received() const noexcept { return in_; }
  bool eof() const noexcept { return eof_; }
  int fd() const noexcept { return fd_; }

 private:
  Peer() = default;
  // One poll() + read of at most `until - now`; false when nothing more can come.
  bool pump(std::chrono::steady_clock::time_point until);
  int fd_ = -1;
  std::string in_;
  std::size_t lineStart_ = 0;
  bool eof_ = false;
};

/// A loopback listening socket in the test process, to play a misbehaving server.
class RawListener {
 public:
  RawListener();
  ~RawListener();
  int port() const noexcept { return port_; }
  /// Accepts one connection (bounded wait); nullptr on timeout.
  std::unique_ptr<Peer> accept(Millis timeout = kWait);

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace examples_test
