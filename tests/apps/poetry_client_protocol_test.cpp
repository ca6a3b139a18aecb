// The clients' factories and protocols (getPoetry's and transformPoem's), driven by a string
// transport, a fake connector and a fake clock: what fires the Deferred, and what cancel() and a
// timeout do at each stage.
#include <optional>

#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "poetry.hpp"
#include "transform.hpp"

namespace {

using poetry::PoetryClientFactory;
using spindle::Failure;
using Outcome = std::optional<spindle::Result<std::string>>;

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

// Keeps what `d` fires with; the chain then yields nothing (so no failure is left unhandled).
void watch(spindle::Deferred<std::string> d, Outcome& out) {
  d.addBoth([&out](spindle::Result<std::string> r) { out.emplace(std::move(r)); });
}

template <class E>
bool failedWith(const Outcome& out) {
  return out && out->failed() && out->failure().check<E>();
}

class ClientFactoryTest : public ::testing::Test {
 protected:
  // Starts the attempt as connectTCP would.
  void startConnecting(spindle::ClientFactory& factory) {
    connector = std::make_shared<FakeConnector>(factory);
    factory.startedConnecting(*connector);
  }
  // Then connects a protocol to the string transport.
  spindle::Protocol& connect(spindle::ClientFactory& factory) {
    if (!connector) startConnecting(factory);
    protocol = factory.buildProtocol(transport.getPeer());
    connector->state_ = spindle::Connector::State::Connected;
    spindle::testing::connect(*protocol, transport);
    return *protocol;
  }

  spindle::testing::Clock clock;
  spindle::testing::StringTransport transport;
  std::unique_ptr<spindle::Protocol> protocol;
  std::shared_ptr<FakeConnector> connector;
  Outcome out;
};

class PoetryClient : public ClientFactoryTest {
 protected:
  // With a timeout, added before the test's own callback (which ends the chain's string type).
  std::shared_ptr<PoetryClientFactory> makeFactory(std::optional<double> timeout = {}) {
    auto f = std::make_shared<PoetryClientFactory>(
        [this](std::size_t bytes, const spindle::Address& peer) {
          chunks.push_back(bytes);
          EXPECT_EQ(peer, transport.getPeer());
        });
    if (timeout) f->deferred().addTimeout(*timeout, clock);
    watch(f->deferred(), out);
    return f;
  }
  std::vector<std::size_t> chunks;
};

TEST_F(PoetryClient, FiresWithThePoemWhenTheServerClosesCleanly) {
  auto factory = makeFactory();
  auto& p = connect(*factory);
  p.dataReceived("Warp is the ");
  p.dataReceived("list\n");
  EXPECT_FALSE(out);
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(chunks, (std::vector<std::size_t>{12, 5}));
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), "Warp is the list\n");
}

TEST_F(PoetryClient, APoemCutShortFailsWithTheConnectionsReason) {
  auto factory = makeFactory();
  auto& p = connect(*factory);
  p.dataReceived("half a po");
  p.connectionLost(Failure(spindle::ConnectionLost("Connection reset by peer")));
  ASSERT_TRUE(failedWith<spindle::ConnectionLost>(out));
  EXPECT_EQ(out->failure().getErrorMessage(), "Connection reset by peer");
}

TEST_F(PoetryClient, AFailedAttemptFailsWithItsReason) {
  auto factory = makeFactory();
  startConnecting(*factory);
  factory->clientConnectionFailed(*connector, Failure(spindle::ConnectionRefusedError()));
  EXPECT_TRUE(failedWith<spindle::ConnectionRefusedError>(out));
  factory->clientConnectionFailed(*connector, Failure(spindle::TimeoutError()));  // no refire
}

TEST_F(PoetryClient, CancelWhileConnectingStopsTheAttempt) {
  auto factory = makeFactory();
  startConnecting(*factory);
  factory->deferred().cancel();
  EXPECT_EQ(connector->stops, 1);
  // stopConnecting's clientConnectionFailed(UserError) does not replace the CancelledError.
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
  EXPECT_TRUE(factory->stopped());
}

TEST_F(PoetryClient, CancelWhileReceivingClosesTheConnection) {
  auto factory = makeFactory();
  auto& p = connect(*factory);
  p.dataReceived("one thread");
  factory->deferred().cancel();
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_FALSE(transport.aborted());
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
  // What still arrives before the close, and the close itself, change nothing.
  p.dataReceived(" more");
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_EQ(chunks, std::vector<std::size_t>{10});
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
  EXPECT_EQ(connector->stops, 0);
}

