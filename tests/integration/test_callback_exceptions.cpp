// An exception thrown from connectionMade or dataReceived, on a client or a server, is logged
// with the peer's address and closes that connection with the exception as its reason; other
// connections go on.
#include "support.hpp"

namespace spindle::test {
namespace {

enum class Side { Server, Client };
enum class Callback { Made, Data };

struct Scenario {
  Side side;
  Callback callback;
};

std::string describe(const ::testing::TestParamInfo<Scenario>& info) {
  return std::string(info.param.side == Side::Server ? "Server" : "Client") +
         (info.param.callback == Callback::Made ? "ConnectionMade" : "DataReceived");
}

/// A good client connects first; then a bad client, whose connection (on `side`) throws from
/// `callback`. Once both ends of the bad connection are gone, the good client sends "ping" and
/// the test ends when the echo comes back.
class CallbackExceptions : public ::testing::TestWithParam<Scenario> {
 protected:
  void run() {
    const Scenario s = GetParam();
    armWatchdog(reactor);
    const bool serverThrows = s.side == Side::Server;

    server->hooks.made = [this, s, serverThrows](Recorder& p) {
      if (serverThrows && s.callback == Callback::Made && server->rec->conns.size() == 2)
        throw std::runtime_error("boom-in-callback");
    };
    server->hooks.data = [this, s, serverThrows](Recorder& p, std::string_view data) {
      if (serverThrows && p.rec->data == "throw") throw std::runtime_error("boom-in-callback");
      p.transport->write(data);
    };
    server->hooks.lost = [this](Recorder& p, const Failure&) {
      if (server->rec->conns.size() == 2 && p.rec == server->rec->conns[1]) badEndGone();
    };

    bad->hooks.made = [this, s, serverThrows](Recorder& p) {
      if (!serverThrows && s.callback == Callback::Made)
        throw std::runtime_error("boom-in-callback");
      p.transport->write("throw");
    };
    bad->hooks.data = [this, s, serverThrows](Recorder& p, std::string_view) {
      if (!serverThrows && p.rec->data == "throw") throw std::runtime_error("boom-in-callback");
    };
    bad->hooks.lost = [this](Recorder&, const Failure&) { badEndGone(); };

    good->hooks.made = [this](Recorder&) { badConnector = connectTo(reactor, *port, bad); };
    good->hooks.data = [this](Recorder& p, std::string_view) {
      if (p.rec->data == "ping") {
        listeningAtEnd = port->listening();
        reactor.stop();
      }
    };

    port = listenLocal(reactor, server);
    goodConnector = connectTo(reactor, *port, good);
    reactor.run();
  }

  void badEndGone() {
    if (++badEndsGone != 2) return;
    ASSERT_EQ(good->rec->conns.size(), 1u);
    auto& g = *good->rec->conns[0];
    ASSERT_TRUE(g.transport) << "the good connection was closed too";
    g.transport->write("ping");
  }

  /// The bad connection's end that threw.
  ConnRecord& thrower() {
    auto& conns = GetParam().side == Side::Server ? server->rec->conns : bad->rec->conns;
    size_t i = GetParam().side == Side::Server ? 1 : 0;
    if (conns.size() <= i) throw std::out_of_range("the throwing connection was never built");
    return *conns[i];
  }

  Reactor reactor;
  std::shared_ptr<TestServerFactory> server = std::make_shared<TestServerFactory>();
  std::shared_ptr<TestClientFactory> good = std::make_shared<TestClientFactory>();
  std::shared_ptr<TestClientFactory> bad = std::make_shared<TestClientFactory>();
  std::shared_ptr<ListeningPort> port;
  std::shared_ptr<Connector> goodConnector, badConnector;
  int badEndsGone = 0;
  bool listeningAtEnd = false;
};

TEST_P(CallbackExceptions, ClosesThatConnectionWithTheExceptionAsReason) {
  LogCapture logs;
  run();
  ConnRecord& t = thrower();
  EXPECT_EQ(t.lostCount, 1);
  ASSERT_TRUE(t.reason);
  EXPECT_TRUE(t.reason->check<std::runtime_error>()) << t.reason->toString();
  EXPECT_FALSE(t.reason->check<ConnectionClosed>()) << t.reason->toString();
  EXPECT_EQ(t.reason->getErrorMessage(), "boom-in-callback");
  if (GetParam().side == Side::Client) {
    ASSERT_EQ(bad->rec->lost.size(), 1u);
    EXPECT_EQ(bad->rec->lost[0].getErrorMessage(), "boom-in-callback")
        << "clientConnectionLost gets what the protocol's connectionLost got";
  }
}

TEST_P(CallbackExceptions, IsLoggedWithThePeerAddress) {
  LogCapture logs;
  run();
  std::string peer = thrower().peer.toString();
  EXPECT_TRUE(logs.containsError({peer, "boom-in-callback"})) << "looked for " << peer << " in:\n"
                                                              << logs.dump();
}

TEST_P(CallbackExceptions, OtherConnectionsGoOn) {
  LogCapture logs;
  run();
  ASSERT_EQ(good->rec->conns.size(), 1u);
  EXPECT_EQ(good->rec->conns[0]->data, "ping");
  EXPECT_EQ(badEndsGone, 2) << "the peer of the throwing connection saw it close";
  EXPECT_TRUE(listeningAtEnd);
}

INSTANTIATE_TEST_SUITE_P(AllCallbacks, CallbackExceptions,
                         ::testing::Values(Scenario{Side::Server, Callback::Made},
                                           Scenario{Side::Server, Callback::Data},
                                           Scenario{Side::Client, Callback::Made},
                                           Scenario{Side::Client, Callback::Data}),
                         describe);

}  // namespace
}  // namespace spindle::test
