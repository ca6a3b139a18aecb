// Outgoing connections: each way an attempt fails reaches clientConnectionFailed with its own
// reason; names resolve through the installed resolver; connectors reconnect from callbacks.
#include "support.hpp"

namespace spindle::test {
namespace {

class TcpClient : public TcpTest {
 protected:
  std::shared_ptr<testing::FakeResolver> installFakeResolver() {
    auto r = std::make_shared<testing::FakeResolver>();
    reactor.installResolver(r);
    return r;
  }
  void stopOnFailure() {
    client->onFailed = [this](Connector&, const Failure&) { stopIfRunning(reactor); };
  }
  /// For a failure that may be reported before run(), synchronously (as Twisted does for
  /// stopConnecting): stop as soon as the reactor runs if it already came.
  void stopOnceFailed() {
    reactor.callWhenRunning([this] {
      if (!client->rec->failed.empty()) stopIfRunning(reactor);
    });
  }
};

TEST_F(TcpClient, StartedConnectingIsCalledBeforeConnectTCPReturns) {
  Connector* seen = nullptr;
  client->onStarted = [&](Connector& c) { seen = &c; };
  port = listenLocal(reactor, server);
  connector = connectTo(reactor, *port, client);
  EXPECT_EQ(client->rec->startedConnecting, 1);
  EXPECT_EQ(seen, connector.get());
  EXPECT_EQ(connector->state(), Connector::State::Connecting);
  EXPECT_EQ(connector->getDestination(), (HostPort{"127.0.0.1", port->getHost().port()}));
}

TEST_F(TcpClient, RefusedGivesConnectionRefusedError) {
  uint16_t closed = unusedPort();
  ASSERT_NE(closed, 0);
  stopOnFailure();
  connector = reactor.connectTCP("127.0.0.1", closed, client);
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  const Failure& reason = client->rec->failed[0];
  EXPECT_TRUE(reason.check<ConnectionRefusedError>()) << reason.toString();
  EXPECT_TRUE(reason.check<ConnectError>());
  EXPECT_TRUE(client->rec->conns.empty()) << "no protocol is built for a failed attempt";
  EXPECT_TRUE(client->rec->lost.empty());
  EXPECT_EQ(connector->state(), Connector::State::Disconnected);
  EXPECT_EQ(connector->getDestination(), (HostPort{"127.0.0.1", closed}));
}

TEST_F(TcpClient, TimeoutGivesTimeoutError) {
  Blackhole hole;
  if (!hole.open()) GTEST_SKIP() << "could not fill a listen queue on this kernel";
  stopOnFailure();
  double start = reactor.seconds();
  double failedAt = 0;
  client->onFailed = [&](Connector&, const Failure&) {
    failedAt = reactor.seconds();
    reactor.stop();
  };
  connector = reactor.connectTCP("127.0.0.1", hole.port(), client, 0.5);
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  const Failure& reason = client->rec->failed[0];
  EXPECT_TRUE(reason.check<TimeoutError>()) << reason.toString();
  EXPECT_GE(failedAt - start, 0.5 - 1e-3);
  EXPECT_LT(failedAt - start, 3.0);
  EXPECT_EQ(connector->state(), Connector::State::Disconnected);
}

TEST_F(TcpClient, DnsFailureGivesDNSLookupError) {
  auto resolver = installFakeResolver();
  stopOnFailure();
  connector = reactor.connectTCP("nowhere.test", 80, client);
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  const Failure& reason = client->rec->failed[0];
  EXPECT_TRUE(reason.check<DNSLookupError>()) << reason.toString();
  EXPECT_EQ(resolver->lookups(), (std::vector<std::string>{"nowhere.test"}));
  EXPECT_EQ(connector->getDestination(), (HostPort{"nowhere.test", 80}));
}

TEST_F(TcpClient, OutcomeComesAfterConnectTCPReturnsEvenWithASynchronousResolver) {
  installFakeResolver();
  bool returned = false;
  bool returnedBeforeOutcome = false;
  client->onFailed = [&](Connector&, const Failure&) {
    returnedBeforeOutcome = returned;
    reactor.stop();
  };
  connector = reactor.connectTCP("nowhere.test", 80, client);
  returned = true;
  EXPECT_TRUE(client->rec->failed.empty()) << "the outcome came inside connectTCP";
  reactor.run();
  EXPECT_TRUE(returnedBeforeOutcome);
}

TEST_F(TcpClient, NameMappedByTheResolverConnects) {
  auto resolver = installFakeResolver();
  resolver->add("server.test", {*Address::fromIp("127.0.0.1", 0)});
  port = listenLocal(reactor, server);
  client->hooks.made = [](Recorder& p) { p.transport->write("by name"); };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "by name") reactor.stop();
  };
  connector = reactor.connectTCP("server.test", port->getHost().port(), client);
  reactor.run();
  EXPECT_EQ(resolver->lookups(), (std::vector<std::string>{"server.test"}));
  EXPECT_EQ(serverConn().data, "by name");
  EXPECT_EQ(clientConn().peer, port->getHost());
  EXPECT_EQ(connector->getDestination(), (HostPort{"server.test", port->getHost().port()}));
  EXPECT_TRUE(client->rec->failed.empty());
}

