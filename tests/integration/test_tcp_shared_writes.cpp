// Transport::write(const SharedBytes&) on real TCP connections: the bytes arrive whole and in
// order among copied writes, and what the kernel does not take is held by reference until sent.
#include "support.hpp"

namespace spindle::test {
namespace {

using TcpSharedWrites = TcpTest;

constexpr double kQuiet = 0.05;  // the reader stays paused this long, so the writer must buffer

// Pauses the server's reading for kQuiet after connectionMade, then lets it read everything.
void pauseReaderAtFirst(Reactor& reactor, TestServerFactory& server) {
  server.hooks.made = [&reactor](Recorder& p) {
    p.transport->pauseProducing();
    auto rec = p.rec;
    reactor.callLater(kQuiet, [rec] { rec->transport->resumeProducing(); });
  };
}

TEST_F(TcpSharedWrites, SharedBytesArriveWholeAndInOrderAmongCopiedWrites) {
  const SharedBytes big1(makePayload(3 << 20, 1));
  const SharedBytes big2(makePayload(5 << 20, 2));
  const SharedBytes small(std::string("a short shared piece"));
  const std::string copied = makePayload(100000, 3);
  std::string expected;
  pauseReaderAtFirst(reactor, *server);
  client->hooks.made = [&](Recorder& p) {
    auto w = [&](auto&& bytes) {
      p.transport->write(bytes);
      if constexpr (std::is_same_v<std::decay_t<decltype(bytes)>, SharedBytes>) {
        expected.append(bytes.view());
      } else {
        expected.append(bytes);
      }
    };
    w(std::string("head"));
    w(big1);
    w(std::string("middle"));
    w(small);
    p.transport->writeSequence({"x", "yz"});
    expected.append("xyz");
    w(big2.substr(1000, 2 << 20));
    w(copied);
    w(big1.substr(3 << 20));  // empty: writes nothing
    w(big2);
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().data.size(), expected.size());
  EXPECT_TRUE(serverConn().data == expected) << "every byte once, in the order written";
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>());
}

TEST_F(TcpSharedWrites, TheTransportHoldsAReferenceNotACopyUntilSent) {
  auto poem = std::make_shared<const std::string>(makePayload(16 << 20));
  std::size_t bufferedAfterWrite = 0;
  long refsWhileBuffered = 0;
  pauseReaderAtFirst(reactor, *server);
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(SharedBytes(poem));
    bufferedAfterWrite = p.transport->bufferedSize();
    refsWhileBuffered = poem.use_count();
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  ASSERT_GT(bufferedAfterWrite, 0u) << "a paused reader cannot have taken 16 MiB at once";
  EXPECT_EQ(refsWhileBuffered, 2) << "the transport keeps the poem itself, not a copy";
  EXPECT_EQ(poem.use_count(), 1) << "and lets it go once sent";
  EXPECT_TRUE(serverConn().data == *poem);
}

TEST_F(TcpSharedWrites, AnAbortedConnectionLetsItsReferencesGo) {
  auto poem = std::make_shared<const std::string>(makePayload(16 << 20));
  long refsWhileBuffered = 0;
  server->hooks.made = [](Recorder& p) { p.transport->pauseProducing(); };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(SharedBytes(poem));
    refsWhileBuffered = poem.use_count();
    p.transport->abortConnection();
  };
  stopAfterLosses(1);  // the paused server does not read, so it hears of the reset only later
  start();
  EXPECT_EQ(refsWhileBuffered, 2);
  EXPECT_EQ(poem.use_count(), 1);
  EXPECT_TRUE(clientConn().reason->check<ConnectionAborted>());
}

}  // namespace
}  // namespace spindle::test
