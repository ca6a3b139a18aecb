// LineReceiver and LineOnlyReceiver: splitting, limits, raw mode, pausing, re-entrancy.
#include <gtest/gtest.h>
#include <spindle/basic.hpp>
#include <spindle/testing.hpp>

#include "chunking.hpp"

using spindle::Failure;
using spindle::testing::Clock;
using spindle::testing::StringTransport;

namespace {

struct Lines : spindle::LineReceiver {
  std::vector<std::string> lines;
  std::vector<std::string> raw;
  std::vector<std::string> exceeded;
  std::function<void(Lines&, std::string_view)> onLine;
  void lineReceived(std::string_view line) override {
    lines.emplace_back(line);
    if (onLine) onLine(*this, line);
  }
  void rawDataReceived(std::string_view data) override { raw.emplace_back(data); }
  void lineLengthExceeded(std::string_view line) override {
    exceeded.emplace_back(line);
    LineReceiver::lineLengthExceeded(line);
  }
};

struct OnlyLines : spindle::LineOnlyReceiver {
  std::vector<std::string> lines;
  void lineReceived(std::string_view line) override { lines.emplace_back(line); }
};

template <class P>
std::vector<std::string> feed(const std::vector<std::string>& chunks, std::size_t maxLength = 16384,
                              bool* closed = nullptr) {
  P p;
  p.MAX_LENGTH = maxLength;
  StringTransport t;
  p.makeConnection(t);
  for (const auto& c : chunks)
    p.dataReceived(c);
  if (closed) *closed = t.disconnecting();
  return p.lines;
}

}  // namespace

TEST(LineReceiver, SplitsLinesWhateverTheChunking) {
  const std::string input = "first\r\nsecond line\r\n\r\nfourth\r\npartial";
  const std::vector<std::string> expected = {"first", "second line", "", "fourth"};
  for (const auto& chunks : spindle::test::chunkings(input)) {
    EXPECT_EQ(feed<Lines>(chunks), expected);
    EXPECT_EQ(feed<OnlyLines>(chunks), expected);
  }
}

TEST(LineReceiver, CustomDelimiter) {
  Lines p;
  p.delimiter = "\n";
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("a\nb\r\nc");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"a", "b\r"}));
  p.sendLine("out");
  EXPECT_EQ(t.value(), "out\n");
}

TEST(LineReceiver, SendLineAppendsDelimiter) {
  Lines p;
  StringTransport t;
  p.makeConnection(t);
  p.sendLine("hello");
  EXPECT_EQ(t.value(), "hello\r\n");
}

TEST(LineReceiver, LineOfExactlyMaxLengthIsAcceptedWhateverTheChunking) {
  const std::string line(10, 'x');
  for (const auto& chunks : spindle::test::chunkings(line + "\r\n")) {
    bool closed = true;
    EXPECT_EQ(feed<Lines>(chunks, 10, &closed), std::vector<std::string>{line});
    EXPECT_FALSE(closed);
    EXPECT_EQ(feed<OnlyLines>(chunks, 10, &closed), std::vector<std::string>{line});
    EXPECT_FALSE(closed);
  }
}

TEST(LineReceiver, LongLineClosesWithFrameTooLongWhateverTheChunking) {
  const std::string input = "ok\r\n" + std::string(11, 'x') + "\r\nafter\r\n";
  for (const auto& chunks : spindle::test::chunkings(input)) {
    bool closed = false;
    EXPECT_EQ(feed<Lines>(chunks, 10, &closed), std::vector<std::string>{"ok"});
    EXPECT_TRUE(closed);
    EXPECT_EQ(feed<OnlyLines>(chunks, 10, &closed), std::vector<std::string>{"ok"});
    EXPECT_TRUE(closed);
  }
}

TEST(LineReceiver, LongLineReasonNamesTheLimit) {
  Lines p;
  p.MAX_LENGTH = 4;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("abcdefgh");
  ASSERT_TRUE(t.closeReason().has_value());
  EXPECT_TRUE(t.closeReason()->check<spindle::FrameTooLongError>());
  EXPECT_TRUE(t.closeReason()->check<spindle::ProtocolError>());
  EXPECT_NE(t.closeReason()->getErrorMessage().find("MAX_LENGTH (4"), std::string::npos);
  ASSERT_EQ(p.exceeded.size(), 1u);
  EXPECT_EQ(p.exceeded[0], "abcdefgh");
}

