// transform-server as a child process, with raw netstring clients on 127.0.0.1: what is answered,
// what only closes (and is logged), several clients at once, the idle timeout, the command line.
#include <signal.h>

#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>

#include "poetry_processes.hpp"
#include "raw_client.hpp"

namespace {

using namespace poetry_test;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Sends `request` as one netstring and reads until the server closes.
std::string ask(int port, std::string_view request) {
  RawClient client(port);
  EXPECT_TRUE(client.send(netstring(request)));
  EXPECT_TRUE(client.readUntilClosed()) << "the server did not close";
  return client.received();
}

/// Waits for the server's stderr line about the client on `clientPort`; returns it.
std::string logLineFor(Server& server, int clientPort) {
  std::string needle = "closed 127.0.0.1:" + std::to_string(clientPort) + ": ";
  EXPECT_TRUE(server.child->waitForStderr(needle)) << server.child->err();
  auto lines = linesWith(server.child->err(), needle);
  return lines.empty() ? std::string() : lines.front();
}

class TransformServerE2E : public ::testing::Test {
 protected:
  void TearDown() override { expectCleanStop(server); }
  Server server;
};

TEST_F(TransformServerE2E, AnnouncesItsPort) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(server.child->out(),
            "Serving transforms on port " + std::to_string(server.port) + ".\n");
}

TEST_F(TransformServerE2E, ListensOnThePortItIsGiven) {
  int port = closedPort();
  server = startTransformServer({"--port", std::to_string(port)});
  EXPECT_EQ(server.port, port);
  EXPECT_EQ(ask(server.port, "uppercase.ok"), netstring("OK"));
}

TEST_F(TransformServerE2E, CummingsifiesAPoemIntoOneNetstringAndCloses) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  std::string poem = readFile(poemPath("loom.txt"));
  EXPECT_EQ(ask(server.port, "cummingsify." + poem), netstring(lower(poem)));
  EXPECT_EQ(server.child->err(), "") << "an answered request is not logged";
}

TEST_F(TransformServerE2E, AnswersARequestNearTheDefaultLimit) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  TempPoem poem(1024 * 1024 - 100);  // with "reverse.", just under 1 MiB
  std::string expected(poem.text().rbegin(), poem.text().rend());
  EXPECT_EQ(ask(server.port, "reverse." + poem.text()), netstring(expected));
}

// A request the server cannot answer: nothing comes back, the server closes, and its stderr
// names the client and the reason.
void expectOnlyTheClose(Server& server, std::string_view bytes, std::string_view reason) {
  RawClient client(server.port);
  ASSERT_TRUE(client.send(bytes));
  EXPECT_TRUE(client.readUntilClosed());
  EXPECT_EQ(client.received(), "");
  std::string line = logLineFor(server, client.localPort());
  EXPECT_NE(line.find(reason), std::string::npos) << line;
}

TEST_F(TransformServerE2E, UnknownTransformGetsOnlyTheClose) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  expectOnlyTheClose(server, netstring("sonnetify.poem"),
                     "poetry::UnknownTransformError: no transform named \"sonnetify\"");
}

TEST_F(TransformServerE2E, RequestWithoutADotGetsOnlyTheClose) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  expectOnlyTheClose(server, netstring("cummingsify"), "poetry::BadRequestError");
}

TEST_F(TransformServerE2E, FailingTransformGetsOnlyTheClose) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  expectOnlyTheClose(server, netstring("explode.poem"),
                     "poetry::TransformFailed: the explode transform always fails");
}

TEST_F(TransformServerE2E, MalformedNetstringGetsOnlyTheCloseAndOthersGoOn) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  RawClient bystander(server.port);  // connected throughout, its request half sent
  std::string request = netstring("uppercase.still here");
  ASSERT_TRUE(bystander.send(request.substr(0, 10)));
  expectOnlyTheClose(server, "cummingsify.poem", "spindle::NetstringParseError");
  expectOnlyTheClose(server, "-5:hello,", "spindle::NetstringParseError");
  ASSERT_TRUE(bystander.send(request.substr(10)));
  EXPECT_TRUE(bystander.readUntilClosed());
  EXPECT_EQ(bystander.received(), netstring("STILL HERE"));
}

