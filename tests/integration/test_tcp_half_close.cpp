// TCP half-close: loseWriteConnection() sends the FIN after the buffer drains and keeps reading;
// a HalfCloseableProtocol hears the peer's FIN as readConnectionLost() and may go on writing;
// once both halves are shut the connection ends with ConnectionDone. A protocol that did not opt
// in loses the whole connection at the peer's FIN, as before.
#include <stdexcept>

#include "half_close_support.hpp"
#include "leak_check.hpp"

namespace spindle::test {
namespace {

class TcpHalfClose : public TcpTest {
 protected:
  /// Listens, takes the leak baseline, connects, runs until every connection is gone and the
  /// leak check is done.
  void run(int losses = 2) {
    port = listenLocal(reactor, server);
    baseline_ = LeakBaseline();
    connector = connectTo(reactor, *port, client);
    for (Hooks* h : {&server->hooks, &client->hooks}) {
      auto previous = h->lost;
      h->lost = [this, previous, losses](Recorder& p, const Failure& reason) {
        if (previous) previous(p, reason);
        if (++losses_ < losses) return;
        // In a later step: the closed transports are freed at the end of this one.
        reactor.callLater(0, [this] {
          baseline_.expectNothingLeaked();
          stopIfRunning(reactor);
        });
      };
    }
    reactor.run();
  }

  std::shared_ptr<HalfCloseServerFactory> halfServer() {
    auto f = std::make_shared<HalfCloseServerFactory>();
    server = f;
    return f;
  }
  std::shared_ptr<HalfCloseClientFactory> halfClient() {
    auto f = std::make_shared<HalfCloseClientFactory>();
    client = f;
    return f;
  }

  static void expectDone(const ConnRecord& c, const char* who) {
    ASSERT_TRUE(c.reason) << who;
    EXPECT_TRUE(c.reason->check<ConnectionDone>()) << who << ": " << c.reason->toString();
    EXPECT_EQ(c.lostCount, 1) << who;
  }

 private:
  LeakBaseline baseline_;
  int losses_ = 0;
};

using Events = std::vector<std::string>;

TEST_F(TcpHalfClose, HalfCloseableServerAnswersAfterTheRequestEnds) {
  // The classic pattern: send the request, shut the write side, read the whole reply.
  const std::string request = makePayload(256 << 10, 3);
  const std::string reply = makePayload(4 << 20, 4);
  auto hs = halfServer();
  hs->half.readLost = [&](Recorder& p) {
    // Only now is the request known to be complete.
    p.transport->write(p.rec->data == request ? reply : "wrong request");
    p.transport->loseConnection();
  };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(request);
    p.transport->loseWriteConnection();
  };
  run();
  EXPECT_TRUE(serverConn().data == request) << "got " << serverConn().data.size() << " bytes";
  EXPECT_EQ(serverConn().events, (Events{"made", "data", "readLost", "lost"}));
  expectDone(serverConn(), "server");
  EXPECT_TRUE(clientConn().data == reply) << "got " << clientConn().data.size() << " bytes";
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, ServerThatDoesNotOptInLosesTheConnectionAtTheFin) {
  // An echo server that did not opt in: it answers what it read before the FIN (a few KiB, which
  // the kernel takes at once), then the FIN ends its connection; the half-closed client still
  // reads the answer.
  const std::string request = makePayload(4 << 10, 5);
  server->hooks.data = [](Recorder& p, std::string_view data) { p.transport->write(data); };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(request);
    p.transport->loseWriteConnection();
  };
  run();
  EXPECT_EQ(serverConn().events, (Events{"made", "data", "lost"}));
  expectDone(serverConn(), "server");
  EXPECT_TRUE(clientConn().data == request) << "got " << clientConn().data.size() << " bytes";
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, EachSideShutsItsHalfAndBothHearConnectionDone) {
  auto hs = halfServer();
  auto hc = halfClient();
  hs->half.readLost = [](Recorder& p) {
    p.transport->write("bye");
    p.transport->loseWriteConnection();
  };
  client->hooks.made = [](Recorder& p) {
    p.transport->write("hello");
    p.transport->loseWriteConnection();
  };
  run();
  EXPECT_EQ(serverConn().data, "hello");
  EXPECT_EQ(serverConn().events, (Events{"made", "data", "readLost", "writeLost", "lost"}));
  expectDone(serverConn(), "server");
  EXPECT_EQ(clientConn().data, "bye");
  EXPECT_EQ(clientConn().events, (Events{"made", "writeLost", "data", "readLost", "lost"}));
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, WritesBeforeTheShutdownAreSentAndWritesAfterItAreDropped) {
  auto hs = halfServer();
  auto hc = halfClient();
  std::size_t bufferedAfterLateWrites = 1;
  client->hooks.made = [](Recorder& p) {
    p.transport->write("one ");
    p.transport->loseWriteConnection();
    p.transport->write("two");           // same callback: the shutdown has not happened yet
    p.transport->loseWriteConnection();  // idempotent
  };
  hc->half.writeLost = [&](Recorder& p) {
    p.transport->write("three");
    p.transport->writeSequence({"four", "five"});
    bufferedAfterLateWrites = p.transport->bufferedSize();
    EXPECT_FALSE(p.transport->disconnecting()) << "a half-closed transport still reads";
  };
  hs->half.readLost = [](Recorder& p) {
    p.transport->write("got " + p.rec->data);
    p.transport->loseConnection();
  };
  run();
  EXPECT_EQ(serverConn().data, "one two");
  EXPECT_EQ(bufferedAfterLateWrites, 0u);
  EXPECT_EQ(clientConn().data, "got one two");
  EXPECT_EQ(countEvents(clientConn(), "writeLost"), 1);
  expectDone(clientConn(), "client");
  expectDone(serverConn(), "server");
}

