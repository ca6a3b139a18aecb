// The guide's programs (docs/guide) as child processes against poetry-server children on
// loopback: each prints every poem, reports a closed port with a reason, and the Deferred and
// coroutine versions give up on a slow server at their --timeout.
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.hpp"

namespace {

using namespace std::chrono_literals;
using spindle::test::closedPort;
using spindle::test::readFile;
using spindle::test::runToExit;
using spindle::test::ServerChild;
using spindle::test::spawnServer;

struct Program {
  const char* name;
  const char* bin;
};

// gtest prints a parameter in a test's name: the program's name, not its bytes.
void PrintTo(const Program& p, std::ostream* os) {
  *os << p.name;
}

const Program kPrograms[] = {
    {"Client20", GUIDE_CLIENT_2_0_BIN},
    {"Callbacks", GUIDE_CLIENT_CALLBACKS_BIN},
    {"Deferred", GUIDE_CLIENT_DEFERRED_BIN},
    {"Coroutine", GUIDE_CLIENT_COROUTINE_BIN},
};
// The chapters that give each download a deadline (--timeout).
const Program kTimeoutPrograms[] = {
    {"Deferred", GUIDE_CLIENT_DEFERRED_BIN},
    {"Coroutine", GUIDE_CLIENT_COROUTINE_BIN},
};

std::string poemPath(const std::string& name) {
  return std::string(POETRY_DIR) + "/" + name;
}

// A server sending `poem` in small chunks, so each client sees many dataReceived calls.
ServerChild serve(const std::string& poem, const std::string& delay = "0.005") {
  return spawnServer(POETRY_SERVER_BIN, {"--delay", delay, "--num-bytes", "64", poemPath(poem)});
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A failure path must still end quietly: no error left unhandled in a Deferred, no sanitizer
// report (the sanitizer build runs these same tests).
void expectNoStray(const std::string& err) {
  for (const char* stray : {"Unhandled error", "Sanitizer", "runtime error:", "spindle: "}) {
    EXPECT_FALSE(contains(err, stray)) << err;
  }
}

class GuideProgram : public ::testing::TestWithParam<Program> {};

TEST_P(GuideProgram, PrintsThePoemOfEveryServer) {
  ServerChild a = serve("ecluse.txt"), b = serve("loom.txt");
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);
  auto client = runToExit(GetParam().bin,
                          {std::to_string(a.port), "127.0.0.1:" + std::to_string(b.port)}, 10s);
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(contains(client->out(), readFile(poemPath("ecluse.txt")))) << client->out();
  EXPECT_TRUE(contains(client->out(), readFile(poemPath("loom.txt")))) << client->out();
  EXPECT_EQ(client->err(), "");
}

TEST_P(GuideProgram, ReportsAClosedPortWithItsReason) {
  ServerChild a = serve("spindle.txt");
  ASSERT_GT(a.port, 0);
  const std::string closed = std::to_string(closedPort());
  auto client = runToExit(GetParam().bin, {std::to_string(a.port), closed}, 10s);
  EXPECT_EQ(client->wait(0ms), 1) << client->err();
  EXPECT_TRUE(contains(client->out(), readFile(poemPath("spindle.txt")))) << "the other one";
  EXPECT_TRUE(contains(client->err(), "127.0.0.1:" + closed)) << client->err();
  EXPECT_TRUE(contains(client->err(), "Connection was refused")) << client->err();
  expectNoStray(client->err());
}

TEST_P(GuideProgram, RejectsABadCommandLine) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{}, {"0"}, {"host:port"}, {"::1"}}) {
    auto client = runToExit(GetParam().bin, args);
    EXPECT_EQ(client->wait(0ms), 2) << "args: " << ::testing::PrintToString(args);
    EXPECT_TRUE(contains(client->err(), "usage:")) << client->err();
  }
}

class GuideTimeout : public ::testing::TestWithParam<Program> {};

TEST_P(GuideTimeout, GivesUpOnASlowServer) {
  ServerChild fast = serve("loom.txt"), slow = serve("ecluse.txt", "30");
  ASSERT_GT(fast.port, 0);
  ASSERT_GT(slow.port, 0);
  const std::string slowPort = std::to_string(slow.port);
  auto started = std::chrono::steady_clock::now();
  auto client =
      runToExit(GetParam().bin, {"--timeout", "0.5", std::to_string(fast.port), slowPort}, 10s);
  EXPECT_EQ(client->wait(0ms), 1) << client->err();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(contains(client->out(), readFile(poemPath("loom.txt")))) << client->out();
  EXPECT_TRUE(contains(client->err(), "127.0.0.1:" + slowPort + " failed: Deferred timed out"))
      << client->err();
  expectNoStray(client->err());
}

std::string nameOf(const ::testing::TestParamInfo<Program>& info) {
  return info.param.name;
}
INSTANTIATE_TEST_SUITE_P(Guide, GuideProgram, ::testing::ValuesIn(kPrograms), nameOf);
INSTANTIATE_TEST_SUITE_P(Guide, GuideTimeout, ::testing::ValuesIn(kTimeoutPrograms), nameOf);

}  // namespace
