// Child processes for end-to-end tests, shared by the suites in tests/apps and tests/examples:
// spawned with stdout and stderr on pipes, read with poll() against deadlines (never by
// sleeping), and killed when the test ends. No helper sleeps: every wait is on an event (a byte,
// an EOF, an exit) and bounded by a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spindle::test {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

/// How long any single wait may take, unless told otherwise, before the test gives up on it.
inline constexpr Millis kWait = 5000ms;

/// A running program. Its stdin is /dev/null; its stdout and stderr are collected into out()
/// and err() while the test waits on it. The destructor kills (SIGKILL) and reaps it if it is
/// still running. Not thread-safe: use it from the test's thread only.
class Child {
 public:
  /// Starts argv[0] (a path) with `argv`; throws std::runtime_error when it cannot.
  explicit Child(std::vector<std::string> argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Collects output until `done()` is true, the process has exited and its pipes are drained,
  /// or `timeout` passes. Returns done().
  bool waitUntil(const std::function<bool()>& done, Millis timeout = kWait);
  /// Collects output until stdout contains `needle`; false on timeout or exit.
  bool waitForStdout(std::string_view needle, Millis timeout = kWait);
  /// Collects output until stderr contains `needle`; false on timeout or exit.
  bool waitForStderr(std::string_view needle, Millis timeout = kWait);
  /// Waits for the process to exit, collecting all its output. Returns its exit code (128 + the
  /// signal number when killed by a signal), or nullopt if it is still running after `timeout`.
  std::optional<int> wait(Millis timeout = kWait);

  /// Sends `sig` unless the process has already been reaped.
  void signal(int sig);
  bool exited() const noexcept { return status_.has_value(); }
  pid_t pid() const noexcept { return pid_; }
  const std::string& out() const noexcept { return out_; }
  const std::string& err() const noexcept { return err_; }

 private:
  // One poll() round of at most `until - now`: reads what is there, notices exit.
  void pump(std::chrono::steady_clock::time_point until);
  void reap();

  pid_t pid_ = -1;
  int outFd_ = -1, errFd_ = -1, pidFd_ = -1;
  std::string out_, err_;
  std::optional<int> status_;
};

/// A server child and the port from the first line it printed, "... on port N.".
struct ServerChild {
  std::unique_ptr<Child> child;
  int port = 0;
};

/// Starts `bin` with `args` and waits (bounded by kWait) for its first stdout line to end
/// "on port N."; fails the current test (and leaves port 0) if it does not come in time.
ServerChild spawnServer(const std::string& bin, std::vector<std::string> args = {});

/// Runs `bin` with `args` to its end, bounded by `timeout`; fails the current test if it
/// overran. Returns the child, exited unless it overran.
std::unique_ptr<Child> runToExit(const std::string& bin, std::vector<std::string> args,
                                 Millis timeout = kWait);

/// Milliseconds from now to `until`, clamped to [0, 60000]: a poll() timeout for a deadline.
int millisUntil(std::chrono::steady_clock::time_point until);
/// Throws std::runtime_error("<what>: <strerror(errno)>").
[[noreturn]] void throwErrno(const std::string& what);

/// A TCP port on 127.0.0.1 that nothing listens on: bound to learn a free port, then closed.
int closedPort();
/// True if this host can bind a socket to ::1.
bool ipv6LoopbackAvailable();
/// The contents of a file (throws std::runtime_error when unreadable).
std::string readFile(const std::string& path);

}  // namespace spindle::test