TEST_F(TcpHalfClose, LoseWriteConnectionFlushesABigBufferFirst) {
  const std::string request = makePayload(16 << 20, 6);
  std::size_t buffered = 0;
  auto hs = halfServer();
  hs->half.readLost = [&](Recorder& p) {
    p.transport->write(p.rec->data == request ? "intact" : "damaged");
    p.transport->loseConnection();
  };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(request);
    p.transport->loseWriteConnection();
    buffered = p.transport->bufferedSize();
  };
  run();
  EXPECT_GT(buffered, 0u) << "the kernel took 16 MiB at once: the test proves nothing";
  EXPECT_EQ(serverConn().data.size(), request.size());
  EXPECT_EQ(clientConn().data, "intact");
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, ReadConnectionLostComesOnceEvenIfReadingIsResumed) {
  // Resuming after the FIN must not watch the socket again: epoll would report the end of the
  // stream at once and forever.
  auto hs = halfServer();
  hs->half.readLost = [&](Recorder& p) {
    p.transport->pauseProducing();
    p.transport->resumeProducing();
    Transport* t = p.transport;
    // Two hops of callLater(0): the second runs after the reactor has looked at I/O again.
    reactor.callLater(0, [this, t] {
      reactor.callLater(0, [t] {
        t->write("late answer");
        t->loseConnection();
      });
    });
  };
  client->hooks.made = [](Recorder& p) { p.transport->loseWriteConnection(); };
  run();
  EXPECT_EQ(countEvents(serverConn(), "readLost"), 1);
  EXPECT_EQ(clientConn().data, "late answer");
  expectDone(serverConn(), "server");
}

TEST_F(TcpHalfClose, LoseConnectionInsideWriteConnectionLostAfterThePeersFin) {
  // The listener shuts its write side when the peer's FIN comes, and closes when that is done;
  // the peer simply closes (Twisted's test_doubleHalfClose).
  auto hs = halfServer();
  hs->half.readLost = [](Recorder& p) { p.transport->loseWriteConnection(); };
  hs->half.writeLost = [](Recorder& p) { p.transport->loseConnection(); };
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  run();
  EXPECT_EQ(serverConn().events, (Events{"made", "readLost", "writeLost", "lost"}));
  expectDone(serverConn(), "server");
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, AnExceptionInReadConnectionLostClosesWithIt) {
  LogCapture log;
  auto hs = halfServer();
  hs->half.readLost = [](Recorder&) { throw std::runtime_error("no more requests, no answer"); };
  client->hooks.made = [](Recorder& p) { p.transport->loseWriteConnection(); };
  run();
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<std::runtime_error>()) << serverConn().reason->toString();
  EXPECT_EQ(serverConn().reason->getErrorMessage(), "no more requests, no answer");
  EXPECT_TRUE(log.containsError({"readConnectionLost", "no more requests"})) << log.dump();
  expectDone(clientConn(), "client");
}

TEST_F(TcpHalfClose, AWrappedProtocolHearsTheHalfClose) {
  // ProtocolWrapper (here a WrappingFactory's) passes half-close events to the protocol inside.
  auto inner = std::make_shared<HalfCloseServerFactory>();
  inner->half.readLost = [](Recorder& p) {
    p.transport->write("answer");
    p.transport->loseConnection();
  };
  auto wrapping = std::make_shared<WrappingFactory>(inner);
  client->hooks.made = [](Recorder& p) {
    p.transport->write("question");
    p.transport->loseWriteConnection();
  };
  int losses = 0;
  client->hooks.lost = [&](Recorder&, const Failure&) {
    if (++losses == 1) stopIfRunning(reactor);
  };
  port = listenLocal(reactor, wrapping);
  connector = connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(inner->rec->conns.size(), 1u);
  EXPECT_EQ(inner->rec->conns[0]->events, (Events{"made", "data", "readLost", "lost"}));
  EXPECT_EQ(clientConn().data, "answer");
  expectDone(clientConn(), "client");
}

}  // namespace
}  // namespace spindle::test
