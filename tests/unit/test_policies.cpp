// Policies on the doubles: idle timeouts, connection limits, reconnection backoff.
#include <gtest/gtest.h>
#include <spindle/basic.hpp>
#include <spindle/policies.hpp>
#include <spindle/tcp.hpp>
#include <spindle/testing.hpp>

using spindle::Address;
using spindle::Connector;
using spindle::Failure;
using spindle::testing::Clock;
using spindle::testing::StringTransport;

namespace {

struct Idle : spindle::TimeoutMixin<spindle::LineReceiver> {
  explicit Idle(Clock& c) : TimeoutMixin(c) {}
  std::vector<std::string> lines;
  void connectionMade() override { setTimeout(10); }
  void lineReceived(std::string_view line) override { lines.emplace_back(line); }
};

}  // namespace

TEST(TimeoutMixin, DropsAnIdleConnectionWithAReason) {
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  clock.advance(9.9);
  EXPECT_FALSE(t.disconnecting());
  clock.advance(0.1);
  EXPECT_TRUE(t.disconnecting());
  ASSERT_TRUE(t.closeReason());
  EXPECT_TRUE(t.closeReason()->check<spindle::IdleTimeoutError>());
}

TEST(TimeoutMixin, TrafficResetsTheTimer) {
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  for (int i = 0; i < 5; ++i) {
    clock.advance(9);
    p.dataReceived("x\r\n");
  }
  EXPECT_FALSE(t.disconnecting());
  EXPECT_EQ(p.lines.size(), 5u);
  clock.advance(10);
  EXPECT_TRUE(t.disconnecting());
}

TEST(TimeoutMixin, ResumingAPausedReceiverIsNotTraffic) {
  // resumeProducing delivers what waited, but the peer sent nothing new: the idle clock runs on.
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  p.pauseProducing();
  clock.advance(9);
  p.resumeProducing();
  clock.advance(1);
  EXPECT_TRUE(t.disconnecting()) << "resumeProducing reset the idle timer";
}

TEST(TimeoutMixin, LinesThatWaitedForResumeAreDelivered) {
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  p.pauseProducing();
  p.dataReceived("a\r\nb\r\n");
  EXPECT_TRUE(p.lines.empty());
  p.resumeProducing();
  EXPECT_EQ(p.lines, (std::vector<std::string>{"a", "b"}));
}

