// poetry-server and get-poetry as child processes (on the shared spindle::test::Child), and the
// poetry-specific helpers of their end-to-end tests.
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

/// Runs get-poetry with `args` to completion (bounded by `timeout`).
std::unique_ptr<Child> runClient(std::vector<std::string> args, Millis timeout = 8000ms);

/// The path of a poem shipped in poetry/.
std::string poemPath(std::string_view name);
/// Lines of `text` that contain `needle`.
std::vector<std::string> linesWith(const std::string& text, std::string_view needle);
/// UTF-8 code points in `text`, counted independently of the library under test.
std::size_t utf8Length(std::string_view text);

}  // namespace poetry_test
