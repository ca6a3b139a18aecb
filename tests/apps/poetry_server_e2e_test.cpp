// poetry-server as a child process: options, startup, per-connection lines, clean shutdown.
#include <signal.h>

#include <gtest/gtest.h>

#include "poetry_processes.hpp"

namespace {

using namespace poetry_test;

std::unique_ptr<Child> runServer(std::vector<std::string> args) {
  args.insert(args.begin(), POETRY_SERVER_BIN);
  auto child = std::make_unique<Child>(std::move(args));
  EXPECT_TRUE(child->wait(5000ms).has_value()) << "poetry-server did not exit";
  return child;
}

TEST(PoetryServerE2E, AnnouncesItsPort) {
  auto server = startServer({poemPath("spindle.txt")});
  ASSERT_GT(server.port, 0);
  EXPECT_NE(server.child->out().find("Serving " + poemPath("spindle.txt") + " on port " +
                                     std::to_string(server.port) + ".\n"),
            std::string::npos)
      << server.child->out();
}

TEST(PoetryServerE2E, PrintsALinePerConnection) {
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({std::to_string(server.port), std::to_string(server.port)});
  EXPECT_EQ(client->wait(0ms), 0);
  ASSERT_TRUE(server.child->waitUntil(
      [&] { return linesWith(server.child->out(), "Connection from 127.0.0.1:").size() == 2; },
      5000ms))
      << server.child->out();
}

TEST(PoetryServerE2E, StopsCleanlyOnSigint) {
  auto server = startServer({poemPath("loom.txt")});
  server.child->signal(SIGINT);
  EXPECT_EQ(server.child->wait(5000ms), 0) << server.child->err();
}

TEST(PoetryServerE2E, StopsCleanlyOnSigtermWithAClientConnected) {
  auto server = startServer({"--delay", "10", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  Child client({GET_POETRY_BIN, std::to_string(server.port)});
  ASSERT_TRUE(client.waitForStdout("got 10 bytes", 5000ms)) << client.err();
  server.child->signal(SIGTERM);
  EXPECT_EQ(server.child->wait(5000ms), 0) << server.child->err();
  // The server's shutdown ended the connection: the client finishes instead of waiting on.
  auto status = client.wait(5000ms);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(*status == 0 || *status == 1) << *status;
}

TEST(PoetryServerE2E, MissingPoemFileIsAnError) {
  auto server = runServer({"/nonexistent/poem.txt"});
  EXPECT_EQ(server->wait(0ms), 2);
  EXPECT_NE(server->err().find("/nonexistent/poem.txt"), std::string::npos) << server->err();
  EXPECT_EQ(server->out().find("Serving"), std::string::npos);
}

TEST(PoetryServerE2E, DirectoryIsNotAPoem) {
  auto server = runServer({POETRY_DIR});
  EXPECT_EQ(server->wait(0ms), 2) << server->out();
  EXPECT_EQ(server->out().find("Serving"), std::string::npos);
}

TEST(PoetryServerE2E, BadOptionsAreUsageErrors) {
  const std::string poem = poemPath("loom.txt");
  std::vector<std::vector<std::string>> cases = {
      {},                         // no poem file
      {"--port", "abc", poem},    // non-numeric port
      {"--port", "65536", poem},  // port out of range
      {"--port", "-1", poem},
      {"--delay", "-1", poem},  // negative delay
      {"--delay", "soon", poem},
      {"--delay", "nan", poem},
      {"--num-bytes", "0", poem},  // nothing per chunk
      {"--num-bytes", "-3", poem},
      {"--num-bytes", "ten", poem},
      {"--idle-timeout", "-1", poem},  // negative timeout
      {"--idle-timeout", "soon", poem},
      {"--idle-timeout", "inf", poem},
      {"--iface", "not-an-ip", poem},
      {"--bogus", poem},
      {poem, poem},  // two files
  };
  for (const auto& args : cases) {
    auto server = runServer(args);
    std::string shown;
    for (auto& a : args)
      shown += a + " ";
    EXPECT_EQ(server->wait(0ms), 2) << shown << "\n" << server->out() << server->err();
    EXPECT_EQ(server->out().find("Serving"), std::string::npos) << shown;
    EXPECT_FALSE(server->err().empty()) << shown;
  }
}

TEST(PoetryServerE2E, HelpExitsZero) {
  auto server = runServer({"--help"});
  EXPECT_EQ(server->wait(0ms), 0);
  EXPECT_NE(server->out().find("--num-bytes"), std::string::npos) << server->out();
  EXPECT_NE(server->out().find("--idle-timeout"), std::string::npos) << server->out();
}

}  // namespace
