// The chat server's protocol on string transports and a fake clock: no sockets, no real time.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "chat.hpp"

namespace {

using spindle::Failure;
using Lines = std::vector<std::string>;

class ChatProtocol : public ::testing::Test {
 protected:
  struct User {
    std::unique_ptr<spindle::Protocol> protocol;
    spindle::testing::StringTransport transport;
    chat::Chat* chat = nullptr;

    void say(const std::string& bytes) { protocol->dataReceived(bytes); }
    /// The lines written to this user since the last call.
    Lines lines() {
      Lines out;
      std::string_view text = transport.value();
      for (auto end = text.find('\n'); end != text.npos; end = text.find('\n')) {
        out.emplace_back(text.substr(0, end));
        text.remove_prefix(end + 1);
      }
      EXPECT_EQ(text, "") << "an unterminated line";
      transport.clear();
      return out;
    }
    /// What the reactor does once the transport has closed.
    void lose(const Failure& reason) { protocol->connectionLost(reason); }
  };

  /// A new user, connected through the factory as the reactor would.
  User& join() {
    User& u = users_.emplace_back();
    u.protocol = factory.buildProtocol(*spindle::Address::fromIp("192.0.2.7", 4000));
    u.chat = dynamic_cast<chat::Chat*>(u.protocol.get());
    EXPECT_NE(u.chat, nullptr);
    spindle::testing::connect(*u.protocol, u.transport);
    return u;
  }
  /// Forgets what every user was sent so far.
  void clearAll() {
    for (auto& u : users_)
      u.transport.clear();
  }

  spindle::testing::Clock clock;
  chat::ChatFactory factory{clock, 10.0};

