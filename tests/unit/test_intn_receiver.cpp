// Int8/16/32StringReceiver: big-endian prefixes, limits, and chunking independence.
#include <gtest/gtest.h>
#include <spindle/basic.hpp>
#include <spindle/testing.hpp>

#include "chunking.hpp"

using spindle::testing::StringTransport;

namespace {

template <class Base>
struct Strings : Base {
  std::vector<std::string> got;
  std::vector<std::size_t> exceeded;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
  void lengthLimitExceeded(std::size_t length) override {
    exceeded.push_back(length);
    Base::lengthLimitExceeded(length);
  }
};

std::string prefix(std::size_t n, std::size_t len) {
  std::string p;
  for (std::size_t k = 0; k < n; ++k)
    p += static_cast<char>((len >> (8 * (n - 1 - k))) & 0xff);
  return p;
}

template <class Base>
void roundTrip(std::size_t n) {
  Strings<Base> sender;
  StringTransport wire;
  sender.makeConnection(wire);
  std::vector<std::string> messages = {"hello", "", std::string(200, 'z'), "a\0b"};
  for (const auto& m : messages)
    sender.sendString(m);
  EXPECT_EQ(wire.value().substr(0, n), prefix(n, 5));
  for (const auto& chunks : spindle::test::chunkings(wire.value())) {
    Strings<Base> receiver;
    StringTransport t;
    receiver.makeConnection(t);
    for (const auto& c : chunks)
      receiver.dataReceived(c);
    EXPECT_EQ(receiver.got, messages);
    EXPECT_FALSE(t.disconnecting());
  }
}

}  // namespace

TEST(IntNStringReceiver, Int8RoundTripsWhateverTheChunking) {
  roundTrip<spindle::Int8StringReceiver>(1);
}
TEST(IntNStringReceiver, Int16RoundTripsWhateverTheChunking) {
  roundTrip<spindle::Int16StringReceiver>(2);
}
TEST(IntNStringReceiver, Int32RoundTripsWhateverTheChunking) {
  roundTrip<spindle::Int32StringReceiver>(4);
}

TEST(IntNStringReceiver, PrefixIsBigEndian) {
  Strings<spindle::Int32StringReceiver> p;
  StringTransport t;
  p.makeConnection(t);
  p.sendString(std::string(0x0102, 'x'));
  EXPECT_EQ(t.value().substr(0, 4), std::string("\x00\x00\x01\x02", 4));
}

TEST(IntNStringReceiver, LengthOverMaxClosesWithReasonAndKeepsEarlierStrings) {
  std::string input =
      prefix(4, 2) + "ok" + prefix(4, 11) + std::string(11, 'x') + prefix(4, 1) + "z";
  for (const auto& chunks : spindle::test::chunkings(input)) {
    Strings<spindle::Int32StringReceiver> p;
    p.MAX_LENGTH = 10;
    StringTransport t;
    p.makeConnection(t);
    for (const auto& c : chunks)
      p.dataReceived(c);
    EXPECT_EQ(p.got, std::vector<std::string>{"ok"});
    EXPECT_EQ(p.exceeded, std::vector<std::size_t>{11});
    ASSERT_TRUE(t.closeReason().has_value());
    EXPECT_TRUE(t.closeReason()->check<spindle::FrameTooLongError>());
  }
}

TEST(IntNStringReceiver, SendStringTooLongForThePrefixThrows) {
  Strings<spindle::Int8StringReceiver> p8;
  Strings<spindle::Int16StringReceiver> p16;
  StringTransport t;
  p8.makeConnection(t);
  p16.makeConnection(t);
  EXPECT_NO_THROW(p8.sendString(std::string(255, 'a')));
  EXPECT_THROW(p8.sendString(std::string(256, 'a')), spindle::StringTooLongError);
  EXPECT_THROW(p16.sendString(std::string(65536, 'a')), spindle::StringTooLongError);
}

TEST(IntNStringReceiver, PauseHoldsBufferedStrings) {
  struct Pausing : Strings<spindle::Int8StringReceiver> {
    void stringReceived(std::string_view s) override {
      got.emplace_back(s);
      if (s == "p") pauseProducing();
    }
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived(prefix(1, 1) + "p" + prefix(1, 1) + "q");
  EXPECT_EQ(p.got, std::vector<std::string>{"p"});
  p.resumeProducing();
  EXPECT_EQ(p.got, (std::vector<std::string>{"p", "q"}));
}
