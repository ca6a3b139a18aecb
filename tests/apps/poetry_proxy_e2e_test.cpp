// poetry-proxy as a child process, in front of poetry-server children, with raw clients: the
// poem, the cache, one upstream fetch for clients that arrive together, a dead upstream, and
// the command line.
#include <gtest/gtest.h>

#include "poetry_processes.hpp"
#include "raw_client.hpp"

namespace {

using namespace poetry_test;

std::string port(const Server& s) {
  return std::to_string(s.port);
}

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

/// Lines of `child`'s stdout containing `needle`, once there are `n` of them (bounded wait: a
/// child's output is collected only while the test waits on it).
std::size_t countLines(Child& child, std::string_view needle, std::size_t n) {
  child.waitUntil([&] { return linesWith(child.out(), needle).size() >= n; }, 5000ms);
  return linesWith(child.out(), needle).size();
}

/// Connects, reads until the proxy closes, returns what came.
std::string fetch(int port) {
  RawClient client(port);
  EXPECT_TRUE(client.readUntilClosed()) << "the proxy did not close";
  return client.received();
}

class PoetryProxyE2E : public ::testing::Test {
 protected:
  void TearDown() override {
    expectCleanStop(proxy);
    expectCleanStop(upstream);
  }
  Server upstream, proxy;
};

TEST_F(PoetryProxyE2E, ServesTheUpstreamPoem) {
  upstream = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(upstream.port, 0);
  proxy = startProxy({"127.0.0.1:" + port(upstream)});
  ASSERT_GT(proxy.port, 0);
  EXPECT_TRUE(contains(proxy.child->out(),
                       "Proxying 127.0.0.1:" + port(upstream) + " on port " + port(proxy) + ".\n"))
      << proxy.child->out();
  EXPECT_EQ(fetch(proxy.port), readFile(poemPath("loom.txt")));
}

TEST_F(PoetryProxyE2E, TheSecondClientIsServedFromTheCacheWithTheUpstreamStopped) {
  upstream = startServer({"--delay", "0", poemPath("ecluse.txt")});
  ASSERT_GT(upstream.port, 0);
  proxy = startProxy({port(upstream)});
  ASSERT_GT(proxy.port, 0);
  std::string poem = readFile(poemPath("ecluse.txt"));
  EXPECT_EQ(fetch(proxy.port), poem);
  expectCleanStop(upstream);
  upstream = {};
  EXPECT_EQ(fetch(proxy.port), poem);
  EXPECT_EQ(countLines(*proxy.child, "(poem cached)", 1), 1u) << proxy.child->out();
  EXPECT_EQ(countLines(*proxy.child, "Fetching poem from", 1), 1u) << proxy.child->out();
}

TEST_F(PoetryProxyE2E, ClientsArrivingTogetherShareOneUpstreamFetch) {
  // A slow upstream (about half a second for the poem): every client arrives during the fetch.
  upstream = startServer({"--delay", "0.05", "--num-bytes", "50", poemPath("loom.txt")});
  ASSERT_GT(upstream.port, 0);
  proxy = startProxy({port(upstream)});
  ASSERT_GT(proxy.port, 0);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 5; ++i)
    clients.push_back(std::make_unique<RawClient>(proxy.port));
  std::string poem = readFile(poemPath("loom.txt"));
  for (auto& client : clients) {
    EXPECT_TRUE(client->readUntilClosed());
    EXPECT_EQ(client->received(), poem);
  }
  EXPECT_EQ(countLines(*proxy.child, "Connection from", 5), 5u) << proxy.child->out();
  EXPECT_EQ(countLines(*upstream.child, "Connection from", 1), 1u) << upstream.child->out();
  EXPECT_EQ(countLines(*proxy.child, "Fetching poem from", 1), 1u) << proxy.child->out();
}

TEST_F(PoetryProxyE2E, ADeadUpstreamClosesTheClientsAndTheNextClientRetries) {
  int upstreamPort = closedPort();
  proxy = startProxy({std::to_string(upstreamPort)});
  ASSERT_GT(proxy.port, 0);
  {
    RawClient client(proxy.port);
    EXPECT_TRUE(client.readUntilClosed());
    EXPECT_EQ(client.received(), "");
    std::string needle = "poetry-proxy: closed 127.0.0.1:" + std::to_string(client.localPort());
    ASSERT_TRUE(proxy.child->waitForStderr(needle)) << proxy.child->err();
    auto lines = linesWith(proxy.child->err(), needle);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(contains(lines[0], "ConnectionRefusedError")) << lines[0];
  }
  // The upstream comes up: the next client gets the poem.
  upstream = startServer(
      {"--port", std::to_string(upstreamPort), "--delay", "0", poemPath("spindle.txt")});
  ASSERT_EQ(upstream.port, upstreamPort);
  EXPECT_EQ(fetch(proxy.port), readFile(poemPath("spindle.txt")));
  EXPECT_EQ(countLines(*proxy.child, "Fetching poem from", 2), 2u) << proxy.child->out();
}

TEST_F(PoetryProxyE2E, BadArgumentsExitTwo) {
  std::vector<std::vector<std::string>> cases = {
      {},                  // no upstream
      {"abc"},             // not an address
      {"::1:10000"},       // IPv6 without brackets
      {"10000", "10001"},  // two upstreams
      {"--port", "x", "10000"},
      {"--port", "70000", "10000"},
      {"--iface", "nowhere", "10000"},
      {"--timeout", "-1", "10000"},
      {"--frobnicate", "10000"},
  };
  for (const auto& args : cases) {
    auto child = runProxy(args);
    std::string shown;
    for (const auto& a : args)
      shown += a + " ";
    EXPECT_EQ(child->wait(0ms), 2) << shown << "\n" << child->err();
    EXPECT_EQ(child->out(), "") << shown;
    EXPECT_FALSE(child->err().empty()) << shown;
  }
}

}  // namespace