TEST_F(PoetryClient, AConnectionMadeAfterTheCancelIsClosedAtOnce) {
  auto factory = makeFactory();
  startConnecting(*factory);
  connector->state_ = spindle::Connector::State::Connected;  // too late to stop the attempt
  factory->deferred().cancel();
  EXPECT_EQ(connector->stops, 0);
  connect(*factory);
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
}

TEST_F(PoetryClient, CancelAfterThePoemDoesNothing) {
  auto factory = makeFactory();
  auto& p = connect(*factory);
  p.connectionLost(Failure(spindle::ConnectionDone()));
  factory->deferred().cancel();
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), "");
}

TEST_F(PoetryClient, ATimeoutClosesTheConnectionWithDeferredTimeoutError) {
  auto factory = makeFactory(0.3);
  auto& p = connect(*factory);
  p.dataReceived("one thread");
  clock.advance(0.29);
  EXPECT_FALSE(transport.disconnecting());
  EXPECT_FALSE(out);
  clock.advance(0.01);
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(failedWith<spindle::DeferredTimeoutError>(out));
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(failedWith<spindle::DeferredTimeoutError>(out));
}

TEST_F(PoetryClient, ATimeoutWhileConnectingStopsTheAttempt) {
  auto factory = makeFactory(0.5);
  startConnecting(*factory);
  clock.advance(0.5);
  EXPECT_EQ(connector->stops, 1);
  EXPECT_TRUE(failedWith<spindle::DeferredTimeoutError>(out));
}

TEST_F(PoetryClient, APoemInTimeCancelsTheTimer) {
  auto factory = makeFactory(0.3);
  auto& p = connect(*factory);
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  EXPECT_TRUE(out && out->succeeded());
}

TEST_F(PoetryClient, TheDeferredDoesNotKeepTheFactoryAlive) {
  auto factory = makeFactory();
  spindle::Deferred<std::string> d = factory->deferred();
  std::weak_ptr<PoetryClientFactory> weak = factory;
  factory.reset();
  EXPECT_TRUE(weak.expired());
  d.cancel();  // the canceller finds no factory: only the CancelledError
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
}

// --- The transform client ----------------------------------------------------------------------

class TransformClient : public ClientFactoryTest {
 protected:
  std::shared_ptr<poetry::TransformClientFactory> makeFactory(std::string_view poem) {
    auto f = std::make_shared<poetry::TransformClientFactory>("cummingsify", poem);
    watch(f->deferred(), out);
    return f;
  }
};

TEST_F(TransformClient, SendsOneNetstringRequestAndFiresWithTheAnswer) {
  auto factory = makeFactory("Loom.\n");
  auto& p = connect(*factory);
  EXPECT_EQ(transport.value(), "18:cummingsify.Loom.\n,");
  p.dataReceived("6:lo");
  EXPECT_FALSE(out);
  p.dataReceived("om.\n,");
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), "loom.\n");
  EXPECT_TRUE(transport.disconnecting());
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(out->succeeded());
}

TEST_F(TransformClient, ACloseWithoutAnAnswerIsNoAnswerError) {
  auto factory = makeFactory("poem");
  auto& p = connect(*factory);
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(failedWith<poetry::NoAnswerError>(out));
}

TEST_F(TransformClient, AMalformedAnswerFailsWithItsParseError) {
  auto factory = makeFactory("poem");
  auto& p = connect(*factory);
  p.dataReceived("4x");
  ASSERT_TRUE(transport.closeReason());
  EXPECT_TRUE(transport.closeReason()->check<spindle::NetstringParseError>());
  p.connectionLost(*transport.closeReason());
  EXPECT_TRUE(failedWith<spindle::NetstringParseError>(out));
}

TEST_F(TransformClient, AnAnswerLongerThanTheLimitIsRefused) {
  auto factory = makeFactory("poem");
  EXPECT_EQ(factory->maxAnswer(), poetry::kDefaultMaxRequest);
  auto& p = connect(*factory);
  p.dataReceived(std::to_string(poetry::kDefaultMaxRequest + 1) + ":");
  ASSERT_TRUE(transport.closeReason());
  EXPECT_TRUE(transport.closeReason()->check<spindle::NetstringParseError>());
}

TEST_F(TransformClient, CancelClosesTheConnection) {
  auto factory = makeFactory("poem");
  auto& p = connect(*factory);
  factory->deferred().cancel();
  EXPECT_TRUE(transport.disconnecting());
  p.connectionLost(Failure(spindle::ConnectionDone()));
  EXPECT_TRUE(failedWith<spindle::CancelledError>(out));
}

}  // namespace
