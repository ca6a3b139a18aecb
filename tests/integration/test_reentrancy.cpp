// Closing, stopping and dropping things from inside a connection's own callbacks, and closing
// one connection from another's while both have events pending. Meant to run under ASan too:
// a use-after-free here shows up as a sanitizer report.
#include "support.hpp"

namespace spindle::test {
namespace {

using Reentrancy = TcpTest;

// --- Closing from inside callbacks -----------------------------------------------------------

TEST_F(Reentrancy, LoseConnectionInsideDataReceived) {
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  server->hooks.data = [](Recorder& p, std::string_view data) {
    p.transport->write(data);
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().data, "ping");
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>()) << serverConn().reason->toString();
  EXPECT_TRUE(clientConn().reason->check<ConnectionDone>()) << clientConn().reason->toString();
}

TEST_F(Reentrancy, AbortConnectionInsideDataReceived) {
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  server->hooks.data = [](Recorder& p, std::string_view) {
    p.transport->abortConnection();
    p.transport->write("dropped");  // writes after the close are dropped
    p.transport->loseConnection();  // and closing again does nothing
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_TRUE(serverConn().reason->check<ConnectionAborted>()) << serverConn().reason->toString();
  EXPECT_EQ(clientConn().data, "");
  EXPECT_EQ(clientConn().lostCount, 1);
}

TEST_F(Reentrancy, CloseAgainInsideConnectionLost) {
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  auto closeAgain = [](Recorder& p, const Failure&) {
    p.transport->loseConnection();
    p.transport->abortConnection();
    p.transport->write("dropped");
  };
  server->hooks.lost = closeAgain;
  client->hooks.lost = closeAgain;
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_EQ(clientConn().lostCount, 1);
  EXPECT_EQ(client->rec->lost.size(), 1u);
}

TEST_F(Reentrancy, CloseInsideConnectionMadeBeforeAnyData) {
  client->hooks.made = [](Recorder& p) {
    p.transport->write("never mind");
    p.transport->abortConnection();
  };
  server->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().lostCount, 1);
  EXPECT_TRUE(clientConn().reason->check<ConnectionAborted>());
  EXPECT_EQ(serverConn().lostCount, 1);
}

// --- Stopping the reactor from inside callbacks ----------------------------------------------

TEST_F(Reentrancy, StopInsideDataReceived) {
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  server->hooks.data = [&](Recorder&, std::string_view) { reactor.stop(); };
  start();
  EXPECT_EQ(serverConn().data, "ping");
  EXPECT_EQ(serverConn().lostCount, 1) << "shutdown closes the connection, once";
  EXPECT_EQ(clientConn().lostCount, 1);
}

TEST_F(Reentrancy, StopInsideConnectionLost) {
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  server->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_EQ(clientConn().lostCount, 1);
}

TEST_F(Reentrancy, StopInsideClientConnectionLost) {
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  client->onLost = [&](Connector&, const Failure&) { reactor.stop(); };
  start();
  EXPECT_EQ(client->rec->lost.size(), 1u);
}

// --- Dropping the last user reference from inside callbacks ----------------------------------

TEST_F(Reentrancy, DropServerFactoryAndPortInsideDataReceived) {
  auto srec = server->rec;
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  server->hooks.data = [&](Recorder& p, std::string_view data) {
    port.reset();
    server.reset();
    p.transport->write(data);  // the protocol and transport are still alive
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().data, "ping");
  EXPECT_EQ(srec->conns.at(0)->lostCount, 1);
}

TEST_F(Reentrancy, StopListeningAndDropFactoryAndPortInsideDataReceived) {
  auto srec = server->rec;
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  server->hooks.data = [&](Recorder& p, std::string_view data) {
    port->stopListening();
    port.reset();
    server.reset();
    p.transport->write(data);
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(clientConn().data, "ping");
  EXPECT_EQ(srec->conns.at(0)->lostCount, 1);
  EXPECT_EQ(srec->stopped, 1);
}

TEST_F(Reentrancy, DropServerFactoryAndPortInsideConnectionLost) {
  auto srec = server->rec;
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  server->hooks.lost = [&](Recorder&, const Failure&) {
    port.reset();
    server.reset();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(srec->conns.at(0)->lostCount, 1);
}

TEST_F(Reentrancy, StopListeningAndDropFactoryAndPortInsideConnectionLost) {
  auto srec = server->rec;
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  server->hooks.lost = [&](Recorder&, const Failure&) {
    port->stopListening();
    port.reset();
    server.reset();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(srec->conns.at(0)->lostCount, 1);
  EXPECT_EQ(srec->stopped, 1);
}

TEST_F(Reentrancy, DropClientFactoryAndConnectorInsideDataReceived) {
  auto crec = client->rec;
  server->hooks.made = [](Recorder& p) { p.transport->write("hello"); };
  client->hooks.data = [&](Recorder& p, std::string_view) {
    connector.reset();
    client.reset();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(crec->conns.at(0)->data, "hello");
  EXPECT_EQ(crec->conns.at(0)->lostCount, 1);
  EXPECT_EQ(crec->lost.size(), 1u) << "the connector still tells its factory the connection ended";
}

TEST_F(Reentrancy, DropClientFactoryAndConnectorInsideConnectionLost) {
  auto crec = client->rec;
  server->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  client->hooks.lost = [&](Recorder&, const Failure&) {
    connector.reset();
    client.reset();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(crec->conns.at(0)->lostCount, 1);
  EXPECT_EQ(crec->lost.size(), 1u) << "clientConnectionLost follows the protocol's connectionLost";
}

TEST_F(Reentrancy, DropClientFactoryAndConnectorInsideClientConnectionLost) {
  auto crec = client->rec;
  server->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  client->onLost = [&](Connector&, const Failure&) {
    reactor.stop();
    connector.reset();
    client.reset();  // last statement: the lambda lives in the factory
  };
  start();
  EXPECT_EQ(crec->lost.size(), 1u);
}

TEST_F(Reentrancy, DropClientFactoryAndConnectorInsideClientConnectionFailed) {
  auto crec = client->rec;
  client->onFailed = [&](Connector&, const Failure&) {
    reactor.stop();
    connector.reset();
    client.reset();
  };
  connector = reactor.connectTCP("127.0.0.1", unusedPort(), client);
  reactor.run();
  EXPECT_EQ(crec->failed.size(), 1u);
}

TEST_F(Reentrancy, DropEverythingImmediatelyAfterConnecting) {
  // The caller keeps no handles at all: the reactor keeps the port, connector and factories.
  auto srec = server->rec;
  auto crec = client->rec;
  server->hooks.data = [](Recorder& p, std::string_view data) {
    p.transport->write(data);
    p.transport->loseConnection();
  };
  client->hooks.made = [](Recorder& p) { p.transport->write("echo me"); };
  client->onLost = [&](Connector&, const Failure&) { reactor.stop(); };
  {
    auto p = listenLocal(reactor, server);
    reactor.connectTCP("127.0.0.1", p->getHost().port(), client);
  }
  server.reset();
  client.reset();
  reactor.run();
  ASSERT_EQ(crec->conns.size(), 1u);
  EXPECT_EQ(crec->conns[0]->data, "echo me");
  EXPECT_EQ(crec->lost.size(), 1u);
}

// --- One connection closing another with events pending in the same batch --------------------

class CrossClose : public ::testing::Test {
 protected:
  /// Two raw clients; once both server connections are up, both raw clients send at once, so
  /// both server sockets are readable in the same epoll batch. The first server connection to
  /// get data closes the other with `close`; the victim must get no data after that.
  void run(std::function<void(Transport&)> close) {
    armWatchdog(reactor);
    auto server = std::make_shared<TestServerFactory>();
    rec = server->rec;
    server->hooks.made = [&](Recorder&) {
      if (rec->conns.size() == 2 && rec->conns[0]->made && rec->conns[1]->made) {
        reactor.callLater(0, [&] {
          ASSERT_EQ(::send(a.get(), "a", 1, MSG_NOSIGNAL), 1);
          ASSERT_EQ(::send(b.get(), "b", 1, MSG_NOSIGNAL), 1);
        });
      }
    };
    server->hooks.data = [&, close](Recorder& p, std::string_view) {
      if (closer) return;
      closer = p.rec;
      victim = rec->conns[0] == p.rec ? rec->conns[1] : rec->conns[0];
      ASSERT_TRUE(victim->transport);
      close(*victim->transport);
      victimDataAtClose = victim->data.size();
      reactor.callLater(0.01, [&] { stopIfRunning(reactor); });
    };
    auto port = listenLocal(reactor, server);
    a = rawConnect(port->getHost().port());
    b = rawConnect(port->getHost().port());
    ASSERT_TRUE(a && b);
    reactor.run();
  }

  Reactor reactor;
  Fd a, b;
  std::shared_ptr<FactoryRecord> rec;
  std::shared_ptr<ConnRecord> closer, victim;
  size_t victimDataAtClose = 0;
};

TEST_F(CrossClose, AbortAnotherConnectionWithItsEventPending) {
  run([](Transport& t) { t.abortConnection(); });
  ASSERT_TRUE(closer && victim);
  EXPECT_EQ(victimDataAtClose, 0u);
  EXPECT_EQ(victim->data, "") << "the aborted connection still got its pending data";
  EXPECT_EQ(victim->lostCount, 1);
  ASSERT_TRUE(victim->reason);
  EXPECT_TRUE(victim->reason->check<ConnectionAborted>()) << victim->reason->toString();
}

TEST_F(CrossClose, LoseAnotherConnectionWithItsEventPending) {
  run([](Transport& t) { t.loseConnection(); });
  ASSERT_TRUE(closer && victim);
  EXPECT_EQ(victim->data, "") << "loseConnection stops reading at once";
  EXPECT_EQ(victim->lostCount, 1);
}

TEST_F(CrossClose, StopTheReactorWithAnotherConnectionsEventPending) {
  run([this](Transport&) { reactor.stop(); });
  ASSERT_TRUE(closer && victim);
  EXPECT_EQ(closer->lostCount, 1);
  EXPECT_EQ(victim->lostCount, 1);
}

}  // namespace
}  // namespace spindle::test