 private:
  std::deque<User> users_;  // declared after the clock and factory: destroyed before them
};

TEST_F(ChatProtocol, GreetsANewUserAndTellsTheOthers) {
  auto& a = join();
  EXPECT_EQ(a.chat->name(), "guest1");
  EXPECT_EQ(a.lines(),
            Lines{"* Welcome to the chat, guest1! Type /nick NAME to change your name."});
  auto& b = join();
  EXPECT_EQ(b.chat->name(), "guest2");
  EXPECT_EQ(a.lines(), Lines{"* guest2 has joined the chat."});
  EXPECT_EQ(b.lines().size(), 1u);
  EXPECT_EQ(factory.users().size(), 2u);
  EXPECT_EQ(a.protocol->factory(), &factory);
}

TEST_F(ChatProtocol, ALineGoesToEveryOtherUserPrefixedWithTheSendersName) {
  auto &a = join(), &b = join(), &c = join();
  clearAll();
  a.say("hello, all\n");
  EXPECT_EQ(a.lines(), Lines{});
  EXPECT_EQ(b.lines(), Lines{"<guest1> hello, all"});
  EXPECT_EQ(c.lines(), Lines{"<guest1> hello, all"});
}

TEST_F(ChatProtocol, LinesMayEndInCrlfAndArriveInPieces) {
  auto &a = join(), &b = join();
  clearAll();
  a.say("split ");
  a.say("line\r");
  EXPECT_EQ(b.lines(), Lines{});
  a.say("\n\r\n\nsecond\r\n");  // empty lines are not sent
  EXPECT_EQ(b.lines(), (Lines{"<guest1> split line", "<guest1> second"}));
}

TEST_F(ChatProtocol, NickRenamesAndTellsTheOthers) {
  auto &a = join(), &b = join();
  clearAll();
  a.say("/nick alice\n");
  EXPECT_EQ(a.lines(), Lines{"* You are now known as alice."});
  EXPECT_EQ(b.lines(), Lines{"* guest1 is now known as alice."});
  EXPECT_EQ(a.chat->name(), "alice");
  EXPECT_TRUE(factory.users().contains("alice"));
  EXPECT_FALSE(factory.users().contains("guest1"));
  a.say("it is me\n");
  EXPECT_EQ(b.lines(), Lines{"<alice> it is me"});
}

TEST_F(ChatProtocol, NamesAreUnique) {
  auto &a = join(), &b = join();
  a.say("/nick alice\n");
  clearAll();
  b.say("/nick alice\n");
  EXPECT_EQ(b.lines(), Lines{"* The name alice is taken."});
  EXPECT_EQ(a.lines(), Lines{});
  EXPECT_EQ(b.chat->name(), "guest2");
  a.say("/nick alice\n");
  EXPECT_EQ(a.lines(), Lines{"* You are already alice."});
  EXPECT_EQ(b.lines(), Lines{});
}

TEST_F(ChatProtocol, InvalidNamesAreRefused) {
  auto& a = join();
  a.lines();
  Lines invalid = {"", "two words", "caf\xc3\xa9", "<b>", std::string(21, 'n')};
  for (const std::string& name : invalid) {
    a.say("/nick " + name + "\n");
    auto reply = a.lines();
    ASSERT_EQ(reply.size(), 1u) << name;
    EXPECT_TRUE(reply[0].starts_with("* Invalid name")) << reply[0];
  }
  a.say("/nick\n");
  EXPECT_TRUE(a.lines().at(0).starts_with("* Invalid name"));
  EXPECT_EQ(a.chat->name(), "guest1");
  a.say("/nick " + std::string(20, 'n') + "\n");
  EXPECT_EQ(a.chat->name(), std::string(20, 'n'));
}

TEST_F(ChatProtocol, GuestNamesSkipNamesTaken) {
  auto& a = join();
  a.say("/nick guest2\n");
  auto& b = join();
  EXPECT_EQ(b.chat->name(), "guest3");
}

TEST_F(ChatProtocol, UnknownCommandsGetAReply) {
  auto &a = join(), &b = join();
  clearAll();
  a.say("/dance\n");
  EXPECT_EQ(a.lines(), Lines{"* Unknown command /dance. Commands: /nick NAME, /quit."});
  EXPECT_EQ(b.lines(), Lines{});
}

TEST_F(ChatProtocol, QuitSaysGoodbyeAndTheOthersHearTheUserLeave) {
  auto &a = join(), &b = join();
  clearAll();
  a.say("/quit\n");
  EXPECT_EQ(a.lines(), Lines{"* Goodbye."});
  EXPECT_TRUE(a.transport.disconnecting());
  ASSERT_TRUE(a.transport.closeReason().has_value());
  EXPECT_TRUE(a.transport.closeReason()->check<spindle::ConnectionDone>());
  a.lose(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(b.lines(), Lines{"* guest1 has left the chat."});
  EXPECT_EQ(factory.users().size(), 1u);
}

TEST_F(ChatProtocol, AConnectionLostIsALeave) {
  auto &a = join(), &b = join();
  clearAll();
  b.lose(Failure(spindle::ConnectionLost()));
  EXPECT_EQ(a.lines(), Lines{"* guest2 has left the chat (connection lost)."});
  a.say("anyone?\n");  // the user who left gets nothing more
  EXPECT_EQ(b.lines(), Lines{});
}

TEST_F(ChatProtocol, AnIdleUserIsDroppedWhileAnActiveOneStays) {
  auto &a = join(), &b = join();
  clearAll();
  clock.advance(9.9);
  a.say("still here\n");  // resets a's countdown, not b's
  clock.advance(0.2);
  EXPECT_EQ(b.lines(), (Lines{"<guest1> still here", "* You were idle for 10 seconds; goodbye."}));
  EXPECT_TRUE(b.transport.disconnecting());
  ASSERT_TRUE(b.transport.closeReason().has_value());
  EXPECT_TRUE(b.transport.closeReason()->check<spindle::IdleTimeoutError>());
  EXPECT_FALSE(a.transport.disconnecting());

  b.lose(*b.transport.closeReason());
  EXPECT_EQ(a.lines(), Lines{"* guest2 has left the chat (idle)."});
  EXPECT_TRUE(clock.getDelayedCalls().size() == 1u) << "only a's countdown is left";

  clock.advance(9.7);  // a spoke at 9.9: its countdown ends at 19.9
  EXPECT_FALSE(a.transport.disconnecting());
  clock.advance(0.2);
  EXPECT_TRUE(a.transport.disconnecting());
  a.lose(*a.transport.closeReason());
  EXPECT_TRUE(factory.users().empty());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(ChatProtocol, CommandsResetTheIdleCountdownToo) {
  auto& a = join();
  clock.advance(9);
  a.say("/nick alice\n");
  clock.advance(9);
  EXPECT_FALSE(a.transport.disconnecting());
}

TEST(ChatProtocolNoTimeout, UsersStayForeverWithoutAnIdleTimeout) {
  spindle::testing::Clock clock;
  chat::ChatFactory factory{clock, std::nullopt};
  auto protocol = factory.buildProtocol(*spindle::Address::fromIp("192.0.2.7", 4000));
  spindle::testing::StringTransport transport;
  spindle::testing::connect(*protocol, transport);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(1e6);
  EXPECT_FALSE(transport.disconnecting());
  protocol->connectionLost(Failure(spindle::ConnectionDone()));
}

TEST_F(ChatProtocol, AnOverlongLineClosesTheConnection) {
  auto &a = join(), &b = join();
  clearAll();
  a.say(std::string(2000, 'x'));
  EXPECT_TRUE(a.transport.disconnecting());
  ASSERT_TRUE(a.transport.closeReason().has_value());
  EXPECT_TRUE(a.transport.closeReason()->check<spindle::FrameTooLongError>());
  EXPECT_EQ(b.lines(), Lines{});
  a.lose(*a.transport.closeReason());
  EXPECT_EQ(b.lines(), Lines{"* guest1 has left the chat (connection lost)."});
}

}  // namespace