TEST(TimeoutMixin, SetTimeoutNulloptDisablesAndReturnsPrevious) {
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  EXPECT_EQ(p.setTimeout(std::nullopt), std::optional<double>(10));
  clock.advance(100);
  EXPECT_FALSE(t.disconnecting());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(TimeoutMixin, ChangingTheTimeoutReschedules) {
  Clock clock;
  Idle p(clock);
  StringTransport t;
  p.makeConnection(t);
  clock.advance(5);
  p.setTimeout(2);
  clock.advance(1.9);
  EXPECT_FALSE(t.disconnecting());
  clock.advance(0.1);
  EXPECT_TRUE(t.disconnecting());
}

TEST(TimeoutMixin, ConnectionLostAndDestructionCancelTheTimer) {
  Clock clock;
  {
    Idle p(clock);
    StringTransport t;
    p.makeConnection(t);
    p.connectionLost(Failure(spindle::ConnectionDone()));
    EXPECT_TRUE(clock.getDelayedCalls().empty());
  }
  {
    auto p = std::make_unique<Idle>(clock);
    StringTransport t;
    p->makeConnection(t);
    p.reset();
    EXPECT_TRUE(clock.getDelayedCalls().empty());
  }
  clock.advance(100);  // nothing fires on a dead protocol (ASan would tell)
}

// --- Connection limits ---------------------------------------------------------------------

namespace {

struct Counted : spindle::Protocol {
  int* made;
  int* lost;
  Counted(int* m, int* l) : made(m), lost(l) {}
  void connectionMade() override { ++*made; }
  void connectionLost(const Failure&) override { ++*lost; }
};

struct CountingFactory : spindle::ServerFactory {
  int made = 0, lost = 0, started = 0, stopped = 0;
  std::unique_ptr<spindle::Protocol> buildProtocol(const Address&) override {
    return makeProtocol<Counted>(&made, &lost);
  }
  void startFactory() override { ++started; }
  void stopFactory() override { ++stopped; }
};

Address peer(const char* ip, uint16_t port) {
  return *Address::fromIp(ip, port);
}

}  // namespace

TEST(LimitTotalConnectionsFactory, RefusesBeyondTheLimitAndCountsCloses) {
  auto inner = std::make_shared<CountingFactory>();
  spindle::LimitTotalConnectionsFactory limit(inner, 2);
  StringTransport t1, t2, t3;
  auto p1 = limit.buildProtocol(peer("127.0.0.1", 1));
  p1->makeConnection(t1);
  auto p2 = limit.buildProtocol(peer("127.0.0.1", 2));
  p2->makeConnection(t2);
  EXPECT_EQ(limit.connectionCount(), 2u);
  EXPECT_EQ(limit.buildProtocol(peer("127.0.0.1", 3)), nullptr);
  p1->connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(limit.connectionCount(), 1u);
  auto p3 = limit.buildProtocol(peer("127.0.0.1", 3));
  ASSERT_NE(p3, nullptr);
  p3->makeConnection(t3);
  EXPECT_EQ(inner->made, 3);
  EXPECT_EQ(inner->lost, 1);
}

TEST(LimitTotalConnectionsFactory, WrappedProtocolSeesItsOwnFactoryAndTheRealTransport) {
  auto inner = std::make_shared<CountingFactory>();
  spindle::LimitTotalConnectionsFactory limit(inner, 5);
  auto p = limit.buildProtocol(peer("127.0.0.1", 1));
  StringTransport t;
  p->makeConnection(t);
  auto& wrapper = static_cast<spindle::ProtocolWrapper&>(*p);
  EXPECT_EQ(wrapper.wrappedProtocol().factory(), inner.get());
  EXPECT_EQ(wrapper.wrappedProtocol().transport, &t);
}

TEST(LimitTotalConnectionsFactory, StartAndStopReachTheWrappedFactory) {
  auto inner = std::make_shared<CountingFactory>();
  spindle::LimitTotalConnectionsFactory limit(inner, 5);
  limit.doStart();
  limit.doStart();
  limit.doStop();
  EXPECT_EQ(inner->started, 1);
  EXPECT_EQ(inner->stopped, 0);
  limit.doStop();
  EXPECT_EQ(inner->stopped, 1);
}

TEST(LimitConnectionsByPeer, LimitsEachPeerSeparately) {
  auto inner = std::make_shared<CountingFactory>();
  spindle::LimitConnectionsByPeer limit(inner, 2);
  StringTransport t;
  auto a1 = limit.buildProtocol(peer("127.0.0.2", 1));
  auto a2 = limit.buildProtocol(peer("127.0.0.2", 2));
  a1->makeConnection(t);
  a2->makeConnection(t);
  EXPECT_EQ(limit.buildProtocol(peer("127.0.0.2", 3)), nullptr);
  auto b1 = limit.buildProtocol(peer("127.0.0.3", 1));
  EXPECT_NE(b1, nullptr);
  EXPECT_EQ(limit.connectionsFrom("127.0.0.2"), 2u);
  a1->connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(limit.connectionsFrom("127.0.0.2"), 1u);
  EXPECT_NE(limit.buildProtocol(peer("127.0.0.2", 4)), nullptr);
}

TEST(LimitConnectionsByPeer, ProtocolDestroyedWithoutConnectionLostIsUncounted) {
  auto inner = std::make_shared<CountingFactory>();
  spindle::LimitConnectionsByPeer limit(inner, 1);
  { auto a = limit.buildProtocol(peer("127.0.0.2", 1)); }
  EXPECT_EQ(limit.connectionsFrom("127.0.0.2"), 0u);
}

// --- ReconnectingClientFactory --------------------------------------------------------------

namespace {

/// A Connector that records connect() calls; its state is set by the test.
struct FakeConnector : Connector {
  explicit FakeConnector(spindle::ClientFactory& f) : f_(f) {}
  spindle::HostPort getDestination() const override { return {"example.invalid", 1}; }
  void stopConnecting() override {
    if (state_ != State::Connecting) throw spindle::Error("not connecting");
    ++stops;
    state_ = State::Disconnected;
  }
  void disconnect() override {}
  void connect() override {
    ++connects;
    state_ = State::Connecting;
  }
  State state() const override { return state_; }
  spindle::ClientFactory& factory() const override { return f_; }
  void failNow() {
    state_ = State::Disconnected;
    f_.clientConnectionFailed(*this, Failure(spindle::ConnectionRefusedError()));
  }
  int connects = 0, stops = 0;
  State state_ = State::Connecting;
  spindle::ClientFactory& f_;
};

}  // namespace

TEST(ReconnectingClientFactory, BackoffSequenceWithoutJitter) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  f.jitter = 0;
  f.initialDelay = 1;
  f.factor = 2;
  f.maxDelay = 10;
  auto c = std::make_shared<FakeConnector>(f);
  std::vector<double> waits;
  for (int i = 0; i < 6; ++i) {
    c->failNow();
    ASSERT_TRUE(f.pendingWait());
    waits.push_back(*f.pendingWait());
    clock.advance(*f.pendingWait());
    EXPECT_EQ(c->connects, i + 1);
  }
  EXPECT_EQ(waits, (std::vector<double>{1, 2, 4, 8, 10, 10}));
  EXPECT_EQ(f.retries(), 6);
}

