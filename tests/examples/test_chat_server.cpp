// chat-server as a child process, with raw loopback clients.
#include <signal.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

using namespace examples_test;

/// Reads lines until one equals `expected`; on failure, says which lines came instead.
::testing::AssertionResult readsLine(Peer& peer, const std::string& expected) {
  std::string seen;
  while (auto line = peer.nextLine()) {
    if (*line == expected) return ::testing::AssertionSuccess();
    seen += "\n  " + *line;
  }
  return ::testing::AssertionFailure() << "no line \"" << expected << "\"; got:" << seen;
}

TEST(ChatServer, LinesGoToTheOtherUserPrefixedWithTheSendersName) {
  auto server = startServer(CHAT_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(server.child->out(),
            "Chat server listening on port " + std::to_string(server.port) + ".\n");

  Peer a(server.port);
  EXPECT_EQ(a.nextLine(), "* Welcome to the chat, guest1! Type /nick NAME to change your name.");
  Peer b(server.port);
  EXPECT_EQ(b.nextLine(), "* Welcome to the chat, guest2! Type /nick NAME to change your name.");
  EXPECT_EQ(a.nextLine(), "* guest2 has joined the chat.");

  a.send("hello from a\n");
  EXPECT_EQ(b.nextLine(), "<guest1> hello from a");
  b.send("hello from b\r\n");
  // a's next line is b's: a never hears its own line back.
  EXPECT_EQ(a.nextLine(), "<guest2> hello from b");
}

TEST(ChatServer, NickRenamesAndNamesAreUnique) {
  auto server = startServer(CHAT_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  Peer a(server.port);
  ASSERT_TRUE(a.nextLine());
  Peer b(server.port);
  ASSERT_TRUE(b.nextLine());
  ASSERT_TRUE(readsLine(a, "* guest2 has joined the chat."));

  a.send("/nick alice\n");
  EXPECT_EQ(a.nextLine(), "* You are now known as alice.");
  EXPECT_EQ(b.nextLine(), "* guest1 is now known as alice.");
  b.send("/nick alice\n");
  EXPECT_EQ(b.nextLine(), "* The name alice is taken.");
  b.send("/nick bob\n");
  EXPECT_EQ(b.nextLine(), "* You are now known as bob.");
  EXPECT_EQ(a.nextLine(), "* guest2 is now known as bob.");

  a.send("hi bob\n");
  EXPECT_EQ(b.nextLine(), "<alice> hi bob");
  b.send("/quit\n");
  EXPECT_EQ(b.nextLine(), "* Goodbye.");
  EXPECT_TRUE(b.readUntilEof());
  EXPECT_EQ(a.nextLine(), "* bob has left the chat.");
}

TEST(ChatServer, DropsAnIdleUserAndKeepsAnActiveOne) {
  auto server = startServer(CHAT_SERVER_BIN, {"--idle-timeout", "0.3"});
  ASSERT_GT(server.port, 0);
  Peer silent(server.port);
  ASSERT_TRUE(silent.nextLine());
  Peer active(server.port);
  ASSERT_TRUE(active.nextLine());

  // The active user speaks every 50 ms (a sixth of the timeout) until the silent one is gone;
  // each pause is a bounded wait for the silent user's EOF, not a sleep.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!silent.eof() && std::chrono::steady_clock::now() < deadline) {
    active.send("ping\n");
    silent.readUntilEof(50ms);
  }
  ASSERT_TRUE(silent.eof()) << "the silent user was not dropped";
  EXPECT_NE(silent.received().find("* You were idle for 0.3 seconds; goodbye.\n"),
            std::string::npos)
      << silent.received();

  EXPECT_TRUE(readsLine(active, "* guest1 has left the chat (idle)."));
  active.send("/nick survivor\n");
  EXPECT_TRUE(readsLine(active, "* You are now known as survivor."));
  EXPECT_FALSE(active.eof());
}

TEST(ChatServer, StopsCleanlyOnSigterm) {
  auto server = startServer(CHAT_SERVER_BIN);
  ASSERT_GT(server.port, 0);
  Peer a(server.port);
  ASSERT_TRUE(a.nextLine());
  server.child->signal(SIGTERM);
  EXPECT_EQ(server.child->wait(), 0) << server.child->err();
  EXPECT_TRUE(a.readUntilEof());
}

TEST(ChatServer, BadArgumentsExitWithUsage) {
  for (std::string idle : {"-1", "soon", "nan", "inf"}) {
    auto child = run(CHAT_SERVER_BIN, {"--idle", idle});
    EXPECT_EQ(child->wait(0ms), 2) << idle;
    EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
  }
  auto child = run(CHAT_SERVER_BIN, {"--port", "99999"});
  EXPECT_EQ(child->wait(0ms), 2);
}

}  // namespace
