// netstring-echo: its protocol on a string transport, then the program as a child process.
#include <signal.h>

#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "netstring_echo.hpp"
#include "support.hpp"

namespace {

using namespace examples_test;

// --- The protocol ---------------------------------------------------------------------------

/// Collects spindle's log for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    previous_ = spindle::log::setSink(
        [this](spindle::log::Level, std::string_view m) { messages.emplace_back(m); });
  }
  ~LogCapture() { spindle::log::setSink(std::move(previous_)); }
  std::vector<std::string> messages;

 private:
  spindle::log::Sink previous_;
};

TEST(NetstringEchoProtocol, EchoesEveryNetstringHoweverItIsSplit) {
  netstring_echo::NetstringEcho echo;
  spindle::testing::StringTransport transport;
  spindle::testing::connect(echo, transport);
  echo.dataReceived("5:hel");
  echo.dataReceived("lo,0:,");
  echo.dataReceived("3:a");
  EXPECT_EQ(transport.value(), "5:hello,0:,");
  echo.dataReceived("b\n,");
  EXPECT_EQ(transport.value(), "5:hello,0:,3:ab\n,");
  EXPECT_FALSE(transport.disconnecting());
}

TEST(NetstringEchoProtocol, AMalformedNetstringIsLoggedWithThePeerAndCloses) {
  LogCapture log;
  netstring_echo::NetstringEcho echo;
  spindle::testing::StringTransport transport;
  spindle::testing::connect(echo, transport);
  echo.dataReceived("2:ok,3:abc,x:no,5:never,");
  EXPECT_EQ(transport.value(), "2:ok,3:abc,");
  ASSERT_TRUE(transport.disconnecting());
  ASSERT_TRUE(transport.closeReason().has_value());
  EXPECT_TRUE(transport.closeReason()->check<spindle::NetstringParseError>());
  EXPECT_TRUE(log.messages.empty()) << "logged before the connection was lost";

  echo.connectionLost(*transport.closeReason());
  ASSERT_EQ(log.messages.size(), 1u);
  EXPECT_NE(log.messages[0].find("192.0.2.1:1234"), std::string::npos) << log.messages[0];
  EXPECT_NE(log.messages[0].find(transport.closeReason()->getErrorMessage()), std::string::npos)
      << log.messages[0];
}

TEST(NetstringEchoProtocol, ACleanCloseLogsNothing) {
  LogCapture log;
  netstring_echo::NetstringEcho echo;
  spindle::testing::StringTransport transport;
  spindle::testing::connect(echo, transport);
  echo.connectionLost(spindle::Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(log.messages.empty());
}

// --- The program ----------------------------------------------------------------------------

TEST(NetstringEchoServer, EchoesGoodNetstrings) {
  auto server = startServer(NETSTRING_ECHO_BIN);
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(server.child->out(),
            "Netstring echo server listening on port " + std::to_string(server.port) + ".\n");
  Peer peer(server.port);
  peer.send("5:hello,");
  EXPECT_TRUE(peer.readUntilContains("5:hello,"));
  std::string big(50'000, 'z');
  peer.send("0:,50000:");
  peer.send(big + ",");
  const std::string expected = "5:hello,0:,50000:" + big + ",";
  EXPECT_TRUE(peer.readUntil([&](const std::string& s) { return s.size() >= expected.size(); }));
  EXPECT_TRUE(peer.received() == expected);
  EXPECT_FALSE(peer.eof());
}

TEST(NetstringEchoServer, AMalformedFrameClosesAfterTheEchoesOfTheGoodOnes) {
  auto server = startServer(NETSTRING_ECHO_BIN);
  ASSERT_GT(server.port, 0);
  Peer bad(server.port);
  Peer bystander(server.port);  // connected throughout: unaffected by the other's fault
  bad.send("5:first,6:second,05:third,");
  EXPECT_TRUE(bad.readUntilEof());
  EXPECT_EQ(bad.received(), "5:first,6:second,");

  EXPECT_TRUE(server.child->waitForStderr("leading zero")) << server.child->err();
  EXPECT_NE(server.child->err().find("127.0.0.1:"), std::string::npos) << server.child->err();

  bystander.send("3:yes,");
  EXPECT_TRUE(bystander.readUntilContains("3:yes,"));
  Peer next(server.port);
  next.send("4:more,");
  EXPECT_TRUE(next.readUntilContains("4:more,"));
  EXPECT_FALSE(server.child->exited());
}

TEST(NetstringEchoServer, EachKindOfFaultIsNamedInTheLog) {
  auto server = startServer(NETSTRING_ECHO_BIN);
  ASSERT_GT(server.port, 0);
  struct Case {
    std::string bytes, logged;
  };
  for (const Case& c : std::vector<Case>{{"3:abc!", "comma"},
                                         {"3;abc,", "colon"},
                                         {"-3:abc,", "sign"},
                                         {"abc", "non-digit"},
                                         {"999999999:", "MAX_LENGTH"}}) {
    Peer peer(server.port);
    peer.send(c.bytes);
    EXPECT_TRUE(peer.readUntilEof()) << c.bytes;
    EXPECT_EQ(peer.received(), "") << c.bytes;
    EXPECT_TRUE(server.child->waitForStderr(c.logged)) << server.child->err();
  }
}

TEST(NetstringEchoServer, StopsCleanlyOnSigint) {
  auto server = startServer(NETSTRING_ECHO_BIN);
  ASSERT_GT(server.port, 0);
  server.child->signal(SIGINT);
  EXPECT_EQ(server.child->wait(), 0) << server.child->err();
}

TEST(NetstringEchoServer, BadArgumentsExitWithUsage) {
  auto child = run(NETSTRING_ECHO_BIN, {"--iface", "example.com"});
  EXPECT_EQ(child->wait(0ms), 2);
  EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
}

}  // namespace
