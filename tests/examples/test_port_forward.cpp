// port-forward between a client and echo-server: bytes intact both ways under backpressure,
// an unreachable upstream closes only that client, bad arguments exit 2.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

using namespace examples_test;

TEST(PortForward, CarriesManyMebibytesBothWaysIntact) {
  auto echo = startServer(ECHO_SERVER_BIN);
  ASSERT_GT(echo.port, 0);
  auto proxy = startServer(PORT_FORWARD_BIN, {std::to_string(echo.port)});
  ASSERT_GT(proxy.port, 0);
  EXPECT_NE(proxy.child->out().find("on port " + std::to_string(proxy.port) + "."),
            std::string::npos);
  Peer peer(proxy.port);
  std::string chunk(64 * 1024, '\0');
  std::string sent;
  const std::size_t total = 16 * 1024 * 1024, window = 1024 * 1024;
  for (std::size_t k = 0; sent.size() < total; ++k) {
    for (std::size_t i = 0; i < chunk.size(); ++i)
      chunk[i] = static_cast<char>((i + 7 * k) & 0xff);
    peer.send(chunk);
    sent += chunk;
    // Keep at most `window` in flight: the proxy must carry it, not hoard it.
    std::size_t want = sent.size() > window ? sent.size() - window : 0;
    ASSERT_TRUE(peer.readUntil([&](const std::string& s) { return s.size() >= want; }));
  }
  ASSERT_TRUE(peer.readUntil([&](const std::string& s) { return s.size() >= sent.size(); }));
  EXPECT_TRUE(peer.received() == sent) << "got " << peer.received().size() << " bytes";
}

/// Resident anonymous memory of process `pid`, in KiB (RssAnon in /proc/PID/status).
long rssAnonKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = -1;
  while (status >> key) {
    if (key == "RssAnon:") {
      status >> value;
      break;
    }
  }
  return value;
}

TEST(PortForward, AClientThatNeverReadsCannotMakeTheProxyHoardItsBytes) {
  auto echo = startServer(ECHO_SERVER_BIN);
  auto proxy = startServer(PORT_FORWARD_BIN, {std::to_string(echo.port)});
  ASSERT_GT(proxy.port, 0);
  long before = rssAnonKiB(proxy.child->pid());
  ASSERT_GT(before, 0);
  // Push up to 64 MiB without ever reading the echoes, for at most 2 s. The echoes pile up
  // against this client; the proxy must stop reading from the echo server (and the echo server
  // keeps them), so the proxy itself holds only about its water marks.
  Peer peer(proxy.port);
  int fd = peer.fd();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string chunk(256 * 1024, 'q');
  std::size_t pushed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (pushed < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 200) == 0) break;  // nothing moves any more: backpressure reached us
    ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) pushed += static_cast<std::size_t>(n);
  }
  long after = rssAnonKiB(proxy.child->pid());
  EXPECT_GT(pushed, 4u << 20) << "the test pushed too little to tell";
  EXPECT_LT(after - before, 8 * 1024) << "the proxy grew by " << (after - before) << " KiB after "
                                      << (pushed >> 20) << " MiB were pushed";
}

TEST(PortForward, TwoClientsAreForwardedSeparately) {
  auto echo = startServer(ECHO_SERVER_BIN);
  auto proxy = startServer(PORT_FORWARD_BIN, {"127.0.0.1:" + std::to_string(echo.port)});
  ASSERT_GT(proxy.port, 0);
  Peer a(proxy.port), b(proxy.port);
  a.send("from a");
  b.send("from b");
  EXPECT_TRUE(a.readUntilContains("from a"));
  EXPECT_TRUE(b.readUntilContains("from b"));
  EXPECT_EQ(a.received(), "from a");
  EXPECT_EQ(b.received(), "from b");
  a.close();
  b.send(" again");
  EXPECT_TRUE(b.readUntilContains("from b again"));
}

TEST(PortForward, UnreachableUpstreamClosesThatClientAndKeepsServing) {
  auto proxy = startServer(PORT_FORWARD_BIN, {std::to_string(closedPort())});
  ASSERT_GT(proxy.port, 0);
  Peer first(proxy.port);
  EXPECT_TRUE(first.readUntilEof());
  Peer second(proxy.port);
  EXPECT_TRUE(second.readUntilEof());
  EXPECT_TRUE(proxy.child->waitForStderr("cannot reach"));
}

TEST(PortForward, BadArgumentsExitWithUsage) {
  EXPECT_EQ(run(PORT_FORWARD_BIN, {})->wait(), 2);
  EXPECT_EQ(run(PORT_FORWARD_BIN, {"notaport"})->wait(), 2);
  EXPECT_EQ(run(PORT_FORWARD_BIN, {"--port", "70000", "1234"})->wait(), 2);
}

}  // namespace
