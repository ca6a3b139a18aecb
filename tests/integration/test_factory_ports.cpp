// Factories used by real ports and connectors: counted start/stop, refusing connections with a
// null protocol, the protocol's factory pointer.
#include "support.hpp"

namespace spindle::test {
namespace {

TEST(FactoryPorts, StartFactoryOnceForTwoPortsStopFactoryAfterTheLast) {
  Reactor reactor;
  armWatchdog(reactor);
  auto f = std::make_shared<TestServerFactory>();
  auto p1 = listenLocal(reactor, f);
  auto p2 = listenLocal(reactor, f);
  EXPECT_EQ(f->rec->started, 1);
  EXPECT_EQ(f->numPorts(), 2);
  int stoppedAfterFirst = -1, stoppedAfterSecond = -1;
  reactor.callLater(0, [&] {
    p1->stopListening();
    reactor.callLater(0, [&] {
      stoppedAfterFirst = f->rec->stopped;
      p2->stopListening();
      reactor.callLater(0, [&] {
        stoppedAfterSecond = f->rec->stopped;
        reactor.stop();
      });
    });
  });
  reactor.run();
  EXPECT_EQ(stoppedAfterFirst, 0);
  EXPECT_EQ(stoppedAfterSecond, 1) << "doStop runs at the end of the step of stopListening";
  EXPECT_EQ(f->rec->started, 1);
  EXPECT_EQ(f->rec->stopped, 1);
  EXPECT_EQ(f->numPorts(), 0);
}

TEST(FactoryPorts, ShutdownStopsTheFactory) {
  Reactor reactor;
  armWatchdog(reactor);
  auto f = std::make_shared<TestServerFactory>();
  auto p = listenLocal(reactor, f);
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(f->rec->started, 1);
  EXPECT_EQ(f->rec->stopped, 1);
}

TEST(FactoryPorts, ServerBuildProtocolReturningNullClosesTheConnection) {
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  server->refuse = true;
  auto client = std::make_shared<TestClientFactory>();
  client->hooks.made = [](Recorder& p) { p.transport->write("anyone there?"); };
  std::shared_ptr<ListeningPort> port;
  bool listeningAtEnd = false;
  auto end = [&](Connector&, const Failure&) {
    listeningAtEnd = port->listening();
    reactor.stop();
  };
  client->onLost = end;
  client->onFailed = end;
  port = listenLocal(reactor, server);
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  EXPECT_TRUE(server->rec->conns.empty());
  EXPECT_TRUE(listeningAtEnd) << "refusing one connection does not stop the port";
  // The client either saw the connection made and then lost, or (if the server closed first)
  // saw it fail; either way it ended and nothing was received.
  EXPECT_EQ(client->rec->lost.size() + client->rec->failed.size(), 1u);
  for (auto& c : client->rec->conns) {
    EXPECT_EQ(c->lostCount, 1);
    EXPECT_EQ(c->data, "");
  }
}

TEST(FactoryPorts, ClientBuildProtocolReturningNullClosesTheConnection) {
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto client = std::make_shared<TestClientFactory>();
  client->refuse = true;
  server->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  auto port = listenLocal(reactor, server);
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(server->rec->conns.size(), 1u);
  EXPECT_EQ(server->rec->conns[0]->lostCount, 1) << "the server saw the connection closed";
  EXPECT_EQ(client->rec->lost.size() + client->rec->failed.size(), 1u)
      << "the client factory hears exactly one outcome";
}

class Echo : public Protocol {
 public:
  void connectionMade() override { factoryAtMade = factory(); }
  void dataReceived(std::string_view data) override { transport->write(data); }
  static inline Factory* factoryAtMade = nullptr;
};

TEST(FactoryPorts, ForProtocolServesConnections) {
  Reactor reactor;
  armWatchdog(reactor);
  Echo::factoryAtMade = nullptr;
  auto server = Factory::forProtocol<Echo>();
  auto client = std::make_shared<TestClientFactory>();
  client->hooks.made = [](Recorder& p) { p.transport->write("echo"); };
  client->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "echo") reactor.stop();
  };
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(client->rec->conns.size(), 1u);
  EXPECT_EQ(client->rec->conns[0]->data, "echo");
  EXPECT_EQ(Echo::factoryAtMade, server.get());
}

class Bare : public Protocol {
 public:
  void connectionMade() override {
    seenFactory = factory();
    transport->loseConnection();
  }
  static inline Factory* seenFactory = nullptr;
};

class NoSetFactory : public ServerFactory {
 public:
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    return std::make_unique<Bare>();  // does not call setFactory
  }
};

TEST(FactoryPorts, ReactorSetsTheFactoryWhenBuildProtocolDidNot) {
  Reactor reactor;
  armWatchdog(reactor);
  Bare::seenFactory = nullptr;
  auto server = std::make_shared<NoSetFactory>();
  auto client = std::make_shared<TestClientFactory>();
  client->onLost = [&](Connector&, const Failure&) { reactor.stop(); };
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  EXPECT_EQ(Bare::seenFactory, server.get());
}

class CountingServer;

class Counted : public ProtocolFor<CountingServer> {
 public:
  void connectionMade() override;
};

class CountingServer : public ServerFactory {
 public:
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override {
    lastAddr = addr;
    return makeProtocol<Counted>();
  }
  int connections = 0;
  Address lastAddr;
  Reactor* reactor = nullptr;
};

void Counted::connectionMade() {
  if (++factory().connections == 2) factory().reactor->stop();
}

TEST(FactoryPorts, ProtocolForReachesTheTypedFactoryAndBuildProtocolGetsThePeer) {
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<CountingServer>();
  server->reactor = &reactor;
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  auto c1 = std::make_shared<TestClientFactory>();
  auto c2 = std::make_shared<TestClientFactory>();
  auto k1 = connectTo(reactor, *port, c1);
  auto k2 = connectTo(reactor, *port, c2);
  reactor.run();
  EXPECT_EQ(server->connections, 2);
  EXPECT_EQ(server->lastAddr.host(), "127.0.0.1");
  EXPECT_NE(server->lastAddr.port(), port->getHost().port());
}

}  // namespace
}  // namespace spindle::test
