// The poetry programs (poetry-server, get-poetry, transform-server, poetry-proxy) as child
// processes (on the shared spindle::test::Child), and the helpers of their end-to-end tests.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.hpp"

namespace poetry_test {

using namespace std::chrono_literals;
using spindle::test::Child;
using spindle::test::closedPort;
using spindle::test::ipv6LoopbackAvailable;
using spindle::test::Millis;
using spindle::test::readFile;

/// A poetry-server child and the port it listens on.
using Server = spindle::test::ServerChild;

/// Starts poetry-server with `args` and waits (bounded) for its "on port N." line.
/// Fails the current test (and returns port 0) when it does not come.
Server startServer(std::vector<std::string> args);
/// The same for transform-server.
Server startTransformServer(std::vector<std::string> args = {});
/// The same for poetry-proxy.
Server startProxy(std::vector<std::string> args);
/// Stops a server with SIGTERM; fails the current test unless it exits 0 with no sanitizer
/// report on stderr.
void expectCleanStop(Server& server);

/// Runs get-poetry with `args` to completion (bounded by `timeout`).
std::unique_ptr<Child> runClient(std::vector<std::string> args, Millis timeout = 8000ms);

/// Runs poetry-proxy with `args` to completion (for its usage errors).
std::unique_ptr<Child> runProxy(std::vector<std::string> args, Millis timeout = 8000ms);

/// The path of a poem shipped in poetry/.
std::string poemPath(std::string_view name);

/// A poem of `bytes` bytes (lines of ASCII text) in a temporary file, removed when destroyed:
/// big enough, at a few MiB, to fill the kernel's socket buffers.
class TempPoem {
 public:
  explicit TempPoem(std::size_t bytes);
  ~TempPoem();
  TempPoem(const TempPoem&) = delete;
  TempPoem& operator=(const TempPoem&) = delete;
  const std::string& path() const noexcept { return path_; }
  const std::string& text() const noexcept { return text_; }

 private:
  std::string path_, text_;
};
/// Lines of `text` that contain `needle`.
std::vector<std::string> linesWith(const std::string& text, std::string_view needle);
/// UTF-8 code points in `text`, counted independently of the library under test.
std::size_t utf8Length(std::string_view text);

}  // namespace poetry_test
