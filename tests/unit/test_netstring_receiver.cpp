// NetstringReceiver: framing whatever the chunking, and every malformed case closing cleanly.
#include <gtest/gtest.h>
#include <spindle/basic.hpp>
#include <spindle/testing.hpp>

#include "chunking.hpp"

using spindle::testing::StringTransport;

namespace {

struct Strings : spindle::NetstringReceiver {
  std::vector<std::string> got;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
};

struct Outcome {
  std::vector<std::string> strings;
  bool closed = false;
  std::string reason;
  bool operator==(const Outcome&) const = default;
};

Outcome feed(const std::vector<std::string>& chunks, std::size_t maxLength = 99999) {
  Strings p;
  p.MAX_LENGTH = maxLength;
  StringTransport t;
  p.makeConnection(t);
  for (const auto& c : chunks)
    p.dataReceived(c);
  Outcome o{p.got, t.disconnecting(), ""};
  if (t.closeReason()) {
    EXPECT_TRUE(t.closeReason()->check<spindle::NetstringParseError>());
    o.reason = t.closeReason()->getErrorMessage();
  }
  EXPECT_EQ(p.brokenPeer(), o.closed);
  return o;
}

/// Feeds `input` in every chunking; all must agree with feeding it whole.
Outcome feedAllWays(const std::string& input, std::size_t maxLength = 99999) {
  Outcome whole = feed({input}, maxLength);
  for (const auto& chunks : spindle::test::chunkings(input)) {
    EXPECT_EQ(feed(chunks, maxLength), whole) << "input: " << input;
  }
  return whole;
}

}  // namespace

TEST(NetstringReceiver, DeliversStringsWhateverTheChunking) {
  Outcome o = feedAllWays("5:hello,0:,12:hello world!,3:a:,,");
  EXPECT_EQ(o.strings, (std::vector<std::string>{"hello", "", "hello world!", "a:,"}));
  EXPECT_FALSE(o.closed);
}

TEST(NetstringReceiver, SendStringWritesTheWireFormat) {
  Strings p;
  StringTransport t;
  p.makeConnection(t);
  p.sendString("hello");
  p.sendString("");
  EXPECT_EQ(t.value(), "5:hello,0:,");
}

struct Malformed {
  std::string input;
  std::string fault;  // a phrase the reason must contain
};

class NetstringMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(NetstringMalformed, ClosesWithReasonKeepingEarlierStringsAndNothingAfter) {
  const Malformed& m = GetParam();
  Outcome o = feedAllWays("3:abc," + m.input + "3:xyz,", 20);
  EXPECT_EQ(o.strings, std::vector<std::string>{"abc"});
  EXPECT_TRUE(o.closed);
  EXPECT_NE(o.reason.find(m.fault), std::string::npos) << o.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, NetstringMalformed,
    ::testing::Values(Malformed{"x:abc,", "non-digit"}, Malformed{" 3:abc,", "non-digit"},
                      Malformed{"-3:abc,", "sign"}, Malformed{"+3:abc,", "sign"},
                      Malformed{"03:abc,", "leading zero"}, Malformed{"00:,", "leading zero"},
                      Malformed{"21:" + std::string(21, 'a') + ",", "MAX_LENGTH"},
                      Malformed{"99999999999999999999999:", "MAX_LENGTH"},
                      Malformed{"3;abc,", "colon"}, Malformed{"3 :abc,", "colon"},
                      Malformed{"3:abcd", "comma"}, Malformed{"3:abc;", "comma"}));

TEST(NetstringReceiver, OverlongLengthIsRejectedBeforeTheColonArrives) {
  Strings p;
  p.MAX_LENGTH = 50;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("51");
  EXPECT_TRUE(t.disconnecting());
  EXPECT_TRUE(p.brokenPeer());
}

TEST(NetstringReceiver, LeadingZeroIsRejectedAsSoonAsTheSecondDigitArrives) {
  Strings p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("0");
  EXPECT_FALSE(t.disconnecting());
  p.dataReceived("1");
  EXPECT_TRUE(t.disconnecting());
}

TEST(NetstringReceiver, NothingIsDeliveredAfterTheFaultEvenInLaterReads) {
  Strings p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("2:ok,x");
  p.dataReceived("3:abc,");
  EXPECT_EQ(p.got, std::vector<std::string>{"ok"});
}

TEST(NetstringReceiver, StringOfExactlyMaxLengthIsAccepted) {
  Outcome o = feedAllWays("5:abcde,", 5);
  EXPECT_EQ(o.strings, std::vector<std::string>{"abcde"});
  EXPECT_FALSE(o.closed);
}