TEST(ReconnectingClientFactory, JitterStaysWithinBoundsAndMaxDelay) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  f.seed(42);
  f.jitter = 0.5;
  f.maxDelay = 30;
  auto c = std::make_shared<FakeConnector>(f);
  for (int i = 0; i < 50; ++i) {
    c->failNow();
    double w = *f.pendingWait();
    EXPECT_GE(w, 0);
    EXPECT_LE(w, 30);
    clock.advance(w);
  }
}

TEST(ReconnectingClientFactory, ResetDelayStartsOver) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  f.jitter = 0;
  auto c = std::make_shared<FakeConnector>(f);
  c->failNow();
  clock.advance(*f.pendingWait());
  c->failNow();
  EXPECT_GT(*f.pendingWait(), 1.0);
  clock.advance(*f.pendingWait());
  f.resetDelay();
  EXPECT_EQ(f.retries(), 0);
  c->failNow();
  EXPECT_DOUBLE_EQ(*f.pendingWait(), 1.0);
}

TEST(ReconnectingClientFactory, MaxRetriesGivesUp) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  f.jitter = 0;
  f.maxRetries = 2;
  auto c = std::make_shared<FakeConnector>(f);
  c->failNow();
  clock.advance(100);
  c->failNow();
  clock.advance(100);
  c->failNow();
  EXPECT_FALSE(f.pendingWait());
  EXPECT_EQ(c->connects, 2);
}

TEST(ReconnectingClientFactory, StopTryingCancelsThePendingRetryAndTheAttempt) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  auto c = std::make_shared<FakeConnector>(f);
  c->failNow();
  f.stopTrying();
  clock.advance(10000);
  EXPECT_EQ(c->connects, 0);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  c->failNow();  // a late failure is not retried
  EXPECT_FALSE(f.pendingWait());
  // stopTrying while an attempt is under way stops it.
  spindle::ReconnectingClientFactory g(clock);
  auto d = std::make_shared<FakeConnector>(g);
  d->failNow();
  clock.advance(*g.pendingWait());
  EXPECT_EQ(d->state(), Connector::State::Connecting);
  g.stopTrying();
  EXPECT_EQ(d->stops, 1);
}

TEST(ReconnectingClientFactory, LostConnectionIsRetriedToo) {
  Clock clock;
  spindle::ReconnectingClientFactory f(clock);
  f.jitter = 0;
  auto c = std::make_shared<FakeConnector>(f);
  c->state_ = Connector::State::Disconnected;
  f.clientConnectionLost(*c, Failure(spindle::ConnectionLost()));
  clock.advance(1);
  EXPECT_EQ(c->connects, 1);
}