TEST_F(TcpClient, EachResolvedAddressIsTriedInTurn) {
  // ::1 refuses (nothing listens there, or there is no IPv6 at all); 127.0.0.1 answers.
  auto resolver = installFakeResolver();
  resolver->add("multi.test", {*Address::fromIp("::1", 0), *Address::fromIp("127.0.0.1", 0)});
  port = listenLocal(reactor, server);
  server->hooks.made = [&](Recorder&) { reactor.stop(); };
  stopOnFailure();
  connector = reactor.connectTCP("multi.test", port->getHost().port(), client);
  reactor.run();
  EXPECT_TRUE(client->rec->failed.empty())
      << "failed with " << client->rec->failed.front().toString();
  EXPECT_EQ(server->rec->conns.size(), 1u);
}

TEST_F(TcpClient, IpLiteralsAreNotLookedUp) {
  auto resolver = installFakeResolver();
  server->hooks.made = [&](Recorder&) { reactor.stop(); };
  start();
  EXPECT_TRUE(resolver->lookups().empty());
  EXPECT_EQ(server->rec->conns.size(), 1u);
}

TEST_F(TcpClient, StopConnectingGivesUserError) {
  port = listenLocal(reactor, server);
  stopOnFailure();
  connector = connectTo(reactor, *port, client);
  ASSERT_EQ(connector->state(), Connector::State::Connecting);
  connector->stopConnecting();  // before the reactor could see the attempt complete
  stopOnceFailed();
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<UserError>()) << client->rec->failed[0].toString();
  EXPECT_TRUE(client->rec->conns.empty()) << "a stopped attempt builds no protocol";
  EXPECT_EQ(connector->state(), Connector::State::Disconnected);
  EXPECT_THROW(connector->stopConnecting(), Error);
}

TEST_F(TcpClient, StopConnectingFromInsideTheReactor) {
  Blackhole hole;
  if (!hole.open()) GTEST_SKIP() << "could not fill a listen queue on this kernel";
  stopOnFailure();
  connector = reactor.connectTCP("127.0.0.1", hole.port(), client, 30);
  reactor.callLater(0.05, [&] { connector->stopConnecting(); });
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<UserError>()) << client->rec->failed[0].toString();
}

TEST_F(TcpClient, StopConnectingWhenConnectedThrowsAndConnectWhenConnectedThrows) {
  client->hooks.made = [&](Recorder&) {
    EXPECT_THROW(connector->stopConnecting(), Error);
    EXPECT_THROW(connector->connect(), Error);
    reactor.stop();
  };
  start();
  EXPECT_EQ(client->rec->conns.size(), 1u);
}

TEST_F(TcpClient, DisconnectWhileConnectingStopsConnecting) {
  port = listenLocal(reactor, server);
  stopOnFailure();
  connector = connectTo(reactor, *port, client);
  connector->disconnect();
  stopOnceFailed();
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<UserError>()) << client->rec->failed[0].toString();
  EXPECT_NO_THROW(connector->disconnect()) << "disconnect() when disconnected does nothing";
}

TEST_F(TcpClient, TimeoutDoesNotFireAfterASuccessfulConnect) {
  bool stillUp = false;
  client->hooks.made = [&](Recorder& p) {
    auto rec = p.rec;
    reactor.callLater(0.4, [&, rec] {
      stillUp = rec->transport != nullptr && rec->lostCount == 0;
      reactor.stop();
    });
  };
  start(0.2);
  EXPECT_TRUE(stillUp) << "the connect timeout closed an established connection";
  EXPECT_TRUE(client->rec->failed.empty());
}

