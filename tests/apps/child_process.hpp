// Child processes for end-to-end tests: spawned with their stdout and stderr on pipes, read with
// poll() against deadlines (never by sleeping), and killed when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poetry_test {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

/// A running program. Its stdin is /dev/null; its output is collected into out() and err()
/// while the test waits on it. The destructor kills (SIGKILL) and reaps it if still running.
class Child {
 public:
  /// Starts argv[0] (a path) with `argv`; throws std::runtime_error when it cannot.
  explicit Child(std::vector<std::string> argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Collects output until `done()` is true, the process has exited and its pipes are drained,
  /// or `timeout` passes. Returns done().
  bool waitUntil(const std::function<bool()>& done, Millis timeout);
  /// Collects output until stdout contains `needle`; false on timeout or exit.
  bool waitForStdout(std::string_view needle, Millis timeout);
  /// Waits for the process to exit, collecting all its output. Returns its exit code (128 + the
  /// signal number when killed by a signal), or nullopt if it is still running after `timeout`.
  std::optional<int> wait(Millis timeout);

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

/// A poetry-server child and the port it listens on.
struct Server {
  std::unique_ptr<Child> child;
  int port = 0;
};

/// Starts poetry-server with `args` and waits (bounded) for its "on port N." line.
/// Fails the current test (and returns port 0) when it does not come.
Server startServer(std::vector<std::string> args);

/// Runs get-poetry with `args` to completion (bounded by `timeout`).
std::unique_ptr<Child> runClient(std::vector<std::string> args, Millis timeout = 8000ms);

/// A TCP port on 127.0.0.1 that nothing listens on: bound to learn a free port, then closed.
int closedPort();
/// True if this host can bind a socket to ::1.
bool ipv6LoopbackAvailable();

/// The contents of a file (throws std::runtime_error when unreadable).
std::string readFile(const std::string& path);
/// The path of a poem shipped in poetry/.
std::string poemPath(std::string_view name);
/// Lines of `text` that contain `needle`.
std::vector<std::string> linesWith(const std::string& text, std::string_view needle);
/// UTF-8 code points in `text`, counted independently of the library under test.
std::size_t utf8Length(std::string_view text);

}  // namespace poetry_test
