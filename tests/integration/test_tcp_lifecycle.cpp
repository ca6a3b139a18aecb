// One TCP connection's life over loopback: made, data in order, clean close, reset, abort,
// flushing, addresses and socket options.
#include "support.hpp"

namespace spindle::test {
namespace {

using TcpLifecycle = TcpTest;

TEST_F(TcpLifecycle, ConnectionMadeComesBeforeAnyData) {
  int done = 0;
  auto maybeStop = [&] {
    if (++done == 2) reactor.stop();
  };
  server->hooks.made = [](Recorder& p) { p.transport->write("from-server"); };
  client->hooks.made = [](Recorder& p) { p.transport->write("from-client"); };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "from-client") maybeStop();
  };
  client->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "from-server") maybeStop();
  };
  start();
  for (ConnRecord* r : {&serverConn(), &clientConn()}) {
    EXPECT_FALSE(r->dataBeforeMade);
    ASSERT_GE(r->events.size(), 2u);
    EXPECT_EQ(r->events[0], "made");
    EXPECT_EQ(r->events[1], "data");
  }
  EXPECT_EQ(serverConn().data, "from-client");
  EXPECT_EQ(clientConn().data, "from-server");
  EXPECT_EQ(connector->state(), Connector::State::Disconnected) << "shutdown closed the connection";
}

TEST_F(TcpLifecycle, LoseConnectionFlushesABigPayloadInOrder) {
  const std::string payload = makePayload(4 << 20);
  size_t bufferedAtClose = 0;
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);  // one write
    bufferedAtClose = p.transport->bufferedSize();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().data.size(), payload.size());
  EXPECT_TRUE(clientConn().data == payload) << "the payload arrived changed or out of order";
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(clientConn().reason->check<ConnectionDone>()) << clientConn().reason->toString();
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>()) << serverConn().reason->toString();
  EXPECT_LE(bufferedAtClose, payload.size());
}

TEST_F(TcpLifecycle, CleanCloseGivesConnectionDoneOnBothSides) {
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  stopAfterLosses(2);
  start();
  ASSERT_TRUE(serverConn().reason);
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>()) << serverConn().reason->toString();
  EXPECT_TRUE(clientConn().reason->check<ConnectionDone>()) << clientConn().reason->toString();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_EQ(clientConn().lostCount, 1);
}

TEST_F(TcpLifecycle, ClientConnectionLostHearsConnectionDoneAfterTheProtocol) {
  server->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  client->onLost = [&](Connector& c, const Failure&) {
    EXPECT_EQ(&c, connector.get());
    reactor.stop();
  };
  start();
  ASSERT_EQ(client->rec->lost.size(), 1u);
  EXPECT_TRUE(client->rec->lost[0].check<ConnectionDone>()) << client->rec->lost[0].toString();
  EXPECT_TRUE(client->rec->failed.empty());
  EXPECT_EQ(client->rec->events, (std::vector<std::string>{"started", "protocol-lost", "lost"}));
}

TEST_F(TcpLifecycle, ResetByPeerGivesConnectionLost) {
  // The peer is a raw socket that closes with SO_LINGER {1, 0}: the kernel sends RST.
  port = listenLocal(reactor, server);
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  server->hooks.made = [&](Recorder&) { raw.closeWithReset(); };
  server->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  reactor.run();
  ASSERT_TRUE(serverConn().reason);
  const Failure& reason = *serverConn().reason;
  EXPECT_TRUE(reason.check<ConnectionLost>()) << reason.toString();
  EXPECT_FALSE(reason.check<ConnectionDone>()) << reason.toString();
  EXPECT_FALSE(reason.check<ConnectionAborted>()) << "the peer reset it; we did not abort";
  EXPECT_EQ(reason.code().value(), ECONNRESET) << reason.toString();
}

TEST_F(TcpLifecycle, AbortWithUnreadDataResetsThePeer) {
  // The client aborts with most of 8 MiB still unread in its socket: the server hears a reset.
  const std::string payload = makePayload(8 << 20);
  server->hooks.made = [&](Recorder& p) { p.transport->write(payload); };
  client->hooks.data = [](Recorder& p, std::string_view) { p.transport->abortConnection(); };
  stopAfterLosses(2);
  start();
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(clientConn().reason->check<ConnectionAborted>()) << clientConn().reason->toString();
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ConnectionLost>()) << serverConn().reason->toString();
  EXPECT_FALSE(serverConn().reason->check<ConnectionAborted>());
  EXPECT_LT(clientConn().data.size(), payload.size());
  EXPECT_FALSE(clientConn().dataAfterLost);
}

