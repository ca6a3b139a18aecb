// Shutdown: every port stops listening and every open connection hears connectionLost.
#include "support.hpp"

namespace spindle::test {
namespace {

constexpr int kClients = 3;

struct ShutdownFixture {
  Reactor reactor;
  std::shared_ptr<TestServerFactory> server = std::make_shared<TestServerFactory>();
  std::vector<std::shared_ptr<TestClientFactory>> clients;
  std::shared_ptr<ListeningPort> port;
  int made = 0;

  /// Connects kClients clients and stops the reactor once all 2 * kClients ends are up.
  void connectAllThenStop() {
    auto onMade = [this](Recorder&) {
      if (++made == 2 * kClients) reactor.callLater(0, [this] { reactor.stop(); });
    };
    server->hooks.made = onMade;
    port = listenLocal(reactor, server);
    for (int i = 0; i < kClients; ++i) {
      auto c = std::make_shared<TestClientFactory>();
      c->hooks.made = onMade;
      connectTo(reactor, *port, c);
      clients.push_back(c);
    }
  }
  int lostSoFar() const {
    int n = 0;
    for (auto& r : server->rec->conns)
      n += r->lostCount;
    for (auto& c : clients)
      for (auto& r : c->rec->conns)
        n += r->lostCount;
    return n;
  }
};

TEST(ReactorShutdown, EveryOpenConnectionHearsConnectionLost) {
  ShutdownFixture f;
  armWatchdog(f.reactor);
  f.connectAllThenStop();
  f.reactor.run();

  ASSERT_EQ(f.made, 2 * kClients);
  ASSERT_EQ(f.server->rec->conns.size(), static_cast<size_t>(kClients));
  for (auto& r : f.server->rec->conns)
    EXPECT_EQ(r->lostCount, 1);
  for (auto& c : f.clients) {
    ASSERT_EQ(c->rec->conns.size(), 1u);
    EXPECT_EQ(c->rec->conns[0]->lostCount, 1);
    EXPECT_EQ(c->rec->lost.size(), 1u) << "the client factory hears clientConnectionLost";
  }
}

TEST(ReactorShutdown, PortsStopListening) {
  ShutdownFixture f;
  armWatchdog(f.reactor);
  f.connectAllThenStop();
  uint16_t portNumber = f.port->getHost().port();
  f.reactor.run();
  EXPECT_FALSE(f.port->listening());
  Fd probe = rawConnect(portNumber);
  EXPECT_FALSE(probe) << "the port still accepts connections after shutdown";
}

TEST(ReactorShutdown, ConnectionsAreLostDuringTheDuringPhase) {
  // As in Twisted: "before" triggers still see the connections open (a place for a graceful
  // goodbye); by the "after" triggers every connection has heard connectionLost.
  ShutdownFixture f;
  armWatchdog(f.reactor);
  int lostAtBefore = -1, lostAtAfter = -1;
  f.reactor.addSystemEventTrigger(Phase::Before, "shutdown", [&] { lostAtBefore = f.lostSoFar(); });
  f.reactor.addSystemEventTrigger(Phase::After, "shutdown", [&] { lostAtAfter = f.lostSoFar(); });
  f.connectAllThenStop();
  f.reactor.run();
  EXPECT_EQ(lostAtBefore, 0);
  EXPECT_EQ(lostAtAfter, 2 * kClients);
}

TEST(ReactorShutdown, StopFromConnectionMadeWithConnectionsOpen) {
  // stop() inside a callback, with the callback's own connection and others still open.
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  server->hooks.made = [&](Recorder&) { reactor.stop(); };
  auto port = listenLocal(reactor, server);
  auto client = std::make_shared<TestClientFactory>();
  connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(server->rec->conns.size(), 1u);
  EXPECT_EQ(server->rec->conns[0]->lostCount, 1);
  for (auto& r : client->rec->conns)
    EXPECT_EQ(r->lostCount, 1);
}

}  // namespace
}  // namespace spindle::test
