// echo-server and echo-client as child processes on loopback.
#include <signal.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

using namespace examples_test;

TEST(EchoServer, AnnouncesItsPortAndEchoes) {
  auto server = startServer(ECHO_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(server.child->out(),
            "Echo server listening on port " + std::to_string(server.port) + ".\n");
  Peer peer(server.port);
  peer.send("hello, ");
  peer.send("echo\n");
  EXPECT_TRUE(peer.readUntil([](const std::string& s) { return s.size() >= 12; }));
  EXPECT_EQ(peer.received(), "hello, echo\n");
}

TEST(EchoServer, EchoesEachClientItsOwnBytes) {
  auto server = startServer(ECHO_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  Peer a(server.port), b(server.port);
  std::string big(200'000, 'x');  // more than one read and one socket buffer's worth
  for (std::size_t i = 0; i < big.size(); i += 997)
    big[i] = static_cast<char>('a' + i % 26);
  a.send("from a");
  b.send(big);
  EXPECT_TRUE(b.readUntil([&](const std::string& s) { return s.size() >= big.size(); }));
  EXPECT_TRUE(b.received() == big) << "b got " << b.received().size() << " bytes";
  EXPECT_TRUE(a.readUntilContains("from a"));
  EXPECT_EQ(a.received(), "from a");
}

TEST(EchoServer, ListensOnTheGivenInterfaceAndPort) {
  if (!ipv6LoopbackAvailable()) GTEST_SKIP() << "no IPv6 loopback";
  auto server = startServer(ECHO_SERVER_BIN, {"--iface", "::1"});
  ASSERT_GT(server.port, 0);
  Peer peer(server.port, "::1");
  peer.send("six");
  EXPECT_TRUE(peer.readUntilContains("six"));

  // A second server asked for the same port cannot have it: exit 1 with the reason.
  auto second = run(ECHO_SERVER_BIN, {"--iface", "::1", "--port", std::to_string(server.port)});
  EXPECT_EQ(second->wait(0ms), 1);
  EXPECT_NE(second->err().find(std::to_string(server.port)), std::string::npos) << second->err();
}

TEST(EchoServer, StopsCleanlyOnSigintAndSigterm) {
  for (int sig : {SIGINT, SIGTERM}) {
    auto server = startServer(ECHO_SERVER_BIN);
    ASSERT_GT(server.port, 0);
    Peer peer(server.port);  // a connection open at shutdown is closed, not leaked
    peer.send("x");
    ASSERT_TRUE(peer.readUntilContains("x"));
    server.child->signal(sig);
    EXPECT_EQ(server.child->wait(), 0) << "signal " << sig << ": " << server.child->err();
    EXPECT_TRUE(peer.readUntilEof());
  }
}

TEST(EchoServer, BadArgumentsExitWithUsage) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--port", "http"},
                                             {"--port", "65536"},
                                             {"--port", "-1"},
                                             {"--iface", "localhost"},
                                             {"--iface"},
                                             {"--bogus"},
                                             {"extra"}}) {
    auto child = run(ECHO_SERVER_BIN, args);
    EXPECT_EQ(child->wait(0ms), 2) << args[0];
    EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
    EXPECT_EQ(child->out(), "");
  }
}

TEST(EchoServer, HelpExitsZero) {
  auto child = run(ECHO_SERVER_BIN, {"--help"});
  EXPECT_EQ(child->wait(0ms), 0);
  EXPECT_NE(child->out().find("--iface"), std::string::npos) << child->out();
}

TEST(EchoClient, PrintsTheEchoAndExitsZero) {
  auto server = startServer(ECHO_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  auto client = run(ECHO_CLIENT_BIN, {std::to_string(server.port)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(client->out(), "Server said: Hello, world!\n");

  client = run(ECHO_CLIENT_BIN,
               {"--message", "spindle spins", "127.0.0.1:" + std::to_string(server.port)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(client->out(), "Server said: spindle spins\n");
}

TEST(EchoClient, WaitsForAllOfALongMessage) {
  auto server = startServer(ECHO_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  std::string message(100'000, 'm');  // under the kernel's 128 KiB limit on one argument
  message.back() = '!';
  auto client = run(ECHO_CLIENT_BIN, {"--message", message, std::to_string(server.port)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(client->out() == "Server said: " + message + "\n") << client->out().size();
}

TEST(EchoClient, ConnectionFailureExitsOneWithTheReason) {
  auto client = run(ECHO_CLIENT_BIN, {std::to_string(closedPort())});
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_NE(client->err().find("connection failed: "), std::string::npos) << client->err();
  EXPECT_NE(client->err().find("refused"), std::string::npos) << client->err();
  EXPECT_EQ(client->out(), "");
}

TEST(EchoClient, AServerThatClosesEarlyIsAFailure) {
  RawListener listener;
  Child client({ECHO_CLIENT_BIN, "--message", "hello", std::to_string(listener.port())});
  auto server = listener.accept();
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->readUntilContains("hello"));  // read, so closing sends FIN, not RST
  server->send("hel");
  server->close();
  EXPECT_EQ(client.wait(), 1);
  EXPECT_NE(client.err().find("after 3 of 5 bytes"), std::string::npos) << client.err();
  expectNoSanitizerReport(client);
}

TEST(EchoClient, BadArgumentsExitWithUsage) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {}, {"0"}, {"65536"}, {"host:"}, {"::1:80"}, {"[::1]"}, {"1", "2"}, {"--message"}}) {
    auto child = run(ECHO_CLIENT_BIN, args);
    EXPECT_EQ(child->wait(0ms), 2) << (args.empty() ? "<none>" : args[0]);
    EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
  }
}

}  // namespace