TEST_F(TcpLifecycle, AbortConnectionDiscardsBufferedBytes) {
  const std::string payload = makePayload(32 << 20);
  size_t buffered = 0;
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    buffered = p.transport->bufferedSize();
    p.transport->abortConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_GT(buffered, 0u) << "the kernel took 32 MiB at once; the test proves nothing";
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ConnectionAborted>()) << serverConn().reason->toString();
  EXPECT_LT(clientConn().data.size(), payload.size()) << "abortConnection flushed the buffer";
  EXPECT_EQ(payload.compare(0, clientConn().data.size(), clientConn().data), 0)
      << "what did arrive is a prefix of what was written";
}

TEST_F(TcpLifecycle, WritesAfterLoseConnectionBeforeTheCloseAreSent) {
  const std::string payload = makePayload(4 << 20);
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    p.transport->loseConnection();
    p.transport->write("TAIL");
    p.transport->writeSequence({"-", "END"});
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().data.size(), payload.size() + 8);
  EXPECT_TRUE(clientConn().data == payload + "TAIL-END");
  EXPECT_TRUE(clientConn().reason && clientConn().reason->check<ConnectionDone>());
}

TEST_F(TcpLifecycle, LoseConnectionStopsReadingAtOnce) {
  const std::string payload = makePayload(4 << 20);
  int callsAfterLose = 0;
  bool losing = false;
  client->hooks.made = [&](Recorder& p) { p.transport->write(payload); };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (losing) {
      ++callsAfterLose;
      return;
    }
    losing = true;
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(callsAfterLose, 0) << "dataReceived after loseConnection";
  EXPECT_LT(serverConn().data.size(), payload.size());
}

TEST_F(TcpLifecycle, NothingIsReadWhileLoseConnectionFlushes) {
  // The server answers the first bytes with more than the kernel takes, then loses the
  // connection; the client keeps sending while it drains the answer. Those bytes must not reach
  // the server's protocol during the flush, over many reactor steps.
  const std::string answer = makePayload(8 << 20);
  int callsAfterLose = 0;
  bool losing = false;
  std::size_t bufferedAtLose = 0;
  client->hooks.made = [](Recorder& p) { p.transport->write("hello"); };
  client->hooks.data = [](Recorder& p, std::string_view) { p.transport->write("more"); };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (losing) {
      ++callsAfterLose;
      return;
    }
    losing = true;
    p.transport->write(answer);
    bufferedAtLose = p.transport->bufferedSize();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_GT(bufferedAtLose, 0u) << "the kernel took 8 MiB at once; the test proves nothing";
  EXPECT_EQ(callsAfterLose, 0) << "dataReceived while loseConnection flushed";
  EXPECT_TRUE(serverConn().reason && serverConn().reason->check<ConnectionDone>());
  // The client's unread bytes make the server's close a reset, which may cut the answer's tail
  // short in the client's kernel; what arrived is still a prefix.
  EXPECT_EQ(answer.compare(0, clientConn().data.size(), clientConn().data), 0);
}

