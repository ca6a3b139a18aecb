// The slow poetry server's protocol, driven by a string transport and a fake clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <spindle/testing.hpp>

#include "poetry.hpp"

namespace {

using poetry::SlowPoetryFactory;
using poetry::SlowPoetryProtocol;

const std::string kPoem = "Warp is the list of things that must be done,\n";  // 46 bytes

class PoetryServerProtocol : public ::testing::Test {
 protected:
  std::unique_ptr<SlowPoetryProtocol> serve(spindle::testing::StringTransport& t,
                                            poetry::ServeOptions options,
                                            const std::string& poem = kPoem) {
    auto p = std::make_unique<SlowPoetryProtocol>(clock, std::make_shared<const std::string>(poem),
                                                  options);
    spindle::testing::connect(*p, t);
    return p;
  }

  spindle::testing::Clock clock;
  spindle::testing::StringTransport transport;
};

TEST_F(PoetryServerProtocol, SendsNumBytesEveryDelayThenCloses) {
  auto p = serve(transport, {.delay = 0.5, .numBytes = 10});
  EXPECT_EQ(transport.value(), kPoem.substr(0, 10));  // the first chunk at once
  clock.advance(0.4);
  EXPECT_EQ(transport.value().size(), 10u);
  clock.advance(0.1);
  EXPECT_EQ(transport.value(), kPoem.substr(0, 20));
  clock.pump({0.5, 0.5});
  EXPECT_EQ(transport.value(), kPoem.substr(0, 40));
  EXPECT_FALSE(transport.disconnecting());
  clock.advance(0.5);
  EXPECT_EQ(transport.value(), kPoem);  // 6 bytes left: a short last chunk, then close
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  EXPECT_EQ(p->sent(), kPoem.size());
}

TEST_F(PoetryServerProtocol, DelayZeroSendsEverythingAtOnce) {
  serve(transport, {.delay = 0, .numBytes = 10});
  EXPECT_EQ(transport.value(), kPoem);
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryServerProtocol, EmptyPoemClosesAtOnce) {
  serve(transport, {.delay = 0.5, .numBytes = 10}, "");
  EXPECT_EQ(transport.value(), "");
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryServerProtocol, ClientThatGoesAwayStopsItsSchedule) {
  auto p = serve(transport, {.delay = 0.5, .numBytes = 10});
  clock.advance(0.5);
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  p->connectionLost(spindle::Failure(spindle::ConnectionLost()));
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  p.reset();
  clock.advance(5);  // nothing left to run into the destroyed protocol
  EXPECT_EQ(transport.value(), kPoem.substr(0, 20));
}

TEST_F(PoetryServerProtocol, EachClientHasItsOwnSchedule) {
  spindle::testing::StringTransport other;
  auto a = serve(transport, {.delay = 1.0, .numBytes = 4});
  clock.advance(0.5);
  auto b = serve(other, {.delay = 1.0, .numBytes = 4});
  clock.advance(0.5);  // t=1.0: a's second chunk
  EXPECT_EQ(transport.value(), kPoem.substr(0, 8));
  EXPECT_EQ(other.value(), kPoem.substr(0, 4));
  clock.advance(0.5);  // t=1.5: b's second chunk
  EXPECT_EQ(transport.value(), kPoem.substr(0, 8));
  EXPECT_EQ(other.value(), kPoem.substr(0, 8));
}

TEST_F(PoetryServerProtocol, FactoryBuildsProtocolsAndReportsPeers) {
  auto poem = std::make_shared<const std::string>(kPoem);
  SlowPoetryFactory factory(clock, poem, {.delay = 0, .numBytes = 10});
  std::vector<spindle::Address> peers;
  factory.onConnection = [&](const spindle::Address& a) { peers.push_back(a); };
  auto peer = *spindle::Address::fromIp("127.0.0.1", 54321);
  auto p = factory.buildProtocol(peer);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->factory(), &factory);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0], peer);
  spindle::testing::connect(*p, transport);
  EXPECT_EQ(transport.value(), kPoem);
}

}  // namespace

namespace {

/// Records the shared writes it is given (and copies their bytes like any StringTransport).
struct SharingTransport : spindle::testing::StringTransport {
  std::vector<spindle::SharedBytes> shared;
  using StringTransport::write;
  void write(const spindle::SharedBytes& data) override {
    shared.push_back(data);
    StringTransport::write(data.view());
  }
};

}  // namespace

TEST(SlowPoetryProtocolProducer, FastModeHandsTheWholePoemOverByReference) {
  spindle::testing::Clock clock;
  auto poem = std::make_shared<const std::string>(std::string(1 << 20, 'p'));
  poetry::SlowPoetryProtocol p(clock, poem, {.delay = 0.0, .numBytes = 10});
  SharingTransport t;
  p.makeConnection(t);
  ASSERT_EQ(t.shared.size(), 1u) << "one write of the whole poem";
  EXPECT_EQ(t.shared[0].data(), poem->data()) << "the poem itself, not a copy";
  EXPECT_EQ(t.shared[0].size(), poem->size());
  EXPECT_EQ(t.value(), *poem);
  EXPECT_TRUE(t.disconnecting());
  EXPECT_EQ(t.producer(), nullptr) << "fast mode needs no producer";
  EXPECT_EQ(p.sent(), poem->size());
}

TEST(SlowPoetryProtocolProducer, SlowModeHoldsItsScheduleWhilePaused) {
  spindle::testing::Clock clock;
  auto poem = std::make_shared<const std::string>("abcdefghij");
  poetry::SlowPoetryProtocol p(clock, poem, {.delay = 1.0, .numBytes = 2});
  spindle::testing::StringTransport t;
  p.makeConnection(t);
  EXPECT_EQ(t.value(), "ab");
  p.pauseProducing();
  clock.advance(5);
  EXPECT_EQ(t.value(), "ab");
  p.resumeProducing();
  clock.advance(1);
  EXPECT_EQ(t.value(), "abcd");
  clock.pump({1, 1, 1});
  EXPECT_EQ(t.value(), "abcdefghij");
  EXPECT_TRUE(t.disconnecting());
}
