// Transport::disconnecting() and loseConnection(reason) on real TCP transports.
#include "support.hpp"

namespace spindle::test {
namespace {

using TcpCloseReason = TcpTest;

TEST_F(TcpCloseReason, DisconnectingFollowsLoseConnection) {
  std::vector<bool> seen;
  server->hooks.made = [&](Recorder& p) {
    seen.push_back(p.transport->disconnecting());
    p.transport->write("bye");
    p.transport->loseConnection();
    seen.push_back(p.transport->disconnecting());
  };
  server->hooks.lost = [&](Recorder& p, const Failure&) {
    seen.push_back(p.transport->disconnecting());
  };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(seen, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(clientConn().data, "bye");
}

TEST_F(TcpCloseReason, DisconnectingFollowsAbortConnection) {
  bool before = true, after = false;
  client->hooks.made = [&](Recorder& p) {
    before = p.transport->disconnecting();
    p.transport->abortConnection();
    after = p.transport->disconnecting();
  };
  stopAfterLosses(2);
  start();
  EXPECT_FALSE(before);
  EXPECT_TRUE(after);
}

TEST_F(TcpCloseReason, DisconnectingOnceThePeerClosed) {
  bool inLost = false;
  client->hooks.made = [](Recorder& p) { p.transport->loseConnection(); };
  server->hooks.lost = [&](Recorder& p, const Failure&) { inLost = p.transport->disconnecting(); };
  stopAfterLosses(2);
  start();
  EXPECT_TRUE(inLost);
}

TEST_F(TcpCloseReason, LoseConnectionWithAReasonFlushesAndReportsIt) {
  const std::string payload = makePayload(2 << 20);
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    p.transport->loseConnection(Failure(ProtocolError("bad frame from peer")));
  };
  stopAfterLosses(2);
  start();
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ProtocolError>()) << serverConn().reason->toString();
  EXPECT_EQ(serverConn().reason->getErrorMessage(), "bad frame from peer");
  EXPECT_TRUE(clientConn().data == payload) << "loseConnection(reason) still flushes";
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(clientConn().reason->check<ConnectionDone>())
      << "the peer sees a clean close: " << clientConn().reason->toString();
}

TEST_F(TcpCloseReason, TheFirstReasonWins) {
  server->hooks.made = [&](Recorder& p) {
    p.transport->loseConnection(Failure(ProtocolError("first")));
    p.transport->loseConnection(Failure(ProtocolError("second")));
    p.transport->loseConnection();
  };
  client->hooks.made = [&](Recorder& p) {
    p.transport->loseConnection();
    p.transport->loseConnection(Failure(ProtocolError("too late")));
  };
  stopAfterLosses(2);
  start();
  ASSERT_TRUE(serverConn().reason);
  EXPECT_EQ(serverConn().reason->getErrorMessage(), "first");
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(clientConn().reason->check<ConnectionDone>()) << clientConn().reason->toString();
  ASSERT_EQ(client->rec->lost.size(), 1u);
  EXPECT_TRUE(client->rec->lost[0].check<ConnectionDone>())
      << "clientConnectionLost gets the protocol's reason";
}

TEST_F(TcpCloseReason, AbortAfterLoseConnectionWithAReasonStillAborts) {
  // abortConnection is the stronger close: the buffered bytes are dropped at once.
  const std::string payload = makePayload(32 << 20);
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    p.transport->loseConnection(Failure(ProtocolError("closing")));
    p.transport->abortConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_LT(clientConn().data.size(), payload.size());
  EXPECT_EQ(serverConn().lostCount, 1);
}

}  // namespace
}  // namespace spindle::test