TEST(LineReceiver, RawModeSwitchTakesEffectForTheNextByte) {
  const std::string input = "header\r\nRAWBYTES\r\nline\r\n";
  for (const auto& chunks : spindle::test::chunkings(input)) {
    Lines p;
    p.onLine = [](Lines& self, std::string_view line) {
      if (line == "header") self.setRawMode();
    };
    StringTransport t;
    p.makeConnection(t);
    for (const auto& c : chunks)
      p.dataReceived(c);
    EXPECT_EQ(p.lines, std::vector<std::string>{"header"});
    std::string raw;
    for (const auto& r : p.raw)
      raw += r;
    EXPECT_EQ(raw, "RAWBYTES\r\nline\r\n");
  }
}

TEST(LineReceiver, SetLineModeWithExtraFromRawData) {
  struct Switcher : Lines {
    void rawDataReceived(std::string_view data) override {
      raw.emplace_back(data);
      std::string_view d = data;
      auto pos = d.find('|');
      if (pos != std::string_view::npos) setLineMode(d.substr(pos + 1));
    }
  } p;
  StringTransport t;
  p.makeConnection(t);
  p.setRawMode();
  p.dataReceived("rawstuff|line1\r\nline2\r\n");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"line1", "line2"}));
  ASSERT_EQ(p.raw.size(), 1u);
}

TEST(LineReceiver, ClearLineBufferInsideCallbackTakesTheRest) {
  Lines p;
  std::string rest;
  p.onLine = [&](Lines& self, std::string_view) { rest = self.clearLineBuffer(); };
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("one\r\ntwo\r\nthree");
  EXPECT_EQ(p.lines, std::vector<std::string>{"one"});
  EXPECT_EQ(rest, "two\r\nthree");
  p.dataReceived("\r\n");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"one", ""}));
}

TEST(LineReceiver, ClearLineBufferOutsideCallback) {
  Lines p;
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("abc\r\npartial");
  EXPECT_EQ(p.clearLineBuffer(), "partial");
  p.dataReceived("x\r\n");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"abc", "x"}));
}

TEST(LineReceiver, PauseInsideLineReceivedHoldsBufferedLinesUntilResume) {
  // Twisted's test_pausing: a "pause" line pauses and schedules a resume on the clock.
  const std::string input = "twiddle1\r\ntwiddle2\r\npause\r\ntwiddle3\r\n";
  for (const auto& chunks : spindle::test::chunkings(input)) {
    Clock clock;
    Lines p;
    p.onLine = [&](Lines& self, std::string_view line) {
      if (line == "pause") {
        self.pauseProducing();
        clock.callLater(0, [&self] { self.resumeProducing(); });
      }
    };
    StringTransport t;
    p.makeConnection(t);
    for (const auto& c : chunks)
      p.dataReceived(c);
    EXPECT_EQ(p.lines, (std::vector<std::string>{"twiddle1", "twiddle2", "pause"}));
    EXPECT_EQ(t.producerState, "paused");
    clock.advance(0);
    EXPECT_EQ(p.lines, (std::vector<std::string>{"twiddle1", "twiddle2", "pause", "twiddle3"}));
    EXPECT_EQ(t.producerState, "producing");
  }
}

TEST(LineReceiver, StopsDeliveringAfterLoseConnection) {
  Lines p;
  p.onLine = [](Lines& self, std::string_view line) {
    if (line == "quit") self.transport->loseConnection();
  };
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("a\r\nquit\r\nb\r\n");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"a", "quit"}));
}

TEST(LineReceiver, ReentrantDataReceivedIsQueuedAfterBufferedBytes) {
  Lines p;
  p.onLine = [](Lines& self, std::string_view line) {
    if (line == "a") self.dataReceived("injected\r\n");
  };
  StringTransport t;
  p.makeConnection(t);
  p.dataReceived("a\r\nb\r\n");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"a", "b", "injected"}));
}

TEST(LineReceiver, LongLineArrivingByteByByteIsScannedOnce) {
  // Correctness of the scan hint: a delimiter split across pieces is still found.
  Lines p;
  p.MAX_LENGTH = 100000;
  StringTransport t;
  p.makeConnection(t);
  std::string line(50000, 'y');
  for (char c : line)
    p.dataReceived(std::string_view(&c, 1));
  p.dataReceived("\r");
  p.dataReceived("\nz\r\n");
  ASSERT_EQ(p.lines.size(), 2u);
  EXPECT_EQ(p.lines[0], line);
  EXPECT_EQ(p.lines[1], "z");
}

TEST(LineReceiver, RawModeWithoutOverrideClosesThroughTheTransport) {
  struct NoRaw : spindle::LineReceiver {
    void lineReceived(std::string_view) override { setRawMode(); }
  } p;
  StringTransport t;
  p.makeConnection(t);
  EXPECT_THROW(p.dataReceived("x\r\nraw"), spindle::Error);
}
