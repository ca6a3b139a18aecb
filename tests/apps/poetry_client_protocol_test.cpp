// The poetry client's protocol and factory, driven by a string transport and a fake clock.
#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "poetry.hpp"

namespace {

using poetry::Outcome;
using poetry::PoetryClientFactory;
using poetry::TaskResult;
using spindle::Failure;

// A connector that only records what the factory asks of it.
class FakeConnector : public spindle::Connector {
 public:
  explicit FakeConnector(spindle::ClientFactory& f) : factory_(f) {}
  spindle::HostPort getDestination() const override { return {"127.0.0.1", 10000}; }
  void stopConnecting() override {
    ++stops;
    state_ = State::Disconnected;
    factory_.clientConnectionFailed(*this, Failure(spindle::UserError()));
  }
  void disconnect() override {}
  void connect() override { state_ = State::Connecting; }
  State state() const override { return state_; }
  spindle::ClientFactory& factory() const override { return factory_; }

  int stops = 0;
  State state_ = State::Connecting;

 private:
  spindle::ClientFactory& factory_;
};

class PoetryClientProtocol : public ::testing::Test {
 protected:
  std::shared_ptr<PoetryClientFactory> makeFactory(std::optional<double> timeout) {
    poetry::ClientEvents events;
    events.chunk = [this](int task, std::size_t bytes, const spindle::Address& peer) {
      chunks.push_back(bytes);
      EXPECT_EQ(task, 3);
      EXPECT_EQ(peer, transport.getPeer());
    };
    events.done = [this](const TaskResult& r) { results.push_back(r); };
    return std::make_shared<PoetryClientFactory>(clock, 3, spindle::HostPort{"127.0.0.1", 10000},
                                                 timeout, events);
  }

  // Starts the task as connectTCP would, then connects a protocol to the string transport.
  spindle::Protocol& connect(PoetryClientFactory& factory) {
    factory.startedConnecting(connector(factory));
    protocol = factory.buildProtocol(transport.getPeer());
    connector_->state_ = spindle::Connector::State::Connected;
    spindle::testing::connect(*protocol, transport);
    return *protocol;
  }

  FakeConnector& connector(PoetryClientFactory& factory) {
    if (!connector_) connector_ = std::make_shared<FakeConnector>(factory);
    return *connector_;
  }

  spindle::testing::Clock clock;
  spindle::testing::StringTransport transport;
  std::unique_ptr<spindle::Protocol> protocol;
  std::shared_ptr<FakeConnector> connector_;
  std::vector<std::size_t> chunks;
  std::vector<TaskResult> results;
};

TEST_F(PoetryClientProtocol, CollectsThePoemUntilTheServerCloses) {
  auto factory = makeFactory(std::nullopt);
  auto& p = connect(*factory);
  p.dataReceived("Warp is the ");
  p.dataReceived("list\n");
  EXPECT_TRUE(results.empty());
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(chunks, (std::vector<std::size_t>{12, 5}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].task, 3);
  EXPECT_EQ(results[0].outcome, Outcome::Poem);
  EXPECT_EQ(results[0].poem, "Warp is the list\n");
  EXPECT_EQ(results[0].address, (spindle::HostPort{"127.0.0.1", 10000}));
  EXPECT_TRUE(factory->finished());
}

TEST_F(PoetryClientProtocol, NoTimeoutSchedulesNothing) {
  auto factory = makeFactory(std::nullopt);
  connect(*factory);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryClientProtocol, TimeoutDropsTheConnection) {
  auto factory = makeFactory(0.3);
  auto& p = connect(*factory);
  p.dataReceived("one thread");
  clock.advance(0.29);
  EXPECT_FALSE(transport.disconnecting());
  EXPECT_TRUE(results.empty());
  clock.advance(0.01);
  EXPECT_TRUE(transport.disconnecting());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::TimedOut);
  EXPECT_EQ(results[0].poem, "one thread");
  EXPECT_EQ(poetry::describe(results[0], 0.3), "Task 3: timed out after 0.3 seconds");
  // The close we asked for arrives later; the task is not reported twice.
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(results.size(), 1u);
}

TEST_F(PoetryClientProtocol, TimeoutIsCancelledWhenThePoemCompletes) {
  auto factory = makeFactory(0.3);
  auto& p = connect(*factory);
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  p.dataReceived("short poem\n");
  clock.advance(0.2);
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_FALSE(factory->timer().active());
  EXPECT_TRUE(factory->timer().cancelled());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::Poem);
  EXPECT_FALSE(transport.disconnecting());
}

TEST_F(PoetryClientProtocol, TimeoutStartsWhenConnecting) {
  auto factory = makeFactory(1.0);
  factory->startedConnecting(connector(*factory));
  clock.advance(0.6);
  protocol = factory->buildProtocol(transport.getPeer());
  spindle::testing::connect(*protocol, transport);
  clock.advance(0.4);  // 1.0 s after startedConnecting, only 0.4 s after connectionMade
  EXPECT_TRUE(transport.disconnecting());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::TimedOut);
}

TEST_F(PoetryClientProtocol, TimeoutWhileConnectingStopsTheAttempt) {
  auto factory = makeFactory(0.5);
  auto& c = connector(*factory);
  factory->startedConnecting(c);
  clock.advance(0.5);
  EXPECT_EQ(c.stops, 1);
  // stopConnecting's clientConnectionFailed(UserError) is not a second report.
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::TimedOut);
}

TEST_F(PoetryClientProtocol, UncleanCloseIsNotAPoem) {
  auto factory = makeFactory(5.0);
  auto& p = connect(*factory);
  p.dataReceived("half a po");
  p.connectionLost(Failure(spindle::ConnectionLost("Connection reset by peer")));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::ConnectionLost);
  EXPECT_EQ(results[0].reason, "Connection reset by peer");
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryClientProtocol, ConnectionFailureIsReportedWithItsReason) {
  auto factory = makeFactory(5.0);
  auto& c = connector(*factory);
  factory->startedConnecting(c);
  Failure refused{spindle::ConnectionRefusedError()};
  factory->clientConnectionFailed(c, refused);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::ConnectFailed);
  EXPECT_EQ(results[0].reason, refused.getErrorMessage());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  EXPECT_EQ(poetry::describe(results[0], 5.0),
            "Failed to connect to: 127.0.0.1:10000 (" + refused.getErrorMessage() + ")");
}

TEST_F(PoetryClientProtocol, FirstEventHooksRunOnce) {
  poetry::ClientEvents events;
  int data = 0, lost = 0;
  events.firstData = [&] { ++data; };
  events.firstLost = [&] { ++lost; };
  PoetryClientFactory factory(clock, 1, {"127.0.0.1", 1}, std::nullopt, events);
  auto p = factory.buildProtocol(transport.getPeer());
  spindle::testing::connect(*p, transport);
  p->dataReceived("a");
  p->dataReceived("b");
  EXPECT_EQ(data, 1);
  EXPECT_EQ(lost, 0);
  p->connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(lost, 1);
}

TEST_F(PoetryClientProtocol, DestroyingTheFactoryCancelsItsTimer) {
  {
    auto factory = makeFactory(2.0);
    factory->startTimer();
    EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  }
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(3);
  EXPECT_TRUE(results.empty());
}

}  // namespace