TEST_F(TransformServerE2E, OversizedRequestIsRefusedBeforeItsPayload) {
  server = startTransformServer({"--max-length", "100"});
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(ask(server.port, "reverse." + std::string(92, 'x')), netstring(std::string(92, 'x')));
  // Only the length is sent: the server refuses as soon as it reads it.
  expectOnlyTheClose(server, "101:", "netstring length exceeds MAX_LENGTH (100 bytes)");
}

TEST_F(TransformServerE2E, TwoClientsAtOnce) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  RawClient a(server.port), b(server.port);
  std::string ra = netstring("cummingsify.FIRST CLIENT"), rb = netstring("uppercase.second client");
  // a's request stops halfway; b is answered meanwhile; then a finishes and is answered too.
  ASSERT_TRUE(a.send(ra.substr(0, 8)));
  ASSERT_TRUE(b.send(rb));
  EXPECT_TRUE(b.readUntilClosed());
  EXPECT_EQ(b.received(), netstring("SECOND CLIENT"));
  ASSERT_TRUE(a.send(ra.substr(8)));
  EXPECT_TRUE(a.readUntilClosed());
  EXPECT_EQ(a.received(), netstring("first client"));
}

TEST_F(TransformServerE2E, DropsAClientThatSendsNothing) {
  server = startTransformServer({"--idle-timeout", "0.3"});
  ASSERT_GT(server.port, 0);
  auto start = std::chrono::steady_clock::now();
  RawClient silent(server.port);
  EXPECT_TRUE(silent.readUntilClosed());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms) << "dropped before its timeout";
  std::string line = logLineFor(server, silent.localPort());
  EXPECT_NE(line.find("spindle::IdleTimeoutError: Connection was idle for 0.3 seconds"),
            std::string::npos)
      << line;
}

TEST_F(TransformServerE2E, StopsCleanlyOnSigint) {
  server = startTransformServer();
  ASSERT_GT(server.port, 0);
  RawClient client(server.port);
  server.child->signal(SIGINT);
  EXPECT_EQ(server.child->wait(), 0) << server.child->err();
  EXPECT_TRUE(client.readUntilClosed());
}

TEST(TransformServerCommandLine, BadArgumentsAreUsageErrors) {
  std::vector<std::vector<std::string>> cases = {
      {"--port", "abc"},
      {"--port", "65536"},
      {"--port", "-1"},
      {"--max-length", "0"},
      {"--max-length", "-3"},
      {"--max-length", "big"},
      {"--idle-timeout", "-1"},
      {"--idle-timeout", "soon"},
      {"--idle-timeout", "nan"},
      {"--idle-timeout", "inf"},
      {"--iface", "not-an-ip"},
      {"--bogus"},
      {"a-poem.txt"},  // the transform server takes no file
  };
  for (const auto& args : cases) {
    auto child = spindle::test::runToExit(TRANSFORM_SERVER_BIN, args);
    std::string shown;
    for (const auto& a : args)
      shown += a + " ";
    EXPECT_EQ(child->wait(0ms), 2) << shown << "\n" << child->out() << child->err();
    EXPECT_EQ(child->out().find("Serving"), std::string::npos) << shown;
    EXPECT_FALSE(child->err().empty()) << shown;
  }
}

TEST(TransformServerCommandLine, HelpNamesTheTransformsAndExitsZero) {
  auto child = spindle::test::runToExit(TRANSFORM_SERVER_BIN, {"--help"});
  EXPECT_EQ(child->wait(0ms), 0);
  for (const char* word : {"--max-length", "--idle-timeout", "cummingsify", "explode"}) {
    EXPECT_NE(child->out().find(word), std::string::npos) << word << "\n" << child->out();
  }
}

TEST(TransformServerCommandLine, APortInUseExitsOne) {
  auto first = startTransformServer();
  ASSERT_GT(first.port, 0);
  auto second =
      spindle::test::runToExit(TRANSFORM_SERVER_BIN, {"--port", std::to_string(first.port)});
  EXPECT_EQ(second->wait(0ms), 1) << second->err();
  EXPECT_NE(second->err().find("transform-server: "), std::string::npos) << second->err();
  expectCleanStop(first);
}

}  // namespace