TEST_F(TcpLifecycle, LoseConnectionIsIdempotent) {
  server->hooks.made = [](Recorder& p) {
    p.transport->write("x");
    p.transport->loseConnection();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_EQ(clientConn().data, "x");
}

TEST_F(TcpLifecycle, AbortConnectionIsIdempotent) {
  server->hooks.made = [](Recorder& p) {
    p.transport->abortConnection();
    p.transport->abortConnection();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_TRUE(serverConn().reason->check<ConnectionAborted>());
}

TEST_F(TcpLifecycle, WriteSequenceKeepsOrder) {
  const std::string big1 = makePayload(1 << 20, 1), big2 = makePayload(1 << 20, 2),
                    big3 = makePayload(1 << 20, 3);
  client->hooks.made = [&](Recorder& p) {
    p.transport->write("1");
    p.transport->writeSequence({"2", "34", "", "5"});
    p.transport->write("6");
    std::vector<std::string_view> pieces{big1, "|", big2, "|", big3};
    p.transport->writeSequence(pieces);
    p.transport->writeSequence({});
    p.transport->write("7");
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  std::string expected = "123456" + big1 + "|" + big2 + "|" + big3 + "7";
  EXPECT_EQ(serverConn().data.size(), expected.size());
  EXPECT_TRUE(serverConn().data == expected);
}

TEST_F(TcpLifecycle, PeerAndHostAgreeBetweenBothEnds) {
  client->hooks.made = [](Recorder& p) { p.transport->write("hi"); };
  server->hooks.data = [&](Recorder&, std::string_view) { reactor.stop(); };
  start();
  Address listening = port->getHost();
  EXPECT_EQ(listening.host(), "127.0.0.1");
  EXPECT_NE(listening.port(), 0) << "port 0 is replaced by the port actually bound";
  EXPECT_EQ(serverConn().host, clientConn().peer);
  EXPECT_EQ(serverConn().peer, clientConn().host);
  EXPECT_EQ(clientConn().peer, listening);
  EXPECT_EQ(serverConn().host, listening);
  EXPECT_EQ(serverConn().peer.host(), "127.0.0.1");
  EXPECT_NE(serverConn().peer.port(), listening.port());
}

TEST_F(TcpLifecycle, TcpNoDelayAndKeepAlive) {
  client->hooks.made = [&](Recorder& p) {
    Transport& t = *p.transport;
    t.setTcpNoDelay(true);
    EXPECT_TRUE(t.getTcpNoDelay());
    t.setTcpNoDelay(false);
    EXPECT_FALSE(t.getTcpNoDelay());
    t.setTcpNoDelay(true);
    EXPECT_TRUE(t.getTcpNoDelay());
    t.setTcpKeepAlive(true);
    EXPECT_TRUE(t.getTcpKeepAlive());
    t.setTcpKeepAlive(false);
    EXPECT_FALSE(t.getTcpKeepAlive());
    t.write("still works");
  };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "still works") reactor.stop();
  };
  start();
  EXPECT_EQ(serverConn().data, "still works");
}

TEST_F(TcpLifecycle, ConnectorStatesAndDestination) {
  std::vector<Connector::State> states;
  client->onStarted = [&](Connector& c) { states.push_back(c.state()); };
  client->hooks.made = [&](Recorder&) {
    states.push_back(connector->state());
    EXPECT_EQ(&connector->factory(), client.get());
    connector->disconnect();
  };
  client->onLost = [&](Connector& c, const Failure&) {
    states.push_back(c.state());
    reactor.stop();
  };
  start();
  EXPECT_EQ(connector->getDestination(), (HostPort{"127.0.0.1", port->getHost().port()}));
  EXPECT_EQ(states, (std::vector<Connector::State>{Connector::State::Connecting,
                                                   Connector::State::Connected,
                                                   Connector::State::Disconnected}));
}

TEST_F(TcpLifecycle, BindAddressFixesTheClientsLocalAddress) {
  uint16_t localPort = unusedPort();
  ASSERT_NE(localPort, 0);
  port = listenLocal(reactor, server);
  server->hooks.made = [&](Recorder&) { reactor.stop(); };
  connector = reactor.connectTCP("127.0.0.1", port->getHost().port(), client, 30,
                                 *Address::fromIp("127.0.0.1", localPort));
  reactor.run();
  EXPECT_EQ(serverConn().peer, *Address::fromIp("127.0.0.1", localPort));
}

TEST_F(TcpLifecycle, StopListeningKeepsAcceptedConnections) {
  server->hooks.made = [&](Recorder& p) {
    port->stopListening();
    port->stopListening();  // idempotent
    EXPECT_FALSE(port->listening());
    p.transport->write("still here");
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  port = listenLocal(reactor, server);
  EXPECT_TRUE(port->listening());
  uint16_t number = port->getHost().port();
  connector = connectTo(reactor, *port, client);
  reactor.run();
  EXPECT_EQ(clientConn().data, "still here");
  EXPECT_FALSE(rawConnect(number)) << "a stopped port still accepts";
}

TEST(TcpIPv6, ConnectOverIPv6Loopback) {
  if (!haveIPv6Loopback()) GTEST_SKIP() << "no ::1 on this host";
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto client = std::make_shared<TestClientFactory>();
  server->hooks.data = [](Recorder& p, std::string_view) {
    p.transport->write(p.rec->data);
    p.transport->loseConnection();
  };
  client->hooks.made = [](Recorder& p) { p.transport->write("over v6"); };
  client->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  auto port = reactor.listenTCP(0, server, 50, "::1");
  EXPECT_TRUE(port->getHost().isIPv6());
  EXPECT_EQ(port->getHost().host(), "::1");
  auto connector = reactor.connectTCP("::1", port->getHost().port(), client);
  reactor.run();
  ASSERT_EQ(client->rec->conns.size(), 1u);
  auto& c = *client->rec->conns[0];
  EXPECT_EQ(c.data, "over v6");
  EXPECT_EQ(c.peer, port->getHost());
  EXPECT_EQ(c.peer.toString(), "[::1]:" + std::to_string(port->getHost().port()));
  EXPECT_TRUE(c.host.isIPv6());
  ASSERT_EQ(server->rec->conns.size(), 1u);
  EXPECT_EQ(server->rec->conns[0]->peer, c.host);
}

TEST(TcpListen, ListenOnAPortInUseThrowsCannotListenError) {
  Reactor reactor;
  auto f = std::make_shared<TestServerFactory>();
  auto first = reactor.listenTCP(0, f, 50, "127.0.0.1");
  try {
    reactor.listenTCP(first->getHost().port(), f, 50, "127.0.0.1");
    ADD_FAILURE() << "listening twice on one port succeeded";
  } catch (const CannotListenError& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE) << e.what();
  }
}

TEST(TcpListen, ListenOnABadInterfaceThrowsCannotListenError) {
  Reactor reactor;
  auto f = std::make_shared<TestServerFactory>();
  EXPECT_THROW(reactor.listenTCP(0, f, 50, "not-an-ip"), Error);
}

}  // namespace
}  // namespace spindle::test
