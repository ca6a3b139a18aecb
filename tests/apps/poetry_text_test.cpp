// Character counting, elapsed-time formatting, report lines and call-chain trimming.
#include <gtest/gtest.h>

#include "call_chain.hpp"
#include "poetry.hpp"

namespace {

using namespace std::chrono_literals;
using poetry::countCodePoints;

TEST(PoetryCodePoints, AsciiIsOneCharacterPerByte) {
  EXPECT_EQ(countCodePoints(""), 0u);
  EXPECT_EQ(countCodePoints("spindle\n"), 8u);
}

TEST(PoetryCodePoints, MultiByteSequencesCountOnce) {
  EXPECT_EQ(countCodePoints("\xc3\xa9"), 1u);          // é, 2 bytes
  EXPECT_EQ(countCodePoints("\xe2\x82\xac"), 1u);      // €, 3 bytes
  EXPECT_EQ(countCodePoints("\xf0\x9d\x84\x9e"), 1u);  // G clef, 4 bytes
  EXPECT_EQ(countCodePoints("L'\xc3\xa9"
                            "cluse"),
            8u);  // L'écluse: 9 bytes
  EXPECT_EQ(countCodePoints("\xc3\xa0 \xc3\xa2 \xc3\xa7"), 5u);
}

TEST(PoetryCodePoints, StrayContinuationBytesAreNotCounted) {
  EXPECT_EQ(countCodePoints("\x80\x80"), 0u);
  EXPECT_EQ(countCodePoints("a\xbf"
                            "b"),
            2u);
}

TEST(PoetryCodePoints, ChunkBoundariesDoNotMatter) {
  std::string text = "D\xc3\xa9j\xc3\xa0 la nuit";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(countCodePoints(std::string_view(text).substr(0, cut)) +
                  countCodePoints(std::string_view(text).substr(cut)),
              countCodePoints(text));
  }
}

TEST(PoetryElapsed, FormatsAsTimedelta) {
  EXPECT_EQ(poetry::formatElapsed(0s), "0:00:00.000000");
  EXPECT_EQ(poetry::formatElapsed(1.234567s), "0:00:01.234567");
  EXPECT_EQ(poetry::formatElapsed(3725.5s), "1:02:05.500000");
  EXPECT_EQ(poetry::formatElapsed(59.9999996s), "0:01:00.000000");
  EXPECT_EQ(poetry::formatElapsed(-1s), "0:00:00.000000");
}

TEST(PoetryReport, DescribesEachOutcome) {
  using spindle::Failure;
  using Result = spindle::Result<std::string>;
  spindle::HostPort where{"127.0.0.1", 10000};
  EXPECT_EQ(poetry::describe(2, where, Result("\xc3\xa9t\xc3\xa9\n"), {}),
            "Task 2: 4 characters of poetry");
  Failure refused{spindle::ConnectionRefusedError()};
  EXPECT_EQ(poetry::describe(1, where, Result(refused), {}),
            "Failed to connect to: 127.0.0.1:10000 (" + refused.getErrorMessage() + ")");
  Failure dns{spindle::DNSLookupError("no such host")};
  EXPECT_EQ(poetry::describe(3, {"::1", 7}, Result(dns), {}),
            "Failed to connect to: [::1]:7 (" + dns.getErrorMessage() + ")");
  EXPECT_EQ(poetry::describe(1, where, Result(Failure(spindle::ConnectionLost("reset"))), {}),
            "Task 1: connection lost (reset)");
  Failure late{spindle::DeferredTimeoutError(0.3)};
  EXPECT_EQ(poetry::describe(4, where, Result(late), 0.3), "Task 4: timed out after 0.3 seconds");
  EXPECT_EQ(poetry::describe(4, where, Result(late), {}), "Task 4: timed out after 0.3 seconds");
}

std::vector<poetry::Frame> frames(std::initializer_list<const char*> names) {
  std::vector<poetry::Frame> out;
  for (auto* n : names)
    out.push_back({n, ""});
  return out;
}

TEST(PoetryCallChain, TrimsAboveTheReactorAndBelowTheHandler) {
  auto chain = frames({"captureCallChain", "lambda", "poetry::PoetryProtocol::dataReceived(x)",
                       "spindle::detail::TcpConnection::doRead()", "spindle::Reactor::Impl::step()",
                       "spindle::Reactor::run(spindle::RunOptions)", "main", "__libc_start_main"});
  auto trimmed =
      poetry::trimCallChain(chain, "spindle::Reactor::run", "PoetryProtocol::dataReceived");
  ASSERT_EQ(trimmed.size(), 4u);
  EXPECT_EQ(trimmed.front().function, "poetry::PoetryProtocol::dataReceived(x)");
  EXPECT_EQ(trimmed.back().function, "spindle::Reactor::run(spindle::RunOptions)");
  // Printed outermost first: the reactor's loop on the first line, the handler on the last.
  EXPECT_EQ(poetry::formatCallChain(trimmed),
            "  spindle::Reactor::run(spindle::RunOptions)\n  spindle::Reactor::Impl::step()\n"
            "  spindle::detail::TcpConnection::doRead()\n"
            "  poetry::PoetryProtocol::dataReceived(x)\n");
}

TEST(PoetryCallChain, MissingMarkersLeaveTheChainWhole) {
  auto chain = frames({"a", "b", "c"});
  EXPECT_EQ(poetry::trimCallChain(chain, "nowhere", "nothing").size(), 3u);
}

TEST(PoetryCallChain, ReadableNamesShortenStringTypes) {
  EXPECT_EQ(poetry::readableName("f(std::basic_string_view<char, std::char_traits<char> >)"),
            "f(std::string_view)");
}

TEST(PoetryCallChain, CapturesThisTest) {
  auto chain = poetry::captureCallChain();
  ASSERT_FALSE(chain.empty());
  // With libbacktrace, frames carry their source location (the glibc fallback has none, and
  // sees no names in an executable built without -rdynamic).
  bool located = false, here = false;
  for (auto& f : chain) {
    located |= !f.location.empty();
    here |= f.location.find("poetry_text_test.cpp") != std::string::npos;
  }
  if (located) {
    EXPECT_TRUE(here) << poetry::formatCallChain(chain);
  }
}

}  // namespace