TEST_F(TcpClient, ConnectAgainAfterStopConnecting) {
  port = listenLocal(reactor, server);
  client->onFailed = [&](Connector& c, const Failure& reason) {
    EXPECT_TRUE(reason.check<UserError>()) << reason.toString();
    c.connect();
  };
  client->hooks.made = [&](Recorder&) { reactor.stop(); };
  connector = connectTo(reactor, *port, client);
  connector->stopConnecting();
  reactor.run();
  EXPECT_EQ(client->rec->failed.size(), 1u);
  EXPECT_EQ(client->rec->startedConnecting, 2);
  // On loopback the kernel may complete the first handshake before stopConnecting closes the
  // socket, so the server can see two connections; the client builds a protocol only once.
  EXPECT_EQ(client->rec->conns.size(), 1u) << "only the second attempt builds a protocol";
}

TEST_F(TcpClient, EachAttemptGetsItsOwnTimeout) {
  Blackhole hole;
  if (!hole.open()) GTEST_SKIP() << "could not fill a listen queue on this kernel";
  double start = reactor.seconds();
  double secondFailedAt = 0;
  client->onFailed = [&](Connector& c, const Failure& reason) {
    EXPECT_TRUE(reason.check<TimeoutError>()) << reason.toString();
    if (client->rec->failed.size() == 1) {
      c.connect();
    } else {
      secondFailedAt = reactor.seconds();
      reactor.stop();
    }
  };
  connector = reactor.connectTCP("127.0.0.1", hole.port(), client, 0.3);
  reactor.run();
  EXPECT_EQ(client->rec->failed.size(), 2u);
  EXPECT_GE(secondFailedAt - start, 0.6 - 1e-3);
}

TEST_F(TcpClient, ReconnectFromClientConnectionFailed) {
  // Three refused attempts, each retried from clientConnectionFailed; before the fourth a
  // listener appears on that port, and it connects.
  uint16_t number = unusedPort();
  ASSERT_NE(number, 0);
  client->onFailed = [&](Connector& c, const Failure& reason) {
    EXPECT_TRUE(reason.check<ConnectionRefusedError>()) << reason.toString();
    EXPECT_EQ(c.state(), Connector::State::Disconnected);
    if (client->rec->failed.size() == 3) port = reactor.listenTCP(number, server, 50, "127.0.0.1");
    c.connect();
  };
  server->hooks.made = [&](Recorder&) { reactor.stop(); };
  connector = reactor.connectTCP("127.0.0.1", number, client);
  reactor.run();
  EXPECT_EQ(client->rec->failed.size(), 3u);
  EXPECT_EQ(client->rec->startedConnecting, 4);
  EXPECT_EQ(server->rec->conns.size(), 1u);
}

TEST_F(TcpClient, ReconnectFromClientConnectionLost) {
  server->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  client->onLost = [&](Connector& c, const Failure& reason) {
    EXPECT_TRUE(reason.check<ConnectionDone>()) << reason.toString();
    if (client->rec->lost.size() < 3) {
      c.connect();
    } else {
      reactor.stop();
    }
  };
  start();
  EXPECT_EQ(client->rec->lost.size(), 3u);
  EXPECT_EQ(client->rec->startedConnecting, 3);
  EXPECT_EQ(server->rec->conns.size(), 3u);
  EXPECT_EQ(client->rec->conns.size(), 3u);
}

TEST_F(TcpClient, ConnectorStartsAndStopsItsFactory) {
  // Like Twisted's connector: the factory starts when connecting starts and stops once the
  // connector is disconnected with no new attempt made from the callback.
  uint16_t closed = unusedPort();
  int stoppedAfterFailure = -1;
  int failures = 0;
  client->onFailed = [&](Connector& c, const Failure&) {
    if (++failures == 1) {
      c.connect();  // a retry keeps the factory started
      return;
    }
    reactor.callLater(0, [&] {
      stoppedAfterFailure = client->rec->stopped;
      reactor.stop();
    });
  };
  connector = reactor.connectTCP("127.0.0.1", closed, client);
  EXPECT_EQ(client->rec->started, 1);
  reactor.run();
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(client->rec->started, 1) << "the retry did not restart the factory";
  EXPECT_EQ(stoppedAfterFailure, 1);
}

}  // namespace
}  // namespace spindle::test
